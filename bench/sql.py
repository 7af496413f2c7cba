"""Issue 25: LLM matching inside SQL, batched against row at a time.

    python -m bench.sql --rows 500

On the SciFact bench index (cold copy: no stored judgments), one statement orders ``--rows``
chunks by ``glossdb_match(claim, id)`` for a few SciFact train claims: once judged row by row
as SQLite calls the function (``Index.sql(batched=False)``, today's behaviour before
issue 25), once batched (a collecting pass, one batch per claim, the answering pass), each
on its own cold copy. Reports seconds, the speedup, and whether the top k agree (the judge's
batch tolerance: scores within 0.05). Writes bench/results/sql.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from . import corpus_index, scifact
from .hybrid import RESULTS
from .judge_train import trained_judge

STATEMENT = ("SELECT c.id, glossdb_match(?, c.id) AS s FROM chunks c WHERE c.id IN "
             "(SELECT id FROM chunks ORDER BY id LIMIT ?) ORDER BY s DESC LIMIT ?")


def run(claims: list[str], rows: int, k: int, batched: bool, adapter: str = ""
        ) -> tuple[float, list, dict]:
    from glossdb import Index

    dest = corpus_index.RAW / f"scifact-sql-{'batched' if batched else 'rows'}.glossdb"
    ix = Index(corpus_index.cold_copy("scifact", dest), **trained_judge(adapter))
    ix.model("judge")  # loaded before the clock starts
    started = time.perf_counter()
    tops, calls = [], []
    for claim in claims:
        _, out = ix.sql(STATEMENT, (claim, rows, k), batched=batched)
        tops.append(out)
        calls.append(dict(ix.last_sql_calls))
    seconds = time.perf_counter() - started
    ix.close()
    return seconds, tops, {"calls": calls}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=500)
    ap.add_argument("--claims", type=int, default=3)
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--adapter", default="", help="a trained judge version (bench.judge_train)")
    args = ap.parse_args()
    queries, train = scifact.queries(), scifact.qrels("train")
    claims = [queries[q] for q in sorted(train, key=int)[: args.claims]]
    row_s, row_tops, row_info = run(claims, args.rows, args.k, False, args.adapter)
    batch_s, batch_tops, batch_info = run(claims, args.rows, args.k, True, args.adapter)
    agree = []
    for a, b in zip(row_tops, batch_tops):
        sa, sb = dict(a), dict(b)
        same = {i for i in sa if i in sb and abs(sa[i] - sb[i]) <= 0.05}
        agree.append(len(same) / max(len(sa), 1))
    out = {"rows": args.rows, "claims": len(claims), "k": args.k,
           "judge": f"trained ({Path(args.adapter).stem})" if args.adapter else "shipped",
           "row_at_a_time_s": round(row_s, 2), "batched_s": round(batch_s, 2),
           "batched_speedup": round(row_s / batch_s, 2),
           "top_k_agreement": [round(x, 3) for x in agree],
           "row_calls": row_info["calls"], "batched_calls": batch_info["calls"],
           "machine": scifact.machine(), "date": scifact.today()}
    path = RESULTS / "sql.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    print(json.dumps(out))
    if args.adapter:  # a second judge's figures sit beside the default's
        old.setdefault("by_judge", {})[out["judge"]] = out
        out = {}
    path.write_text(json.dumps({**old, **out}, indent=1) + "\n")


if __name__ == "__main__":
    main()
