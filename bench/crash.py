"""The SIGKILL harness: kill `glossdb add` and `glossdb search` at random points, reopen,
finish, and compare with an uninterrupted run.

    python -m bench.crash --runs 20        # the long version (bench/results/reliability.json)

Each run builds a small corpus, runs `glossdb add` (load, chunk, embed, gloss) and searches
that write judgments under the fake model with a per-batch delay (so kills land in the middle
of model work), kills each process with SIGKILL after a random delay several times, then runs
it to completion. The index must pass `PRAGMA integrity_check`, and its chunks, glosses and
judgments must equal the uninterrupted run's: nothing lost, nothing doubled.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUERIES = ("river delta sediment", "orbital velocity", "yeast dough rise")
TOPICS = ("river delta sediment", "orbital rocket velocity", "yeast dough bread", "cat sleep",
          "glacier ice flow", "copper wire current", "tidal moon pull", "owl night hunt")


def corpus(root: Path, files: int = 48) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        topic = TOPICS[i % len(TOPICS)]
        (root / f"note{i:03d}.md").write_text(
            f"# Note {i} on {topic}\n\n" + "\n\n".join(
                f"Paragraph {p} of note {i} says something about {topic} and item {i * 7 + p}."
                for p in range(3)) + "\n")
    return root


def env(delay: float) -> dict[str, str]:
    return {**os.environ, "GLOSSDB_BACKEND": "fake", "GLOSSDB_FAKE_DELAY_S": str(delay),
            "GLOSSDB_EMBEDDER": "hashing"}


def glossdb(*args: str, delay: float = 0.0) -> list[str]:
    return [sys.executable, "-m", "glossdb", *args]


def run(args: list[str], delay: float, kill_after: float | None = None) -> int | None:
    """Run one command; with ``kill_after`` SIGKILL it then (None: it finished first)."""
    proc = subprocess.Popen(glossdb(*args), env=env(delay), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    if kill_after is None:
        _, err = proc.communicate(timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(f"glossdb {' '.join(args)} failed: {err.strip()}")
        return proc.returncode
    try:
        proc.wait(timeout=kill_after)
        return proc.returncode  # finished before the kill
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return None


def snapshot(path: Path) -> dict:
    """What must survive: integrity, chunks, glosses and judgments, keyed by content."""
    db = sqlite3.connect(path)
    try:
        check = db.execute("PRAGMA integrity_check").fetchone()[0]
        chunks = sorted(db.execute(
            "SELECT d.uri, c.ordinal, c.content_hash FROM chunks c JOIN documents d"
            " ON d.id = c.document_id").fetchall())
        glosses = sorted(db.execute(
            "SELECT c.content_hash, g.text FROM glosses g JOIN chunks c ON c.id = g.chunk_id"
        ).fetchall())
        judgments = sorted(db.execute(
            "SELECT j.query, c.content_hash, round(j.score, 6) FROM judgments j"
            " JOIN chunks c ON c.id = j.chunk_id").fetchall())
        vectors = db.execute("SELECT count(*) FROM vectors").fetchone()[0]
    finally:
        db.close()
    return {"integrity": check, "chunks": chunks, "glosses": glosses,
            "judgments": judgments, "vectors": vectors}


def steps(index: Path, docs: Path) -> list[list[str]]:
    return [["add", str(docs), "-i", str(index)]] + [
        ["search", q, "-i", str(index), "-k", "3", "--explain"] for q in QUERIES]


def work(index: Path, docs: Path, delay: float, kills: list[list[float]]) -> tuple[int, list]:
    """add, then the searches; step n is killed at each delay of ``kills[n]`` before it runs
    to the end. Returns how many kills landed (the process had not finished) and each
    step's seconds when it ran to the end."""
    landed, seconds = 0, []
    for n, step in enumerate(steps(index, docs)):
        for k in (kills[n] if kills else []):
            landed += run(step, delay, kill_after=k) is None
        t = time.perf_counter()
        run(step, delay)
        seconds.append(time.perf_counter() - t)
    return landed, seconds


def crash_run(workdir: Path, seed: int, kills: int = 4, delay: float = 0.15) -> dict:
    rng = random.Random(seed)
    docs = corpus(workdir / "docs")
    ref = workdir / "ref.glossdb"
    timing = workdir / "ref-seconds.json"
    if not ref.exists():
        timing.write_text(json.dumps(work(ref, docs, delay, [])[1]))
    durations = json.loads(timing.read_text())
    target = workdir / f"crash-{seed}.glossdb"
    # kill each step at random points of its uninterrupted run (start-up included)
    delays = [[rng.uniform(0.1, 0.95 * d) for _ in range(kills)] for d in durations]
    t = time.perf_counter()
    landed, _ = work(target, docs, delay, delays)
    want, got = snapshot(ref), snapshot(target)
    same = {k: want[k] == got[k] for k in ("chunks", "glosses", "judgments", "vectors")}
    return {"seed": seed, "kills": sum(map(len, delays)), "kills_landed": landed,
            "integrity": got["integrity"], **same, "ok": got["integrity"] == "ok"
            and all(same.values()), "seconds": round(time.perf_counter() - t, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--kills", type=int, default=4)
    args = ap.parse_args()
    work_dir = Path(tempfile.mkdtemp(prefix="glossdb-crash-"))
    rows = []
    for seed in range(args.runs):
        rows.append(crash_run(work_dir, seed, args.kills))
        print(rows[-1], flush=True)
    out = Path(__file__).resolve().parent / "results" / "crash.json"
    out.write_text(json.dumps({"runs": rows, "crash_runs": len(rows),
                               "kills_landed": sum(r["kills_landed"] for r in rows),
                               "lost_or_duplicated": sum(not r["ok"] for r in rows)},
                              indent=2) + "\n")


if __name__ == "__main__":
    main()
