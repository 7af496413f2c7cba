"""A real `glossdb serve` under concurrent clients: no errors, and a cheap request is
answered while a slow model call is in flight (an ordering check, not a timing one)."""

from __future__ import annotations

import threading
import time

from pathlib import Path

import httpx

from bench.load import Server, run_load


def test_serve_under_concurrent_load_has_no_errors(tmp_path):
    with Server(tmp_path, delay=0.05) as server:
        out = run_load(server.url, requests=80, clients=6)
    assert out["load_requests"] == 80 and out["load_errors"] == 0, out


def test_cheap_requests_are_answered_while_a_search_waits_on_the_model(tmp_path, monkeypatch):
    """The fake model's gate holds a new search inside its model call for as long as the
    test likes: stats, a chunk view and a cached search must all be answered meanwhile."""
    gate = tmp_path / "gate"
    with Server(tmp_path, delay=0) as server:
        cached = httpx.get(server.url + "/api/search", params={"q": "river delta", "k": 2},
                           timeout=120).json()["hits"]
        with monkeypatch.context() as m:
            m.setenv("GLOSSDB_FAKE_GATE", str(gate))
            server.restart()  # the same index, its model now behind the gate
        slow = threading.Thread(target=lambda: httpx.get(
            server.url + "/api/search", params={"q": "glacier ice never seen", "k": 3},
            timeout=300))
        slow.start()
        while not Path(f"{gate}.waiting").exists():  # the search is in its model call
            time.sleep(0.02)
        answered = [httpx.get(server.url + path, params=params, timeout=300)
                    for path, params in (("/api/stats", {}),
                                         (f"/api/chunks/{cached[0]['chunk_id']}", {}),
                                         ("/api/search", {"q": "river delta", "k": 2}))]
        in_flight = slow.is_alive()
        gate.touch()
        slow.join()
    assert in_flight  # the gate was closed throughout: these did not wait for the model
    assert [r.status_code for r in answered] == [200, 200, 200]
    assert [h["chunk_id"] for h in answered[2].json()["hits"]] == [h["chunk_id"] for h in cached]


def test_two_serve_replicas_share_one_postgresql_index(tmp_path, pg_url):
    """Two `glossdb serve` processes on one PostgreSQL index, loaded at once: no errors, one
    query log, and a judgment one replica stored is a cached judgment for the other."""
    results = {}
    with Server(tmp_path, delay=0.05, index=pg_url) as a, \
            Server(tmp_path, delay=0.05, index=pg_url, add=False) as b:
        threads = [threading.Thread(target=lambda s=s: results.__setitem__(
            s.url, run_load(s.url, requests=30, clients=3))) for s in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        first = httpx.get(a.url + "/api/search", params={"q": "glacier ice flow", "k": 3},
                          timeout=120).json()
        second = httpx.get(b.url + "/api/search", params={"q": "glacier ice flow", "k": 3},
                           timeout=120).json()
        stats = httpx.get(b.url + "/api/stats", timeout=60).json()
    assert len(results) == 2 and all(r["load_errors"] == 0 for r in results.values()), results
    assert [h["chunk_id"] for h in first["hits"]] == [h["chunk_id"] for h in second["hits"]]
    assert second["hits"] and all(h["cached"] for h in second["hits"])  # a's judgments
    assert stats["documents"] == 24 and stats["path"] == pg_url
