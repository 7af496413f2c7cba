"""`glossdb serve` under bounded load from concurrent clients on 127.0.0.1.

    python -m bench.load --requests 400 --clients 8

Starts a real server (fake model with a per-batch delay standing in for model time, so the
run measures the server, not the model) over a small corpus, then sends a fixed number of
requests from concurrent clients: stats, chunk views, searches that are cached, and new
searches. Reports errors (any status other than 200) and p50/p90 seconds per kind; the
point is that cheap requests do not queue behind model calls.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from .crash import corpus, env

KINDS = ("stats", "chunk", "cached search", "new search")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A real `glossdb serve` subprocess on a free loopback port, stopped on exit."""

    def __init__(self, workdir: Path, delay: float, index: str | None = None,
                 add: bool = True, real: bool = False):
        """Serve ``index`` (default: a file in ``workdir``), after adding the test corpus to
        it unless ``add`` is false (a second replica of an index that has it). ``real``:
        the embedded models on examples/docs (glossed first), no background glossing."""
        workdir.mkdir(parents=True, exist_ok=True)
        index = index or str(workdir / "load.glossdb")
        environment = dict(os.environ) if real else env(delay)
        if add:
            docs = (Path(__file__).resolve().parents[1] / "examples" / "docs" if real
                    else corpus(workdir / "docs", files=24))
            subprocess.run([sys.executable, "-m", "glossdb", "add", str(docs), "-i", index],
                           env=environment, check=True, capture_output=True)
        self.index, self.real, self.delay = index, real, delay
        self.start()

    def start(self) -> None:
        environment = dict(os.environ) if self.real else env(self.delay)
        self.url = f"http://127.0.0.1:{free_port()}"
        extra = ["--no-gloss-in-background"] if self.real else []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "glossdb", "serve", "-i", self.index, "--port",
             self.url.rsplit(":", 1)[1], *extra], env=environment, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                if httpx.get(self.url + "/api/stats", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("glossdb serve did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)

    def restart(self) -> None:
        """Stop and start again on the same index, with the environment as it is now."""
        self.stop()
        self.start()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_load(url: str, requests: int, clients: int, seed: int = 0) -> dict:
    rng = random.Random(seed)
    cached = ["river delta sediment", "orbital rocket velocity", "yeast dough bread"]
    with httpx.Client(timeout=120) as c:
        for q in cached:  # warm: these are cached searches from now on
            c.get(url + "/api/search", params={"q": q, "k": 3})
        ids = [h["chunk_id"] for h in c.get(url + "/api/search",
                                             params={"q": "note", "k": 10}).json()["hits"]]
    plan = [(rng.choice(KINDS), i) for i in range(requests)]
    results: list[tuple[str, int, float]] = []
    lock = threading.Lock()

    def client(part: list[tuple[str, int]]) -> None:
        with httpx.Client(timeout=300) as c:
            for kind, i in part:
                if kind == "stats":
                    path, params = "/api/stats", {}
                elif kind == "chunk":
                    path, params = f"/api/chunks/{rng.choice(ids)}", {}
                elif kind == "cached search":
                    path, params = "/api/search", {"q": rng.choice(cached), "k": 3}
                else:
                    path, params = "/api/search", {"q": f"glacier copper tide {i}", "k": 3}
                t = time.perf_counter()
                try:
                    status = c.get(url + path, params=params).status_code
                except httpx.HTTPError:
                    status = -1
                with lock:
                    results.append((kind, status, time.perf_counter() - t))

    threads = [threading.Thread(target=client, args=(plan[n::clients],)) for n in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    per_kind = {}
    for kind in KINDS:
        times = sorted(s for k, _, s in results if k == kind)
        if times:
            per_kind[kind] = {"requests": len(times), "p50_s": round(statistics.median(times), 4),
                              "p90_s": round(times[int(0.9 * (len(times) - 1))], 4)}
    every = [s for _, _, s in results]
    return {"load_requests": len(results), "clients": clients,
            "load_errors": sum(st != 200 for _, st, _ in results),
            "load_p50_s": round(statistics.median(every), 4), "wall_s": round(wall, 2),
            "per_kind": per_kind}


def during_model_calls(url: str, seconds: float, seed: int = 0) -> dict:
    """Cheap requests while the judge runs: one client sends new searches back to back (each
    a model call), another cached searches, stats and chunk views; the cheap ones' latency
    is kept only when a new search was in flight for its whole duration."""
    rng = random.Random(seed)
    cached = ["How does sourdough rise?", "What does the WAL do?", "Who owns memory in Rust?"]
    with httpx.Client(timeout=300) as c:
        ids = [h["chunk_id"] for q in cached
               for h in c.get(url + "/api/search", params={"q": q, "k": 3}).json()["hits"]]
    busy, stop = threading.Event(), time.monotonic() + seconds
    news: list[float] = []
    cheap: dict[str, list[float]] = {"cached search": [], "stats": [], "chunk": []}

    def newcomer() -> None:
        with httpx.Client(timeout=300) as c:
            n = 0
            while time.monotonic() < stop:
                n += 1
                busy.set()
                t = time.perf_counter()
                c.get(url + "/api/search", params={"q": f"plants light sugar bread {n}", "k": 3})
                news.append(time.perf_counter() - t)
                busy.clear()

    def reader() -> None:
        with httpx.Client(timeout=300) as c:
            while time.monotonic() < stop:
                kind = rng.choice(list(cheap))
                path, params = {"cached search": ("/api/search", {"q": rng.choice(cached),
                                                                  "k": 3}),
                                "stats": ("/api/stats", {}),
                                "chunk": (f"/api/chunks/{rng.choice(ids)}", {})}[kind]
                if not busy.wait(timeout=5):
                    continue
                t = time.perf_counter()
                assert c.get(url + path, params=params).status_code == 200
                took = time.perf_counter() - t
                if busy.is_set():  # a new search ran throughout (approximately: still on)
                    cheap[kind].append(took)

    threads = [threading.Thread(target=newcomer), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    def p90(xs: list[float]) -> float | None:
        return round(sorted(xs)[int(0.9 * (len(xs) - 1))], 4) if xs else None

    return {"new_searches": len(news), "new_search_p50_s": round(statistics.median(news), 3),
            **{f"{k.replace(' ', '_')}_during_model_call": len(v) for k, v in cheap.items()},
            "cached_search_p90_during_model_call_s": p90(cheap["cached search"]),
            "stats_p90_during_model_call_s": p90(cheap["stats"]),
            "chunk_p90_during_model_call_s": p90(cheap["chunk"])}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--delay", type=float, default=0.2, help="fake model seconds per batch")
    ap.add_argument("--real", type=float, default=0, metavar="SECONDS",
                    help="instead: cheap requests during real model calls for SECONDS")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="glossdb-load-"))
    with Server(work, args.delay, real=bool(args.real)) as server:
        out = (during_model_calls(server.url, args.real) if args.real
               else run_load(server.url, args.requests, args.clients))
    print(out)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
