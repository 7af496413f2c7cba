"""``glossdb use``: which representation version search reads, saved in the settings."""

from __future__ import annotations

import json

from click.testing import CliRunner

from glossdb import Index
from glossdb.cli import cli


def test_use_pins_the_version_search_reads_and_unpins(tmp_path, corpus, monkeypatch):
    monkeypatch.setenv("GLOSSDB_BACKEND", "fake")
    path = tmp_path / "u.glossdb"
    with Index(path) as ix:
        ix.add([corpus])
        first = ix.representation().name
    with Index(path, gloss_tokens=20) as ix:  # another gloss spec: a second version
        ix.add([corpus])
        second = ix.representation().name
    assert first != second
    (tmp_path / "u.toml").write_text("gloss_tokens = 20\n")
    run = CliRunner()
    out = run.invoke(cli, ["use", first, "-i", str(path)])
    assert out.exit_code == 0 and f"search reads {first}" in out.output
    with Index(path) as ix:
        assert ix.config.representation == first and ix.representation().name == first
        hit = ix.search("yeast dough", k=1)[0]
        stored = dict((n, t) for n, t in ix.store.glosses_for_chunk(hit.chunk_id))
        assert hit.gloss == stored[first]
    stats = json.loads(run.invoke(cli, ["stats", "-i", str(path), "--json"]).output)
    assert stats["pinned_representation"] == first
    assert f"search reads: {first}" in run.invoke(cli, ["stats", "-i", str(path)]).output
    out = run.invoke(cli, ["use", "--writer", "-i", str(path)])
    assert out.exit_code == 0 and f"search reads {second}" in out.output
    assert "gloss_tokens = 20" in (tmp_path / "u.toml").read_text()  # other settings kept


def test_use_of_an_unknown_version_names_the_known_ones(tmp_path, corpus, monkeypatch):
    monkeypatch.setenv("GLOSSDB_BACKEND", "fake")
    path = tmp_path / "u.glossdb"
    Index(path).add([corpus])
    out = CliRunner().invoke(cli, ["use", "gloss-nope", "-i", str(path)])
    assert out.exit_code != 0 and out.output.startswith("Error: ") and "gloss-" in out.output
    assert "Traceback" not in out.output
    out = CliRunner().invoke(cli, ["use", "-i", str(path)])
    assert out.exit_code == 2 and "--writer" in out.output
