"""A pool of OpenAI-compatible servers (backends/pool.py) on scripted HTTP servers."""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
import pytest

from glossdb.backends.base import GenerateRequest, ScoreRequest
from glossdb.backends.openai_compat import OpenAICompatModel
from glossdb.backends.pool import ServerPool, parse_urls
from glossdb.errors import BackendError

URLS = "http://a.test/v1, http://b.test"


def completion(text="ok"):
    return {"choices": [{"text": text}], "usage": {"prompt_tokens": 4}}


def pooled(handler, **kwargs):
    model = OpenAICompatModel("m", base_url=URLS, max_retries=3, **kwargs)
    model._client = httpx.Client(transport=httpx.MockTransport(handler), timeout=1)
    return model


def test_urls_are_split_normalised_and_required():
    assert parse_urls(" http://a:1 ,http://b:2/v1/ http://a:1") == ["http://a:1/v1", "http://b:2/v1"]
    with pytest.raises(BackendError, match="comma-separated"):
        parse_urls("  ")


def test_the_same_candidate_goes_to_the_same_server_and_keys_spread():
    hosts: list[tuple[str, str]] = []

    def handler(request):
        hosts.append((request.url.host, request.read().decode()))
        return httpx.Response(200, json=completion())

    model = pooled(handler, concurrency=1)
    keys = [f"Passage: chunk {i}" for i in range(40)]
    for _ in range(2):  # one at a time: a free preferred server always takes its keys
        for k in keys:  # (under load, a busy one passes work on: the next test)
            model.generate([GenerateRequest(k, 2)])
    by_key: dict[str, set[str]] = {}
    for host, body in hosts:
        key = next(k for k in keys if f'"{k}"' in body)
        by_key.setdefault(key, set()).add(host)
    assert all(len(h) == 1 for h in by_key.values())  # affinity: one server per candidate
    spread = Counter(h for h, _ in hosts)
    assert set(spread) == {"a.test", "b.test"} and min(spread.values()) >= 10
    assert [s["requests"] for s in model.describe()["servers"]] == [spread["a.test"], spread["b.test"]]


def test_a_failing_server_rests_and_its_requests_move(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)

    def handler(request):
        if request.url.host == "a.test":
            return httpx.Response(503, text="down")
        return httpx.Response(200, json=completion("from b"))

    model = pooled(handler, concurrency=2)
    out = model.generate([GenerateRequest(f"q{i}", 2) for i in range(12)])
    assert out == ["from b"] * 12
    a, b = model.pool.stats()
    assert a["errors"] >= 1 and a["resting"] and a["requests"] == 0 and b["requests"] == 12


def test_every_server_down_is_one_clear_error(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    model = pooled(lambda r: httpx.Response(503, text="down"), concurrency=1)
    with pytest.raises(BackendError, match="gave up after 4 tries"):
        model.logprobs([ScoreRequest("Passage: x", " y")])


def test_requests_in_flight_stay_bounded_per_server():
    active: Counter = Counter()
    peak: Counter = Counter()
    lock = threading.Lock()

    def handler(request):
        host = request.url.host
        with lock:
            active[host] += 1
            peak[host] = max(peak[host], active[host])
        time.sleep(0.02)
        with lock:
            active[host] -= 1
        return httpx.Response(200, json=completion())

    model = pooled(handler, concurrency=2)
    model.generate([GenerateRequest(f"same prefix {i % 3}", 2) for i in range(24)])
    assert max(peak.values()) <= 2


def test_rendezvous_ranking_moves_only_the_keys_of_a_server_that_leaves():
    two = ServerPool(["http://a/v1", "http://b/v1"])
    three = ServerPool(["http://a/v1", "http://b/v1", "http://c/v1"])
    keys = [f"k{i}" for i in range(200)]
    moved = [k for k in keys if three.ranking(k)[0].url != "http://c/v1"
             and three.ranking(k)[0].url != two.ranking(k)[0].url]
    assert moved == []


def test_stats_report_each_server_of_a_loaded_pool(tmp_path, corpus):
    from glossdb import Index
    from glossdb.cli_format import format_stats

    answer = {"choices": [{"text": "Yes", "message": {"content": "Yes."}}],
              "usage": {"prompt_tokens": 4}}
    model = pooled(lambda r: httpx.Response(200, json=answer), concurrency=1)
    index = Index(tmp_path / "p.glossdb", models={"judge": model, "writer": model},
                  judge_method="generate")
    index.add([corpus])
    stats = index.stats()
    assert [s["url"] for s in stats.servers] == ["http://a.test/v1", "http://b.test/v1"]
    assert sum(s["requests"] for s in stats.servers) > 0
    assert any(line.startswith("server http://a.test/v1 (m): ") for line in format_stats(stats.to_dict()))
