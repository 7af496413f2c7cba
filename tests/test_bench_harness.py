"""The bench as a harness: every runnable script is in bench/README.md's table, and the
reproduction check compares figures with their tolerance (no benchmark is run here)."""

from __future__ import annotations

import re
from pathlib import Path

from bench import reproduce

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_every_runnable_benchmark_is_in_the_readme_table():
    readme = (BENCH / "README.md").read_text()
    listed = set(re.findall(r"^\| `python -m (bench[\w.]*)", readme, re.M))
    runnable = {".".join(p.relative_to(BENCH.parent).with_suffix("").parts)
                for p in BENCH.rglob("*.py")
                if '__name__ == "__main__"' in p.read_text()} - {"bench.__main__"}
    assert runnable - listed == set()
    assert "bench" in listed  # `python -m bench reproduce`


def test_reproduce_checks_each_figure_within_its_tolerance():
    expected = {"tolerance": 0.003, "rows": [
        {"set": "s:test", "system": "BM25", "ndcg@10": 0.662},
        {"set": "s:test", "system": "glossdb default", "ndcg@10": 0.737, "tolerance": 0.005}]}
    rows = [{"set": "s:test", "system": "BM25", "ndcg@10": 0.6645},
            {"set": "s:test", "system": "glossdb default", "ndcg@10": 0.733}]
    checked = reproduce.check(rows, expected)
    assert [c["ok"] for c in checked] == [True, True]
    rows[0]["ndcg@10"] = 0.6651
    assert [c["ok"] for c in reproduce.check(rows, expected)] == [False, True]
