"""The judge's cue by query form (not adopted): "Question:" after the candidate for a query
that is a question, the default "Finding:" otherwise; same candidates, scored afresh.

    python -m bench.studies.judge_cue --set cranfield:test

Prints nDCG@10 of the default pipeline with the default cue and with the cue by form.
"""

from __future__ import annotations

import argparse
import re
import statistics
from dataclasses import replace

from glossdb.judge import QL_PREFIX, Judge
from glossdb.ranking import rank

from .. import scifact
from ..hybrid import Collection, set_spec

QUESTION = re.compile(r"^\s*(what|how|why|when|where|which|who|whose|whom|is|are|was|were|"
                      r"does|do|did|can|could|should|would|will|has|have|had)\b", re.I)


def is_question(query: str) -> bool:
    return bool(QUESTION.match(query)) or query.strip().endswith("?")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", default="cranfield:test", type=set_spec, help="collection:split")
    ap.add_argument("--weight", type=float, default=2.0)
    args = ap.parse_args()
    c = Collection(*args.set)
    judge, rep = c.ix.judge(), c.ix.representation()
    asking = Judge(c.ix.store, judge.model,
                   replace(judge.spec, ql_template=QL_PREFIX + " {candidate}\nQuestion:"))
    candidates, _ = c.prefilter(10)
    ndcg: dict[str, list[float]] = {"default cue": [], "cue by form": []}
    questions = 0
    for qid, found in candidates.items():
        query, ids = c.queries[qid], [f.chunk_id for f in found]
        chunks = c.ix.store.get_chunks(ids)
        glosses = c.ix.store.glosses(rep.id, chunks)
        texts = [judge.candidate_text(chunks[i], glosses.get(i)) for i in ids]
        default = dict(zip(ids, judge.score_uncached(query, texts)))
        by_form = default
        if is_question(query):
            questions += 1
            by_form = dict(zip(ids, asking.score_uncached(query, texts)))
        for key, scores in (("default cue", default), ("cue by form", by_form)):
            ndcg[key].append(scifact.ndcg_at(c.docs_of(rank(found, scores, args.weight)),
                                             c.qrels[qid]))
    print({k: round(statistics.fmean(v), 4) for k, v in ndcg.items()},
          f"{questions} of {len(candidates)} queries are questions")


if __name__ == "__main__":
    main()
