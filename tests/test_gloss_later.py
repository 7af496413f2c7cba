"""`add --gloss later` returns without glossing; `glossdb gloss` writes glosses in usage
order, within limits, resumably; stats show glossed / total and the ETA."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from glossdb.cli import cli


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("GLOSSDB_BACKEND", "fake")
    monkeypatch.setenv("GLOSSDB_EMBEDDER", "hashing")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)


def test_add_later_then_gloss_in_usage_order(run, corpus, tmp_path):
    out = run("add", str(corpus), "--gloss", "later")
    assert out.exit_code == 0 and "0 glosses written" in out.output
    assert "still wait for a gloss" in out.output
    hit = json.loads(run("search", "kerosene oxygen", "--json", "-k", "1").output)[0]
    assert hit["gloss"] is None  # judged on its text meanwhile
    out = run("gloss", "--limit", "1", "--json")
    assert json.loads(out.output)["glosses_written"] == 1
    shown = json.loads(run("show", str(hit["chunk_id"]), "--json").output)
    assert shown["glosses"], "the chunk the search returned is glossed first"
    stats = json.loads(run("stats", "--json").output)["representations"][0]
    assert stats["glosses"] == 1 and stats["pending"] == stats["chunks"] - 1
    assert stats["seconds_per_gloss"] is not None and stats["eta_seconds"] is not None
    assert "of" in run("stats").output
    out = run("gloss")
    assert out.exit_code == 0 and "all glossed" in out.output


def test_gloss_limits_must_be_positive(run, corpus):
    run("add", str(corpus), "--gloss", "later")
    assert run("gloss", "--limit", "0").exit_code == 2
    assert run("gloss", "--minutes", "0").exit_code == 2


def test_interrupting_glossing_keeps_finished_batches_and_says_so(tmp_path, corpus, capsys):
    from glossdb import Index
    from glossdb.cli import gloss_until_interrupted

    from .conftest import interrupting_model

    model = interrupting_model(on_call=2)
    ix = Index(tmp_path / "i.glossdb", models={"judge": model, "writer": model},
               embedder="hashing")
    ix.add([corpus], gloss=False)
    total = ix.store.counts()["chunks"]
    assert gloss_until_interrupted(ix, None) == 1
    assert "interrupted; finished glosses are kept" in capsys.readouterr().err
    assert ix.store.counts()["glosses"] == 1 and ix.describer().pending() == total - 1
    assert ix.store.db.execute("SELECT count(*) FROM gloss_claims").fetchone()[0] == 0
    assert ix.gloss() == total - 1  # continues where it stopped
    ix.close()


def test_add_glosses_only_the_paths_given(tmp_path, corpus):
    """`add PATH` writes glosses for PATH's chunks only; the backlog of other chunks waits
    for `glossdb gloss` (or `add --gloss all`), and re-adding unchanged files calls no model."""
    import json

    from click.testing import CliRunner

    from glossdb.cli import cli

    index = str(tmp_path / "t.glossdb")
    env = {"GLOSSDB_BACKEND": "fake", "GLOSSDB_EMBEDDER": "hashing"}
    run = CliRunner().invoke
    assert run(cli, ["add", str(corpus), "-i", index, "--gloss", "later"], env=env).exit_code == 0
    extra = tmp_path / "owls.md"
    extra.write_text("# Owls\n\nOwls hunt at night.\n")
    out = run(cli, ["add", str(extra), "-i", index, "--json"], env=env)
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert report["glosses_written"] == report["chunks_added"] == 1
    again = json.loads(run(cli, ["add", str(extra), "-i", index, "--json"], env=env).output)
    assert again["glosses_written"] == 0 and again["documents_unchanged"] == 1
    text = run(cli, ["add", str(extra), "-i", index], env=env).output
    assert "other chunks of the index still wait" in text
    everything = json.loads(run(cli, ["add", str(extra), "-i", index, "--gloss", "all",
                                      "--json"], env=env).output)
    assert everything["glosses_written"] > 1  # the backlog of the corpus


def test_a_lead_judgment_is_kept_until_the_gloss_comes(tmp_path, corpus):
    """An unglossed chunk's judgment is stored under the hash of the lead it read: the same
    search again judges nothing (and cannot change its verdict); once the chunk is glossed,
    the gloss is judged and that judgment replaces the lead's."""
    from glossdb import Index
    from glossdb.backends.fake import FakeModel

    class Counting(FakeModel):
        calls = 0

        def _logprobs_batch(self, requests):
            self.calls += len(requests)
            return super()._logprobs_batch(requests)

    model = Counting()
    ix = Index(tmp_path / "i.glossdb", models={"judge": model, "writer": model},
               embedder="hashing")
    ix.add([corpus], gloss=False)
    ix.gloss(limit=1)  # the writer's version exists; the other chunks wait for their gloss
    first = ix.search("kerosene oxygen", k=3)
    assert sum(h.gloss is None for h in first) >= 2
    calls = model.calls
    again = ix.search("kerosene oxygen", k=3)
    assert model.calls == calls, "the lead judgments were reused, not judged again"
    assert [(h.chunk_id, h.verdict, h.cached) for h in again] == [
        (h.chunk_id, h.verdict, True) for h in first]
    rep = ix.representation()
    lead = next(h.chunk_id for h in first if h.gloss is None)
    stored = ix.store.judgments("kerosene oxygen", [lead], rep.id, ix.judge().version().id)
    assert stored[lead].read_hash
    ix.gloss()
    glossed = ix.search("kerosene oxygen", k=3)
    assert model.calls > calls and not next(h for h in glossed if h.chunk_id == lead).cached
    stored = ix.store.judgments("kerosene oxygen", [lead], rep.id, ix.judge().version().id)
    assert stored[lead].read_hash is None
    assert all(h.cached for h in ix.search("kerosene oxygen", k=3))
