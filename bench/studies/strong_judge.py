"""A stronger judge, zero-shot: Qwen2.5-Coder 1.5B asked whether a passage is relevant
(log p("Yes") after its own chat template), over the prefilter's candidates, alone and fused
with the hybrid prior as search fuses them (issue 23, "a stronger judge from PyPI").

    python -m bench.studies.strong_judge --set scifact:train --queries 30   # choose here
    python -m bench.studies.strong_judge --set cranfield:test --queries 60  # check only

Each candidate is read as its text cut to ``--chars`` (the 1.5B model is a teacher or a
last stage, not the first judge: it reads the passage, not the gloss). Scores are kept in
bench/cache/pairs/strong-<set>-<chars>.jsonl.gz so a rerun with other weights is free.
Writes bench/results/strong-judge.json.
"""

from __future__ import annotations

import gzip
import json
import statistics
import time
from pathlib import Path

from tqdm import tqdm

from glossdb.backends.base import ScoreRequest
from glossdb.backends.llamacpp import LlamaCppModel
from glossdb.describe import passage_text
from glossdb.judge import relevance_score
from glossdb.ranking import rank

from .. import gloss_cache, scifact
from ..hybrid import Collection, open_study, study_arguments

RESULTS = Path(__file__).resolve().parents[1] / "results"
SYSTEM = ("You are a search relevance judge. Given a search query and a passage, answer "
          "Yes if the passage is relevant to the query (it answers it or is about what the "
          "query asks), otherwise No. Answer with one word.")
USER = "Query: {query}\n\nPassage: {passage}\n\nIs the passage relevant to the query?"
WEIGHTS = (0.0, 0.5, 1.0, 2.0, 3.0)


def requests(model: LlamaCppModel, query: str, passages: list[str]) -> list[ScoreRequest]:
    prefix = model.chat_prompt(SYSTEM, USER.format(query=query, passage="\x00")).split("\x00")[0]
    return [ScoreRequest(model.chat_prompt(SYSTEM, USER.format(query=query, passage=p)),
                         "Yes", prefix, exact=True) for p in passages]


def score(c: Collection, qids: list[str], depth: int, chars: int, cache: Path) -> dict:
    done = {}
    if cache.exists():
        with gzip.open(cache, "rt") as fh:
            for line in fh:
                r = json.loads(line)
                done[r["q"]] = r
    todo = [q for q in qids if q not in done]
    if todo:
        model = LlamaCppModel("qwen2.5-coder-1.5b", n_ctx=8192, shortlist=0)
        with gzip.open(cache, "at") as fh:
            for q in tqdm(todo, desc=f"1.5B judge {c.name}"):
                found = c.ix.prefilter.candidates(c.queries[q], depth)
                chunks = c.ix.store.get_chunks(f.chunk_id for f in found)
                ids = [f.chunk_id for f in found]
                t = time.perf_counter()
                lps = model.logprobs(requests(model, c.queries[q],
                                              [passage_text(chunks[i], chars) for i in ids]))
                row = {"q": q, "ids": ids, "scores": [relevance_score(lp) for lp in lps],
                       "s": time.perf_counter() - t}
                fh.write(json.dumps(row) + "\n")
                fh.flush()
                done[q] = row
    return {q: done[q] for q in qids}


def ndcg(c: Collection, runs: dict, weight: float | None, depth: int) -> float:
    vals = []
    for q, r in runs.items():
        found = c.ix.prefilter.candidates(c.queries[q], 100)
        judged = found[:depth]
        if weight is None:
            order = [f.chunk_id for f in found]
        else:
            order = rank(judged, dict(zip(r["ids"], r["scores"])), weight) + [
                f.chunk_id for f in found[depth:]]
        vals.append(scifact.ndcg_at(c.docs_of(order), c.qrels[q]))
    return round(statistics.fmean(vals), 4)


def main() -> None:
    ap = study_arguments("scifact:train", 30)
    ap.add_argument("--chars", type=int, default=1000)
    args = ap.parse_args()
    c, qids = open_study(args)
    if args.set == ("scifact", "train"):
        from ..judge_train import split_train

        dev = set(split_train(list(c.queries))[1])
        qids = [q for q in c.queries if q in dev]
        qids = qids[:: max(1, len(qids) // args.queries)][: args.queries]
    name = f"{args.set[0]}-{args.set[1]}-{args.chars}"
    runs = score(c, qids, args.depth, args.chars,
                 gloss_cache.CACHE / "pairs" / f"strong-{name}.jsonl.gz")
    rows = [{"system": "prefilter alone", "weight": "-",
             "ndcg@10": ndcg(c, runs, None, args.depth)}]
    for w in WEIGHTS:
        rows.append({"system": "1.5B yes/no", "weight": w, "ndcg@10": ndcg(c, runs, w, args.depth)})
    print(scifact.markdown_table(rows, list(rows[0])))
    secs = [r["s"] for r in runs.values()]
    print(f"{len(qids)} queries, depth {args.depth}, {args.chars} chars, "
          f"p50 {statistics.median(secs):.2f} s a query")
    out = RESULTS / "strong-judge.json"
    data = json.loads(out.read_text()) if out.exists() else {}
    data[name] = {"queries": len(qids), "depth": args.depth, "chars": args.chars,
                  "p50_s": round(statistics.median(secs), 2), "rows": rows}
    out.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()
