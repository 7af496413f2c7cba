"""The reliability figures in one file: crash runs, fuzz cases, load, prompt injection, and
(issue 21) the multi-process fault harness, disk faults, long-query memory and cheap
requests during real model calls.

    python -m bench.reliability --crash-runs 20 --fuzz-examples 300 --requests 400
    python -m bench.reliability --only faults,real-load,query-memory   # refresh those keys

``--only`` reruns the named parts and keeps the file's other figures: ``faults``
(bench/faults.py: ``--fault-runs`` runs of ``--fault-seconds``, ``--disk-runs`` of each
disk fault), ``real-load`` (bench.load with the embedded models, ``--real-seconds``),
``query-memory`` (reads bench/results/query-memory.json, made by `python -m
bench.query_memory`), ``crash``, ``fuzz``, ``load``.

Runs the SIGKILL harness (bench/crash.py), the hypothesis and schemathesis suites with more
examples than CI (counting the examples hypothesis reports), and the load run
(bench/load.py); reads the injection figures from bench/results/injection.json (made by
`python -m bench.injection`, which needs the embedded models). Writes
bench/results/reliability.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from . import crash, faults, load, scifact
from .hybrid import RESULTS

ROOT = Path(__file__).resolve().parents[1]


def fuzz(examples: int) -> dict:
    env = {**os.environ, "GLOSSDB_FUZZ_EXAMPLES": str(examples),
           "GLOSSDB_API_EXAMPLES": str(examples)}
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "--hypothesis-show-statistics", "tests/test_fuzz.py",
                          "tests/test_api_schema.py"], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    text = out.stdout + out.stderr
    cases = sum(int(n) for n in re.findall(r"(\d+) passing(?: examples)?,", text))
    failing = sum(int(n) for n in re.findall(r"(\d+) failing(?: examples)?,", text))
    summary = text.strip().splitlines()[-1] if text.strip() else ""
    return {"fuzz_cases": cases, "fuzz_failing": failing, "fuzz_exit": out.returncode,
            "fuzz_tracebacks": text.count("Traceback (most recent call last)"),
            "fuzz_summary": summary}


def classic(args, work: Path) -> dict:
    """Crash runs, fuzz cases, load under the fake model, and the injection figures."""
    runs = [crash.crash_run(work / "crash", seed) for seed in range(args.crash_runs)]
    for r in runs:
        print(r, flush=True)
    fz = fuzz(args.fuzz_examples)
    print(fz, flush=True)
    with load.Server(work / "load", delay=0.2) as server:
        ld = load.run_load(server.url, args.requests, clients=8)
    print(ld, flush=True)
    inj_path = RESULTS / "injection.json"
    inj = json.loads(inj_path.read_text()) if inj_path.exists() else {}
    return {"crash_runs": len(runs), "kills": sum(r["kills"] for r in runs),
            "kills_landed": sum(r["kills_landed"] for r in runs),
            "lost_or_duplicated": sum(not r["ok"] for r in runs),
            "integrity_ok": sum(r["integrity"] == "ok" for r in runs), **fz,
            "tracebacks": fz["fuzz_tracebacks"], **ld,
            "injection_top1_rate": inj.get("injection_top1_rate"),
            "neutral_top1_rate": inj.get("neutral_top1_rate"),
            "injection_queries": inj.get("queries"), "crash_detail": runs}


def fault_figures(args, work: Path) -> dict:
    summary = faults.summarise(faults.multiprocess_runs(work / "faults", args.fault_runs,
                                                        args.fault_seconds),
                               faults.disk_runs(work / "disk", args.disk_runs))
    return {**summary, "fault_seconds_per_run": args.fault_seconds}


def real_load(args, work: Path) -> dict:
    with load.Server(work / "real-load", delay=0, real=True) as server:
        return load.during_model_calls(server.url, args.real_seconds)


def query_memory(_args, _work: Path) -> dict:
    data = json.loads((RESULTS / "query-memory.json").read_text())
    return {"max_rss_ratio_long_query": data["max_rss_ratio_long_query"],
            "long_query_tokens": sorted({r["tokens"] for r in data["rows"]}),
            "long_query_errors": data["errors"]}


PARTS = {"classic": classic, "faults": fault_figures, "real-load": real_load,
         "query-memory": query_memory}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--crash-runs", type=int, default=20)
    ap.add_argument("--fuzz-examples", type=int, default=300)
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--fault-runs", type=int, default=50)
    ap.add_argument("--fault-seconds", type=float, default=8.0)
    ap.add_argument("--disk-runs", type=int, default=5)
    ap.add_argument("--real-seconds", type=float, default=60.0)
    ap.add_argument("--only", default=",".join(PARTS),
                    help=f"comma-separated parts to rerun, of {', '.join(PARTS)}")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="glossdb-rel-"))
    path = RESULTS / "reliability.json"
    out = json.loads(path.read_text()) if path.exists() else {}
    for part in args.only.split(","):
        out.update(PARTS[part](args, work))
        out.update({"machine": scifact.machine(), "date": scifact.today()})
        RESULTS.mkdir(exist_ok=True)
        path.write_text(json.dumps(out, indent=2) + "\n")  # each part kept as it finishes
    print(json.dumps({k: v for k, v in out.items() if not k.endswith("_detail")
                      and k != "per_kind"}, indent=2))


if __name__ == "__main__":
    main()
