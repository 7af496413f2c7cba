"""The headline table, rebuilt and checked (after pyserini's reproduction matrix).

    python -m bench reproduce              # both sets; exit 1 when a figure is off
    python -m bench reproduce --fresh      # first delete the collections' built indexes
    python -m bench reproduce --sets cranfield:test --no-judge   # the cheap rows only

Runs bench.hybrid's systems (BM25, MiniLM, their RRF, the glossdb prefilter and the glossdb
default, judged cold) on SciFact test and Cranfield and compares each nDCG@10 with
bench/expected/headline.json, within its tolerance. The glossdb default reads the glosses of
the committed gloss cache (bench/cache/glosses-<version>.jsonl.gz), the same file every run,
so the figure does not depend on what a machine happened to gloss before. ``--write``
stores the table as bench/results/hybrid.json too.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from . import corpus_index, scifact
from .hybrid import RESULTS, Collection, compare, set_spec

EXPECTED = Path(__file__).resolve().parent / "expected" / "headline.json"


def check(rows: list[dict], expected: dict) -> list[dict]:
    """Each expected figure beside the one measured: (set, system, want, got, ok)."""
    got = {(r["set"], r["system"]): r["ndcg@10"] for r in rows}
    out = []
    for e in expected["rows"]:
        key = (e["set"], e["system"])
        if key not in got:
            continue
        tolerance = e.get("tolerance", expected["tolerance"])
        value = got[key]
        out.append({"set": e["set"], "system": e["system"], "expected": e["ndcg@10"],
                    "measured": value, "tolerance": tolerance,
                    "ok": abs(value - e["ndcg@10"]) <= tolerance})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench reproduce")
    ap.add_argument("--sets", default="scifact:test,cranfield:test",
                    type=lambda s: [set_spec(x) for x in s.split(",")])
    ap.add_argument("--fresh", action="store_true",
                    help="rebuild the collections' indexes (load and embed) from nothing")
    ap.add_argument("--no-judge", action="store_true", help="only the systems without an LLM")
    ap.add_argument("--write", action="store_true", help="also write bench/results/hybrid.json")
    args = ap.parse_args(argv)
    if args.fresh:
        shutil.rmtree(corpus_index.RAW, ignore_errors=True)
    expected = json.loads(EXPECTED.read_text())
    rows = []
    for name, split in args.sets:
        c = Collection(name, split, cold=True)
        rows += compare(c, 10, c.ix.config.fusion_weight, not args.no_judge)
    checked = check(rows, expected)
    print(scifact.markdown_table(checked, ["set", "system", "expected", "measured",
                                           "tolerance", "ok"]))
    if args.write:
        (RESULTS / "hybrid.json").write_text(json.dumps(rows, indent=2) + "\n")
    failed = [c for c in checked if not c["ok"]]
    print(f"{len(checked) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed or not checked else 0


if __name__ == "__main__":
    sys.exit(main())
