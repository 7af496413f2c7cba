"""Which judge input and fusion rank best? A quick study on SciFact *train* queries.

    python -m bench.rerank --queries 30 --depth 10

Uses the documents whose glosses are already in bench/cache/ (see bench/core.py) as the
corpus, so no gloss is generated here. For each train query with a relevant document in that
corpus, the prefilter (FTS5 BM25 over text) proposes the top `depth` chunks, and each variant
re-ranks them:

* bm25: the prefilter order itself,
* judge(text), judge(gloss), judge(title+gloss): query likelihood over that input,
* fusion: z-scored judge plus w * z-scored BM25, w from a small grid (train only).

Prints nDCG@10 and tokens per judged pair for each, and writes bench/results/rerank-depth<N>[-gloss].json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from glossdb import Index
from glossdb.backends.base import ScoreRequest
from glossdb.judge import Judge, JudgeSpec
from glossdb.ranking import fused_scores

from . import gloss_cache, scifact

RESULTS = Path(__file__).resolve().parent / "results"


def build_index(work: Path, docs: list[dict]) -> Index:
    ix = Index(work / "rerank.glossdb")
    src = scifact.write_jsonl(work / "docs.jsonl", docs)
    ix.add([src], gloss=False)
    gloss_cache.import_glosses(ix)
    return ix


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=350)
    ap.add_argument("--queries", type=int, default=30)
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--gloss-only", action="store_true", help="skip the raw-text judge")
    ap.add_argument("--logodds", action="store_true",
                    help="also try yes/no log-odds judging over glosses (query first)")
    ap.add_argument("--template", default=None,
                    help="query-likelihood template with {candidate} (default: glossdb's)")
    args = ap.parse_args()
    from .core import pick_docs

    docs = pick_docs(args.docs)
    ix = build_index(Path(tempfile.mkdtemp(prefix="glossdb-rerank-")), docs)
    rep = ix.representation()
    chunks = ix.store.get_chunks(ix.store.chunk_ids())
    glossed = ix.store.glosses(rep.id, chunks)
    if len(glossed) < len(chunks):
        raise SystemExit(f"only {len(glossed)} of {len(chunks)} chunks have cached glosses; "
                         "run python -m bench.core first")
    qrels = scifact.qrels("train")
    texts = scifact.queries()
    ids = {d["_id"] for d in docs}
    qids = [q for q in qrels if set(qrels[q]) & ids][: args.queries]
    model = ix.model("judge")
    extra = {"ql_template": args.template} if args.template else {}
    variants = {
        "judge(text)": JudgeSpec(reads="text", **extra),
        "judge(title+gloss)": JudgeSpec(reads="gloss", **extra),
    }
    if args.gloss_only:
        del variants["judge(text)"]
    if args.logodds:
        variants["logodds(title+gloss)"] = JudgeSpec(reads="gloss")
    runs: dict[str, list[tuple[str, list[tuple[str, float, float]]]]] = {v: [] for v in variants}
    cost: dict[str, list[float]] = {v: [] for v in variants}
    bm25_runs = []
    for qid in qids:
        query = texts[qid]
        cands = ix.prefilter.candidates(query, args.depth)
        cand_chunks = [chunks[c.chunk_id] for c in cands]
        doc_of = [c.uri.rsplit("#", 1)[1] for c in cand_chunks]
        bm25 = [c.prefilter_score for c in cands]
        bm25_runs.append((qid, doc_of))
        for name, spec in variants.items():
            judge = (LogOddsJudge if name.startswith("logodds") else Judge)(ix.store, model, spec)
            inputs = [judge.candidate_text(c, glossed.get(c.id)) for c in cand_chunks]
            before = model.tokens_evaluated
            t = time.perf_counter()
            scores = judge.score_uncached(query, inputs)
            cost[name].append((model.tokens_evaluated - before) / max(1, len(inputs)))
            cost[name].append(time.perf_counter() - t)
            runs[name].append((qid, list(zip(doc_of, scores, bm25))))
    calibrate(ix, model, runs, qids, texts, qrels, variants["judge(title+gloss)"])
    rows = [{"system": "bm25 (FTS5 prefilter)", "ndcg@10": _ndcg(bm25_runs, qrels)}]
    for name in variants:
        ranked = [(qid, [d for d, s, _ in sorted(c, key=lambda x: -x[1])]) for qid, c in runs[name]]
        rows.append({"system": name, "ndcg@10": _ndcg(ranked, qrels),
                     "tokens_per_pair": round(statistics.fmean(cost[name][::2]), 1)})
        for w in (0.5, 1.0, 2.0, 3.0, 4.0):
            fused = []
            for qid, c in runs[name]:
                z = fused_scores([s for _, s, _ in c], [b for *_, b in c], w)
                fused.append((qid, [d for (d, _, _), _ in sorted(zip(c, z), key=lambda x: -x[1])]))
            rows.append({"system": f"{name} + {w}*bm25", "ndcg@10": _ndcg(fused, qrels)})
    if "judge(text)" in runs:
        rows += cascade_rows(runs, qrels, cost)
    for r in rows:
        r.update({"split": "train", "queries": len(qids), "depth": args.depth,
                  "representation": rep.name, "model": ix.config.model})
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"rerank-depth{args.depth}{'-gloss' if args.gloss_only else ''}.json"
    out.write_text(json.dumps(rows, indent=2) + "\n")
    print(scifact.markdown_table(rows, ["system", "ndcg@10", "tokens_per_pair", "queries"]))


LOGODDS = "Query: {query}\nPassage: {candidate}\nDoes the passage answer the query? Answer:"


class LogOddsJudge(Judge):
    """Yes/no log-odds: log p(" Yes") - log p(" No") after a query-first prompt, so the
    instructions and the query form the prefix every candidate shares."""

    def score_uncached(self, query, texts, progress=None):
        prefix = LOGODDS.split("{candidate}")[0].format(query=query.strip()).rstrip(" ")
        contexts = [LOGODDS.format(query=query.strip(), candidate=t) for t in texts]
        answers = self.model.logprobs([ScoreRequest(c, word, prefix) for c in contexts
                                       for word in (" Yes", " No")])
        return [sum(answers[2 * i]) - sum(answers[2 * i + 1]) for i in range(len(texts))]


def cascade_rows(runs, qrels, cost) -> list[dict]:
    """Scan glosses (fused with BM25), then let the top m read raw text and re-order them."""
    rows = []
    text_of = {qid: {d: s for d, s, _ in c} for qid, c in runs["judge(text)"]}
    for w_scan in (2.0, 3.0):
        for m in (3, 5):
            ranked = []
            for qid, c in runs["judge(title+gloss)"]:
                z = fused_scores([s for _, s, _ in c], [b for *_, b in c], w_scan)
                order = [x for _, x in sorted(zip(z, c), key=lambda t: -t[0])]
                head = order[:m]
                zt = fused_scores([text_of[qid][d] for d, _, _ in head], [b for *_, b in head], 0.5)
                head = [x for _, x in sorted(zip(zt, head), key=lambda t: -t[0])]
                ranked.append((qid, [d for d, _, _ in head + order[m:]]))
            gloss_tokens = statistics.fmean(cost["judge(title+gloss)"][::2])
            text_tokens = statistics.fmean(cost["judge(text)"][::2])
            rows.append({"system": f"cascade: gloss+{w_scan}*bm25 scan, top-{m} read text",
                         "ndcg@10": _ndcg(ranked, qrels),
                         "tokens_per_pair": round(gloss_tokens + m / 10 * text_tokens, 1)})
    return rows


def calibrate(ix, model, runs, qids, texts, qrels, spec) -> None:
    """Lift (score minus the empty-passage baseline) of relevant vs other candidates, and
    the verdict threshold with the best F1 on these train pairs."""
    judge = Judge(ix.store, model, spec)
    pairs = []
    for qid, (_, cands) in zip(qids, runs["judge(title+gloss)"]):
        base = judge.baseline(texts[qid])
        pairs += [(s - base, qrels[qid].get(d, 0) > 0) for d, s, _ in cands]
    rel = [x for x, r in pairs if r]
    other = [x for x, r in pairs if not r]
    best = max((f1(pairs, t), t) for t in sorted({round(x, 1) for x, _ in pairs}))
    print(f"lift: relevant mean {statistics.fmean(rel):.2f} (n={len(rel)}), "
          f"others mean {statistics.fmean(other):.2f} (n={len(other)}); "
          f"best F1 {best[0]:.2f} at lift >= {best[1]}")


def f1(pairs, threshold) -> float:
    tp = sum(1 for x, r in pairs if r and x >= threshold)
    fp = sum(1 for x, r in pairs if not r and x >= threshold)
    fn = sum(1 for x, r in pairs if r and x < threshold)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def _ndcg(runs, qrels) -> float:
    out = []
    for qid, ranked in runs:
        seen = list(dict.fromkeys(ranked))
        out.append(scifact.ndcg_at(seen, qrels[qid]))
    return round(statistics.fmean(out), 4)


if __name__ == "__main__":
    main()
