"""Judged pairs per second: in-process llama.cpp vs the same model behind a local
OpenAI-compatible server (llama-cpp-python's, started here on 127.0.0.1).

    python -m bench.backends --pairs 8

Both judge the same (query, candidate) pairs with query likelihood; the table shows pairs/s
and the largest score difference between the two.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


from glossdb.backends.llamacpp import LlamaCppModel
from glossdb.backends.openai_compat import OpenAICompatModel
from glossdb.judge import ql_request, ql_score
from glossdb.backends.local_server import start_llama_cpp_server

from . import scifact

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=8)
    ap.add_argument("--port", type=int, default=8799)
    args = ap.parse_args()
    docs = list(scifact.corpus().values())[: args.pairs]
    query = scifact.queries()["3"]
    requests = [ql_request(f"{d['title']}. {d['text'][:240]}", query) for d in docs]
    local = LlamaCppModel("gemma3-270m")
    t = time.perf_counter()
    ours = [ql_score(x) for x in local.logprobs(requests)]
    local_s = time.perf_counter() - t
    proc, url = start_llama_cpp_server("gemma3-270m", args.port)
    try:
        remote = OpenAICompatModel("gemma3-270m", base_url=url,
                                   timeout_s=600, concurrency=1)
        t = time.perf_counter()
        theirs = [ql_score(x) for x in remote.logprobs(requests)]
        remote_s = time.perf_counter() - t
    finally:
        proc.terminate()
    tokens = sum(local.count_tokens(r.context + r.continuation) for r in requests) / len(requests)
    rows = [
        {"backend": "llamacpp in-process", "pairs": len(requests),
         "pairs_per_s": round(len(requests) / local_s, 3), "tokens_per_pair": round(tokens, 1)},
        {"backend": "openai -> llama_cpp.server", "pairs": len(requests),
         "pairs_per_s": round(len(requests) / remote_s, 3), "tokens_per_pair": round(tokens, 1),
         "max_score_diff": round(max(abs(a - b) for a, b in zip(ours, theirs)), 4)},
    ]
    for r in rows:
        r.update({"model": "gemma3-270m", "machine": scifact.machine(), "date": scifact.today()})
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "backends.json").write_text(json.dumps(rows, indent=2) + "\n")
    print(scifact.markdown_table(rows, ["backend", "pairs", "pairs_per_s", "tokens_per_pair",
                                        "max_score_diff"]))


if __name__ == "__main__":
    main()
