"""Glosses of benchmark corpora, cached per representation version in bench/cache/.

Files are gzipped JSONL sorted by content hash, one per representation version, so a re-run
of a benchmark never regenerates a gloss it already has (glossing 5k abstracts takes hours on
two cores) and a change of prompt or model shows up as a new file.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from glossdb import Index

CACHE = Path(__file__).resolve().parent / "cache"


def cache_file(representation: str) -> Path:
    return CACHE / f"glosses-{representation}.jsonl.gz"


def load(representation: str) -> list[dict]:
    path = cache_file(representation)
    if not path.exists():
        return []
    with gzip.open(path, "rt") as fh:
        return [json.loads(line) for line in fh]


def import_glosses(ix: Index, searchable: bool = True) -> int:
    return ix.import_glosses(load(ix.representation().name), searchable=searchable)


def export_glosses(ix: Index) -> Path:
    return merge(ix.representation().name, ix.export_glosses())


def merge(representation: str, new_rows: list[dict]) -> Path:
    """Add rows {representation, content_hash, gloss} to the version's cache file."""
    rows = {r["content_hash"]: r for r in load(representation)}
    rows.update({r["content_hash"]: r for r in new_rows})
    path = cache_file(representation)
    CACHE.mkdir(exist_ok=True)
    with gzip.GzipFile(path, "wb", mtime=0) as raw:
        for h in sorted(rows):
            raw.write((json.dumps(rows[h], ensure_ascii=False) + "\n").encode())
    return path


def timing_file(representation: str) -> Path:
    return CACHE / f"timing-{representation}.json"


def record_timing(representation: str, seconds: float, glosses: int) -> None:
    """Add measured glossing time to the version's running total (committed beside the cache)."""
    path = timing_file(representation)
    total = json.loads(path.read_text()) if path.exists() else {"seconds": 0.0, "glosses": 0}
    total = {"seconds": round(total["seconds"] + seconds, 2), "glosses": total["glosses"] + glosses}
    path.write_text(json.dumps(total) + "\n")


def seconds_per_gloss(representation: str) -> float:
    """Measured writer seconds per gloss, or 0.0 when this version was never timed here."""
    path = timing_file(representation)
    if not path.exists():
        return 0.0
    total = json.loads(path.read_text())
    return total["seconds"] / total["glosses"] if total["glosses"] else 0.0


def carry(ix: Index, old: str, new: str | None = None) -> int:
    """Fill the cache of ``ix``'s writer version from version ``old``'s, for the chunks of
    ``ix`` (or version ``new``'s): each gloss finished (glossdb.describe.finish_gloss). Exact when the two versions
    differ only by finishing (same model, prompt and decoding; the writer applies it to the
    gloss it generated), as 3c5f4bfe06 -> its finished successor: a passage that gives
    instructions (its gloss is rewritten after finishing) is left to be glossed again."""
    from glossdb.describe import INSTRUCTION, finish_gloss

    chunks = {c.content_hash: c for c in ix.store.get_chunks(ix.store.chunk_ids()).values()}
    new = new or ix.representation().name
    rows = [{"representation": new.removeprefix("faithfulness-"), "content_hash": r["content_hash"],
             "gloss": finish_gloss(r["gloss"], chunks[r["content_hash"]])}
            for r in load(old) if r["content_hash"] in chunks
            and not INSTRUCTION.search(chunks[r["content_hash"]].text)]
    merge(new, rows)
    return len(rows)


def main() -> None:
    """python -m bench.gloss_cache carry OLD_VERSION COLLECTION…"""
    import argparse

    from .corpus_index import open_index

    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["carry"])
    ap.add_argument("old")
    ap.add_argument("collections", nargs="+")
    args = ap.parse_args()
    old = {r["content_hash"]: r["gloss"] for r in load(args.old)}
    for name in args.collections:
        ix, _ = open_index(name)
        before = {r["content_hash"] for r in load(ix.representation().name)}
        n = carry(ix, args.old)
        changed = sum(1 for r in load(ix.representation().name)
                      if r["content_hash"] not in before and r["gloss"] != old[r["content_hash"]])
        print(f"{name}: {n} glosses carried from {args.old} to {ix.representation().name}, "
              f"{changed} of the newly carried changed by finishing")
        ix.close()


if __name__ == "__main__":
    main()
