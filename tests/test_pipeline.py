"""The retrieval pipeline: one object that search, why, tune and the regression check run;
a signal added in one file (a plugin) shows in the fused score and in `--explain`."""

from __future__ import annotations

import statistics

import pytest
from click.testing import CliRunner

from glossdb import Index, plugins
from glossdb.cli import cli

from .plugins import toy_signal


@pytest.fixture
def toy():
    """Registers the toy plugin when called; unregisters it after the test."""
    def register():
        plugins.register(toy_signal, "toy")
    yield register
    if plugins.manager().is_registered(toy_signal):
        plugins.unregister(toy_signal)


def test_search_runs_the_pipeline_and_reports_its_stages(index, corpus):
    index.add([corpus])
    hits = index.search("cats sleep hours", k=3)
    assert [t.stage for t in index.last_trace] == ["candidates", "judge", "fuse", "verdict"]
    assert hits[0].signals and "judge" in hits[0].signals
    ranked = index.pipeline().rank("cats sleep hours", index.cutoff().depth)
    assert [h.chunk_id for h in hits] == ranked.order[:3]
    assert all(h.score == round(ranked.fused[h.chunk_id], 4) for h in hits)
    # the fused score recomputed here, independently of glossdb.signals
    cands, w = ranked.candidates, index.config.fusion_weight

    def z(values):
        known = [v for v in values if v is not None]
        filled = [min(known) if v is None else v for v in values] if known else [0.0] * len(values)
        mu, sd = statistics.fmean(filled), statistics.pstdev(filled) or 1.0
        return [(v - mu) / sd for v in filled]

    judge = z([ranked.judged[c.chunk_id].score for c in cands])
    if any(c.vector_score is not None for c in cands):
        prior = [w / 2 * a + w / 2 * b for a, b in zip(z([c.lexical_score for c in cands]),
                                                       z([c.vector_score for c in cands]))]
    else:
        prior = [w * a for a in z([c.prefilter_score for c in cands])]
    for c, j, p in zip(cands, judge, prior):
        assert abs(ranked.fused[c.chunk_id] - (j + p)) < 1e-9


def test_why_and_search_agree_through_the_same_pipeline(index, corpus):
    index.add([corpus])
    hit = index.search("rocket thrust propellant", k=1)[0]
    why = index.why("rocket thrust propellant", hit.chunk_id)
    assert why.rank == 1 and why.score == hit.score and why.signals == hit.signals


def test_a_toy_signal_in_one_file_moves_the_fused_score_and_shows_in_explain(
        index, corpus, toy, tmp_path):
    index.add([corpus])
    before = {h.chunk_id: h for h in index.search("cats", k=5)}
    toy()
    after = index.search("cats", k=5)
    sleepy = [h for h in after if "sleeps" in h.text]
    assert sleepy and sleepy[0].signals["sleepy"] != 0
    assert after[0].chunk_id == sleepy[0].chunk_id  # weight 5 puts it first
    assert any(before[h.chunk_id].score != h.score for h in after if h.chunk_id in before)
    out = CliRunner().invoke(cli, ["search", "cats", "-i", str(index.path), "--backend",
                                   "fake", "--explain", "-k", "2"],
                             env={"GLOSSDB_EMBEDDER": index.config.embedder})
    assert out.exit_code == 0, out.output
    assert "sleepy +" in out.output and "pipeline: candidates" in out.output


def test_a_backend_receives_the_settings_it_declares_and_no_others(tmp_path, monkeypatch):
    """Each backend names the settings its constructor takes (no catch-all **kwargs)."""
    from glossdb import index as index_module
    from glossdb.backends.fake import FakeModel

    seen = {}

    class Strict(FakeModel):
        settings = {"timeout_s": "timeout_s", "n_threads": "threads"}

        def __init__(self, model=None, timeout_s=None, n_threads=None):
            seen.update(model=model, timeout_s=timeout_s, n_threads=n_threads)
            super().__init__()

    monkeypatch.setattr(index_module, "backend_class", lambda name: Strict)
    ix = Index(tmp_path / "x.glossdb", backend="fake", timeout_s=12.5, threads=3)
    ix.model("judge")
    assert seen == {"model": ix.config.model, "timeout_s": 12.5, "n_threads": 3}
