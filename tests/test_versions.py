"""Representation versions: gloss diffs and the regression check, over the fake model."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from glossdb import Index
from glossdb.backends.fake import FakeModel
from glossdb.cli import cli
from glossdb.errors import UnknownRepresentation
from glossdb.versions import word_diff


class Shouting(FakeModel):
    """A second 'gloss model': same words as the fake, upper-cased, plus a marker."""

    def _generate_batch(self, requests):
        return [t.upper() + " (v2)" for t in super()._generate_batch(requests)]


@pytest.fixture
def two_versions(tmp_path, corpus):
    judge = FakeModel()
    path = tmp_path / "v.glossdb"
    with Index(path, models={"judge": judge, "writer": FakeModel()}) as ix:
        ix.add([corpus])
        old = ix.representation().name
        ix.search("yeast dough")
        ix.search("rocket thrust")
    with Index(path, gloss_model="shouting", models={"judge": judge,
                                                     "writer": Shouting("shouting")}) as ix:
        ix.add([corpus])
        new = ix.representation().name
    return path, judge, old, new


def test_word_diff_marks_removed_and_added_words():
    assert word_diff("cats purr softly", "cats hiss softly") == "cats [-purr-] {+hiss+} softly"
    assert word_diff("same", "same") == "same"


def test_diff_counts_and_lists_changed_glosses(two_versions):
    path, judge, old, new = two_versions
    with Index(path, models={"judge": judge, "writer": judge}) as ix:
        result = ix.diff()
        chunks = ix.store.counts()["chunks"]
    assert (result.old, result.new) == (old, new)
    assert result.changed == chunks and result.same == 0 and result.only_new == 0
    assert "{+" in result.changes[0].diff and "(v2)" in result.changes[0].diff


def test_regression_check_reranks_logged_queries_under_both_versions(two_versions):
    path, judge, old, new = two_versions
    with Index(path, models={"judge": judge, "writer": judge}) as ix:
        checks = ix.check()
    assert [c.query for c in checks] == ["rocket thrust", "yeast dough"]
    for c in checks:
        assert 0.0 <= c.overlap <= 1.0 and c.old_top and c.new_top


def test_unknown_or_missing_versions_are_explained(tmp_path, corpus, fake):
    with Index(tmp_path / "one.glossdb", models={"judge": fake, "writer": fake}) as ix:
        ix.add([corpus])
        with pytest.raises(UnknownRepresentation, match="fewer than two"):
            ix.diff()
        with pytest.raises(UnknownRepresentation, match="known:"):
            ix.diff("gloss-nope", ix.representation().name)


def test_cli_diff_prints_json_with_checks(two_versions, monkeypatch):
    path, judge, old, new = two_versions
    monkeypatch.setattr("glossdb.cli.open_index",
                        lambda p, **_: Index(p, models={"judge": judge, "writer": judge}))
    out = CliRunner().invoke(cli, ["diff", "--check", "--json", "-i", str(path)])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["old"] == old and data["new"] == new and len(data["checks"]) == 2


def test_diff_check_fails_a_planted_bad_version(tmp_path):
    """A version whose glosses say nothing of their passages ("Rust is a garbage collector")
    must fail the regression check. It could not when the check ranked as many candidates as
    hits (k = 10 of 10: the same set whatever the version). Here the prefilter's best 10 are
    the chunks that repeat the query words late in their text; the good glosses (the text's
    opening words) let the judge lift the chunks that open with them from deeper down."""
    import json as jsonlib

    from click.testing import CliRunner

    from glossdb import Index
    from glossdb.backends.fake import FakeModel
    from glossdb.cli import cli

    filler = " ".join(f"w{i}" for i in range(14))
    records = [{"id": f"late{i}", "title": "x", "text": f"{filler} late{i} alpha beta alpha beta"}
               for i in range(20)]
    records += [{"id": f"early{i}", "title": "x", "text": f"alpha beta early{i} {filler} "
                 + " ".join(f"pad{j}" for j in range(40))} for i in range(20)]
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(jsonlib.dumps(r) for r in records) + "\n")
    index = tmp_path / "t.glossdb"
    fake = FakeModel()
    with Index(index, models={"judge": fake, "writer": fake}, fusion_weight=0.0,
               embedder="hashing", candidates=10) as ix:
        ix.add([path])
        good = ix.representation()
        ix.search("alpha beta", k=10)
        bad = ix.store.ensure_representation("gloss-planted-bad", "fake", "t", {})
        ix.store.put_glosses(bad.id, [(c, "Rust is a garbage collector for the heap.")
                                      for c in ix.store.chunk_ids()], searchable=False)
        (check,) = ix.check(good.name, bad.name)
        assert check.candidates == 30 and check.overlap < 0.5
    (tmp_path / "t.toml").write_text('fusion_weight = 0.0\nembedder = "hashing"\n'
                                     'candidates = 10\n')
    out = CliRunner().invoke(cli, ["diff", good.name, bad.name, "-i", str(index), "--check",
                                   "--backend", "fake"])
    assert out.exit_code == 9, out.output
    assert "keeps" in out.output and "min-overlap" in out.output
