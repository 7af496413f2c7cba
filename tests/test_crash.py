"""SIGKILL at random points of `glossdb add` and of searches that write judgments loses
nothing and doubles nothing (the short version of bench/crash.py)."""

from __future__ import annotations

from bench.crash import crash_run


def test_sigkill_during_add_and_search_loses_nothing(tmp_path):
    results = [crash_run(tmp_path, seed, kills=2) for seed in range(2)]
    for r in results:
        assert r["integrity"] == "ok", r
        assert r["ok"], r
    assert sum(r["kills_landed"] for r in results) >= 4  # the kills hit running processes
