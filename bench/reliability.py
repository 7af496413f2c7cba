"""Issue 11's figures in one file: crash runs, fuzz cases, load, prompt injection.

    python -m bench.reliability --crash-runs 20 --fuzz-examples 300 --requests 400

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

from . import crash, load, scifact
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--crash-runs", type=int, default=20)
    ap.add_argument("--fuzz-examples", type=int, default=300)
    ap.add_argument("--requests", type=int, default=400)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="glossdb-rel-"))
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
    out = {"crash_runs": len(runs), "kills": sum(r["kills"] for r in runs),
           "kills_landed": sum(r["kills_landed"] for r in runs),
           "lost_or_duplicated": sum(not r["ok"] for r in runs),
           "integrity_ok": sum(r["integrity"] == "ok" for r in runs), **fz,
           "tracebacks": fz["fuzz_tracebacks"], **ld,
           "injection_top1_rate": inj.get("injection_top1_rate"),
           "neutral_top1_rate": inj.get("neutral_top1_rate"),
           "injection_queries": inj.get("queries"),
           "machine": scifact.machine(), "date": scifact.today(), "crash_detail": runs}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "reliability.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k not in ("crash_detail", "per_kind")},
                     indent=2))


if __name__ == "__main__":
    main()
