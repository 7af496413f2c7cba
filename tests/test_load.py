"""A real `glossdb serve` under concurrent clients: no errors, and a cheap request is
answered while a slow model call is in flight (an ordering check, not a timing one)."""

from __future__ import annotations

import threading
import time

import httpx

from bench.load import Server, run_load


def test_serve_under_concurrent_load_has_no_errors(tmp_path):
    with Server(tmp_path, delay=0.05) as server:
        out = run_load(server.url, requests=80, clients=6)
    assert out["load_requests"] == 80 and out["load_errors"] == 0, out


def test_stats_is_answered_while_a_search_waits_on_the_model(tmp_path):
    with Server(tmp_path, delay=1.5) as server:
        order: list[str] = []

        def slow_search() -> None:
            httpx.get(server.url + "/api/search", params={"q": "glacier ice never seen", "k": 3},
                      timeout=120)
            order.append("search")

        t = threading.Thread(target=slow_search)
        t.start()
        time.sleep(0.5)  # let the search reach the model (it then waits 1.5 s per batch)
        while t.is_alive() and not order:
            r = httpx.get(server.url + "/api/stats", timeout=120)
            assert r.status_code == 200
            order.append("stats")
        t.join()
    assert order[0] == "stats" and order[-1] == "search", order
