"""What a long query costs: peak memory and time of one search by query length and script.

    python -m bench.query_memory            # about 3 minutes; bench/results/query-memory.json

Each search runs in a fresh process on the same small index (examples/docs, not glossed, so
the judge reads each candidate's lead) with the embedded judge, and reports its peak RSS
(``ru_maxrss``, model load included) and seconds. Queries are made to an exact token count
of the judge's tokenizer in three scripts: English words, single digits separated by spaces
(one token each, every one a content word), and CJK characters. The ordinary search is a
10-token English question; ``max_rss_ratio_long_query`` is the largest ratio of a 10-2,000
token query's peak RSS to it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from . import scifact

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
LENGTHS = (10, 100, 500, 1000, 2000)
SCRIPTS = ("english", "digits", "cjk")

CHILD = r"""
import json, resource, sys, time
from glossdb import Index
index, script, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
ix = Index.open(index)
model = ix.model("judge")
english = ("does vitamin d supplementation prevent bone fractures in older adults while "
           "bread dough rises because yeast ferments sugar and the write ahead log keeps "
           "readers apart from one writer so ownership rules free memory ").split()
cjk = "数据库检索模型判断查询文本相关性解释为什么匹配光合作用植物叶绿素面包发酵酵母"
def make(k):
    if script == "english":
        return " ".join(english[i % len(english)] for i in range(k))
    if script == "digits":
        return " ".join(str((i * 7) % 10) for i in range(k))
    return "".join(cjk[i % len(cjk)] for i in range(k))
k = n
while model.count_tokens(make(k)) > n and k > 1:
    k -= max(1, (model.count_tokens(make(k)) - n) // 2)
while model.count_tokens(make(k + 1)) <= n:
    k += 1
query = make(k)
t = time.perf_counter()
error = None
try:
    hits = ix.search(query, k=5)
except Exception as exc:
    hits, error = [], f"{type(exc).__name__}: {exc}"
print(json.dumps({"script": script, "tokens": model.count_tokens(query),
                  "characters": len(query), "seconds": round(time.perf_counter() - t, 2),
                  "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                                      / 1024, 1), "hits": len(hits), "error": error}))
"""


def build_index(work: Path) -> Path:
    index = work / "memory.glossdb"
    subprocess.run([sys.executable, "-m", "glossdb", "add", str(ROOT / "examples" / "docs"),
                    "-i", str(index), "--gloss", "later"], check=True, capture_output=True)
    return index


def measure(index: Path, script: str, tokens: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(index), script, str(tokens)],
                         capture_output=True, text=True, timeout=1200)
    if out.returncode != 0:
        return {"script": script, "tokens": tokens, "error": out.stderr.strip()[-400:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lengths", default=",".join(map(str, LENGTHS)))
    ap.add_argument("--scripts", default=",".join(SCRIPTS))
    args = ap.parse_args()
    index = build_index(Path(tempfile.mkdtemp(prefix="glossdb-qmem-")))
    ordinary = measure(index, "english", 10)
    print(ordinary, flush=True)
    rows = []
    for script in args.scripts.split(","):
        for n in map(int, args.lengths.split(",")):
            rows.append(measure(index, script, n))
            rows[-1]["rss_ratio"] = round(rows[-1].get("max_rss_mb", 0)
                                          / ordinary["max_rss_mb"], 3)
            print(rows[-1], flush=True)
    out = {"ordinary": ordinary, "rows": rows,
           "max_rss_ratio_long_query": max(r["rss_ratio"] for r in rows),
           "errors": sum(r.get("error") is not None for r in rows),
           "machine": scifact.machine(), "date": scifact.today()}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "query-memory.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "rows"}, indent=2))


if __name__ == "__main__":
    main()
