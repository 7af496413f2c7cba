"""Issue 2's numbers: glosses per second at ingest and seconds per query on a ~500-chunk index.

    python -m bench.core --docs 350 --queries 20

Builds an index of SciFact abstracts (the documents judged relevant to train queries first,
then others) with the default models, times `add`, then times searches for train queries:
cold (every pair judged) and warm (judgments cached). Prints a table and writes
bench/results/core.json. Glosses are kept in bench/cache/ by content hash, so a re-run can
skip glossing (--reuse-glosses) and time only search.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from glossdb import Index

from . import scifact
from .gloss_cache import export_glosses, import_glosses

RESULTS = Path(__file__).resolve().parent / "results"


def pick_docs(n: int) -> list[dict]:
    docs = scifact.corpus()
    wanted = [d for q in scifact.qrels("train").values() for d in q]
    order = list(dict.fromkeys(wanted)) + [d for d in docs if d not in set(wanted)]
    return [docs[d] for d in order[:n]]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=350)
    ap.add_argument("--queries", type=int, default=20)
    ap.add_argument("--reuse-glosses", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="glossdb-core-"))
    docs = pick_docs(args.docs)
    src = scifact.write_jsonl(work / "scifact.jsonl", docs)
    bars = _progress()
    ix = Index(work / "core.glossdb")
    if args.reuse_glosses:
        ix.add([src], gloss=False)
        import_glosses(ix)
    started = time.perf_counter()
    report = ix.add([src], progress=bars)
    ingest_s = time.perf_counter() - started
    chunks = ix.store.counts()["chunks"]
    export_glosses(ix)
    qs = scifact.queries()
    train = [qid for qid in scifact.qrels("train") if any(d in {x["_id"] for x in docs}
                                                          for d in scifact.qrels("train")[qid])]
    cold, warm = [], []
    for qid in train[: args.queries]:
        t = time.perf_counter()
        ix.search(qs[qid], k=10)
        cold.append(time.perf_counter() - t)
        t = time.perf_counter()
        ix.search(qs[qid], k=10)
        warm.append(time.perf_counter() - t)
    row = {
        "chunks": chunks, "documents": len(docs), "glosses_written": report.glosses_written,
        "ingest_s": round(ingest_s, 1),
        "glosses_per_s": round(report.glosses_written / ingest_s, 3) if report.glosses_written else None,
        "queries": len(cold), "candidates": ix.config.candidates,
        "p50_search_cold_s": round(statistics.median(cold), 2),
        "mean_search_cold_s": round(statistics.fmean(cold), 2),
        "p50_search_cached_s": round(statistics.median(warm), 3),
        "judge_model": ix.config.model, "gloss_model": ix.config.writer_model(),
        "representation": ix.representation().name, "machine": scifact.machine(),
        "date": scifact.today(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "core.json").write_text(json.dumps(row, indent=2) + "\n")
    print(scifact.markdown_table([row], ["chunks", "glosses_per_s", "ingest_s", "queries",
                                         "p50_search_cold_s", "p50_search_cached_s",
                                         "judge_model", "gloss_model"]))
    ix.close()


def _progress():
    from tqdm import tqdm

    def factory(label, total):
        return tqdm(total=total, desc=label, mininterval=30).update
    return factory


if __name__ == "__main__":
    main()
