"""How the judge's per-token log-probabilities become one score: the plain mean (default)
against means weighted by each query word's rarity in the collection (idf), and clipped
pointwise mutual information (each token's log-probability minus its log-probability after
an empty passage, negative gains counted as zero).

    python -m bench.studies.judge_idf --set scifact:train --queries 200 --representation gloss-f445bb9b2b

Candidates and inputs as search has them (the prefilter's top 10; the gloss, else the lead).
Prints nDCG@10 of each score alone and fused with the prior as search fuses (weight 2), on
all queries and on alternate halves A/B.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter

from tqdm import tqdm

from glossdb.judge import content_tokens, ql_request, words
from glossdb.ranking import rank

from .. import scifact
from ..hybrid import Collection, open_study, study_arguments


def doc_freq(c: Collection) -> tuple[Counter, int]:
    chunks = c.ix.store.get_chunks(c.ix.store.chunk_ids())
    df = Counter()
    for ch in chunks.values():
        df.update(set(re.findall(r"\w+", ch.text.lower())))
    return df, len(chunks)


def content_words(model, query: str) -> list[str]:
    """The words of the query tokens the judge scores (:func:`content_tokens`), in order,
    tokenized as the judge's continuation is."""
    ids = model.tokenize(ql_request("", query).continuation)
    pieces = [model.token_bytes(t).decode("utf-8", "replace") for t in ids]
    flags = content_tokens(pieces)
    return [re.sub(r"\W+", "", word) for i, word in words(pieces) if flags[i]]


def main() -> None:
    args = study_arguments("scifact:train", 200).parse_args()
    c, qids = open_study(args)
    df, n = doc_freq(c)
    judge, rep = c.ix.judge(), c.ix.representation()
    model, template = c.ix.model("judge"), judge.spec.ql_template
    data = {}
    for qid in tqdm(qids, desc="judging"):
        query = c.queries[qid]
        found = c.ix.prefilter.candidates(query, args.depth)
        chunks = c.ix.store.get_chunks(f.chunk_id for f in found)
        glosses = c.ix.store.glosses(rep.id, chunks)
        texts = [judge.candidate_text(chunks[f.chunk_id], glosses.get(f.chunk_id))
                 for f in found]
        # one batch: the empty passage (each token's baseline) and every candidate
        empty, *per = model.logprobs([ql_request(t, query, template) for t in ["", *texts]])
        idf = [math.log(1 + (n - df[w] + 0.5) / (df[w] + 0.5))
               for w in content_words(model, query)]
        data[qid] = (found, dict(zip([f.chunk_id for f in found], per)), empty, idf)

    def score(kind: str, lps, empty, idf) -> float:
        if len(lps) != len(idf):  # tokenization of the words disagreed: plain mean
            mismatched.add(id(lps))
            return statistics.fmean(lps)
        if kind == "mean":
            return statistics.fmean(lps)
        if kind == "idf":
            return sum(w * x for w, x in zip(idf, lps)) / sum(idf)
        if kind == "pmi+":
            return statistics.fmean(max(0.0, x - e) for x, e in zip(lps, empty))
        if kind == "idf·pmi+":
            return sum(w * max(0.0, x - e) for w, x, e in zip(idf, lps, empty)) / sum(idf)
        raise ValueError(kind)

    rows, mismatched = [], set()
    for kind in ("mean", "idf", "pmi+", "idf·pmi+"):
        for w in (0.0, 2.0):
            r = {"score": kind, "weight": w}
            for half, qs in (("all", qids), ("A", qids[::2]), ("B", qids[1::2])):
                vals = []
                for q in qs:
                    found, per, empty, idf = data[q]
                    s = {cid: score(kind, lps, empty, idf) for cid, lps in per.items()}
                    vals.append(scifact.ndcg_at(c.docs_of(rank(found, s, w)), c.qrels[q]))
                r[half] = round(statistics.fmean(vals), 4)
            rows.append(r)
    prior = statistics.fmean(scifact.ndcg_at(c.docs_of([f.chunk_id for f in data[q][0]]),
                                             c.qrels[q]) for q in qids)
    print(f"prior alone {prior:.4f}; representation {rep.name}; {len(mismatched)} of"
          f" {sum(len(d[1]) for d in data.values())} pairs fell back to the plain mean")
    print(scifact.markdown_table(rows, list(rows[0])))


if __name__ == "__main__":
    main()
