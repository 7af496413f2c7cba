"""A glossdb index of a whole benchmark collection, built once and kept in bench/cache/raw/.

Chunks and internal vectors are computed on first use and timed apart (the seconds are kept
beside the file, so ingest cost per chunk is reported without re-running it); cached glosses
are attached without entering the full-text index, so candidates do not shift as the gloss
cache grows.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

from glossdb import Index

from . import beir, gloss_cache, scifact

RAW = gloss_cache.CACHE / "raw"


def open_index(name: str, **settings) -> tuple[Index, dict]:
    """The collection's index and its build timings {chunks, load_s, embed_s}."""
    RAW.mkdir(parents=True, exist_ok=True)
    path = RAW / f"{name}.glossdb"
    timing = path.with_suffix(".timing.json")
    if not (path.exists() and timing.exists()):
        timing.write_text(json.dumps(build(name, path)) + "\n")
    ix = Index(path, **settings)
    gloss_cache.import_glosses(ix, searchable=False)
    return ix, timings(name)


def timings(name: str) -> dict:
    """The build timings :func:`open_index` recorded for the collection."""
    return json.loads((RAW / f"{name}.timing.json").read_text())


def build(name: str, path: Path) -> dict:
    """Load and chunk the collection (no glosses), then embed every chunk; time each."""
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)
    src = scifact.write_jsonl(RAW / f"{name}.jsonl", list(beir.dataset(name).corpus().values()))
    ix = Index(path)
    t = time.perf_counter()
    plain = Index(path, config=replace(ix.config, embedder=""))
    plain.add([src], gloss=False)
    plain.close()
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    ix.embed()
    embed_s = time.perf_counter() - t
    chunks = ix.store.counts()["chunks"]
    ix.close()
    return {"chunks": chunks, "load_s": round(load_s, 2), "embed_s": round(embed_s, 2)}


def cold_copy(name: str, dest: Path) -> Path:
    """A copy of the collection's index without stored judgments, baselines, query log or
    adapted cut-off: searches on it are cold and the usage starts from nothing."""
    import sqlite3

    for stale in (dest, Path(f"{dest}-wal"), Path(f"{dest}-shm")):  # an old WAL would replay
        stale.unlink(missing_ok=True)
    ix, _ = open_index(name)
    db = sqlite3.connect(dest)
    ix.store.db.backup(db)  # through SQLite: a file copy would drop this process's locks
    ix.close()
    with db:
        for table in ("judgments", "query_baselines", "query_log"):
            db.execute(f"DELETE FROM {table}")
        db.execute("DELETE FROM settings WHERE key = 'cutoff'")
    db.close()
    return dest
