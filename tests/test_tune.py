"""Tuning the prefilter cut-off from usage: pure recall curve, Index.tune, CLI --write."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from glossdb import Index
from glossdb.cli import cli
from glossdb.config import load_config, save_setting
from glossdb.errors import ConfigError, InvalidQuery
from glossdb.prefilter import cutoff_recall, needed_cutoff


def test_cutoff_recall_counts_top_hits_within_the_cutoff():
    ranks = [[1, 2, 9], [3, 4, 5]]
    assert cutoff_recall(ranks, 5) == pytest.approx((2 / 3 + 1) / 2)
    assert cutoff_recall(ranks, 9) == 1.0
    assert cutoff_recall([], 3) == 1.0


def test_needed_cutoff_is_the_smallest_that_reaches_the_target():
    ranks = [[1, 2, 9], [3, 4, 5]]
    assert needed_cutoff(ranks, 1.0, 20) == 9
    assert needed_cutoff(ranks, 0.8, 20) == 5
    assert needed_cutoff([[30]], 1.0, 20) == 20


def test_tune_judges_logged_queries_deep(index, corpus, fake):
    index.add([corpus])
    with pytest.raises(InvalidQuery, match="no logged queries"):
        index.tune()
    index.search("yeast dough", k=2)
    index.search("cats sleep", k=2)
    report = index.tune(deep=6, k=2, target=1.0)
    assert report.queries == 2 and report.deep == 6
    assert 1 <= report.recommended <= 6
    recalls = [r for _, r in report.curve]
    assert recalls == sorted(recalls) and recalls[-1] == 1.0
    assert report.recommended == 6 or dict(report.curve).get(report.recommended, 1.0) == 1.0


def test_save_setting_keeps_other_lines_in_the_index_own_file(tmp_path):
    index_path = tmp_path / "x.glossdb"
    folder = "# mine\nmodel = 'gemma3-270m'\ncandidates = 30\n"
    (tmp_path / "glossdb.toml").write_text(folder)
    assert load_config(index_path).candidates == 30  # the folder file, until x has its own
    save_setting(index_path, "candidates", 12)
    text = (tmp_path / "x.toml").read_text()  # migrated: a copy of the folder file, changed
    assert "# mine" in text and "candidates = 12" in text and "candidates = 30" not in text
    assert load_config(index_path).candidates == 12
    assert load_config(tmp_path / "other.glossdb").candidates == 30  # others keep theirs
    assert (tmp_path / "glossdb.toml").read_text() == folder
    with pytest.raises(ConfigError):
        save_setting(index_path, "nope", 1)


def test_cli_tune_writes_the_recommendation(tmp_path, corpus, fake, monkeypatch):
    path = tmp_path / "t.glossdb"
    monkeypatch.setattr("glossdb.cli.open_index",
                        lambda p, **_: Index(p, models={"judge": fake, "writer": fake}))
    runner = CliRunner()
    assert runner.invoke(cli, ["add", str(corpus), "-i", str(path)]).exit_code == 0
    assert runner.invoke(cli, ["search", "rocket thrust", "-i", str(path)]).exit_code == 0
    out = runner.invoke(cli, ["tune", "--deep", "5", "-k", "2", "--write", "--json",
                              "-i", str(path)])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["saved_to"] and load_config(path).candidates == data["recommended"]
