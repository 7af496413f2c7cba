"""Does a pair's judge score depend on the batch it is decoded in? (issue 25)

    python -m bench.studies.batch_numerics --adapter bench/cache/adapters/labels-listwise-r8.gguf

The first SciFact train claim against the leads of the first ``--passages`` corpus
passages, scored by the judge (the trained one with ``--adapter``, exact scoring) in one
batch, in batches of 5, one at a time, and in one batch again. Prints the largest and mean
differences of each pair's score between the ways; writes nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from .. import scifact
from ..corpus_index import RAW


def main() -> None:
    from glossdb.backends.llamacpp import LlamaCppModel
    from glossdb.judge import relevance_request, relevance_score

    ap = argparse.ArgumentParser()
    ap.add_argument("--adapter", required=True)
    ap.add_argument("--passages", type=int, default=40)
    args = ap.parse_args()
    with open(RAW / "scifact.jsonl") as fh:
        docs = [json.loads(line) for _, line in zip(range(args.passages), fh)]
    claim = scifact.queries()[sorted(scifact.qrels("train"), key=int)[0]]
    model = LlamaCppModel("gemma3-270m", lora_path=str(Path(args.adapter).resolve()))
    reqs = [relevance_request((d["title"] + ". " + d["text"])[:240], claim) for d in docs]

    def scored(groups):
        return [relevance_score(a) for g in groups for a in model.logprobs(g)]
    whole = scored([reqs])
    ways = {"one at a time": scored([[r] for r in reqs]),
            "batches of 5": scored([reqs[i:i + 5] for i in range(0, len(reqs), 5)]),
            "one batch again": scored([reqs])}
    for name, scores in ways.items():
        diff = [abs(a - b) for a, b in zip(whole, scores)]
        print(f"{name:16} vs one batch of {len(reqs)}: max {max(diff):.4f}, "
              f"mean {statistics.fmean(diff):.4f} (log-odds)")


if __name__ == "__main__":
    main()
