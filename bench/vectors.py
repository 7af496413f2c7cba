"""Where internal vectors live and how fast they are searched, at 10k and 100k chunks.

    python -m bench.vectors --sizes 10000,100000

Vectors are float16 blobs in the index file, searched exactly with one numpy matrix product
over a float32 copy held in memory (reloaded only when the vectors change). Measures: file
bytes per vector, seconds to load the matrix from SQLite, and the median seconds of one
top-100 search. sqlite-vec, the alternative, needs a Python whose sqlite3 can load
extensions; this machine's cannot (`enable_load_extension` is missing), which the bench
records rather than skips silently. Writes bench/results/vectors.json.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from glossdb.store import SQLiteStore
from glossdb.store.vectors import VectorStore

from . import scifact

RESULTS = Path(__file__).resolve().parent / "results"
DIM = 384


def fill(store: SQLiteStore, n: int, rng: np.random.Generator) -> None:
    """n chunk rows with random unit vectors (search cost does not depend on the values)."""
    with store.transaction():
        store.db.execute("INSERT INTO documents (uri, content_hash) VALUES ('synthetic', '-')")
        store.db.executemany(
            "INSERT INTO chunks (id, document_id, ordinal, text, start_char, end_char,"
            " content_hash) VALUES (?, 1, ?, '', 0, 0, '-')", [(i, i) for i in range(1, n + 1)])
    vs = VectorStore(store)
    version = vs.ensure_embedder("synthetic", DIM)
    for start in range(0, n, 10000):
        ids = list(range(start + 1, min(n, start + 10000) + 1))
        vecs = rng.standard_normal((len(ids), DIM)).astype(np.float32)
        vs.put(version.id, ids, vecs / np.linalg.norm(vecs, axis=1, keepdims=True))


def measure(n: int) -> dict:
    rng = np.random.default_rng(0)
    work = Path(tempfile.mkdtemp(prefix="glossdb-vectors-"))
    store = SQLiteStore(work / "v.glossdb")
    fill(store, n, rng)
    vs = VectorStore(store)
    version = vs.embedders()[0][0]
    t = time.perf_counter()
    ids, mat = vs.matrix(version)
    load_s = time.perf_counter() - t
    times = []
    for _ in range(20):
        q = rng.standard_normal(DIM).astype(np.float32)
        t = time.perf_counter()
        vs.search(version, q / np.linalg.norm(q), 100)
        times.append(time.perf_counter() - t)
    size = (work / "v.glossdb").stat().st_size + (work / "v.glossdb-wal").stat().st_size
    store.close()
    return {"chunks": n, "bytes_per_vector_in_file": round(size / n), "load_s": round(load_s, 3),
            "search_p50_s": round(statistics.median(times), 5),
            "memory_mb": round(mat.nbytes / 2**20, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000")
    args = ap.parse_args()
    rows = [measure(int(n)) for n in args.sizes.split(",")]
    loadable = hasattr(sqlite3.connect(":memory:"), "enable_load_extension")
    print(scifact.markdown_table(rows, list(rows[0])))
    print(f"sqlite-vec usable here: {loadable}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "vectors.json").write_text(json.dumps(
        {"rows": rows, "sqlite_extensions_loadable": loadable, "machine": scifact.machine(),
         "date": scifact.today()}, indent=2) + "\n")


if __name__ == "__main__":
    main()
