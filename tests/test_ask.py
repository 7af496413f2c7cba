"""``ask``: answers from retrieved chunks only, with citations that point at them."""

from __future__ import annotations

import json

from click.testing import CliRunner

from glossdb import Index, answer
from glossdb.results import Hit
from glossdb.cli import cli


def test_citations_outside_the_given_chunks_are_removed():
    text, ids = answer.cited("Dough rises [3]. Cats purr [7, 3]. Stars [99].", {3, 7})
    assert text == "Dough rises [3]. Cats purr [7, 3]. Stars." and ids == [3, 7]


def test_ask_answers_from_matches_and_cites_them(index, corpus, fake):
    index.add([corpus])
    top = index.search("yeast dough rise", k=1)[0]
    assert top.verdict in ("match", "strong match")
    fake.enqueue(f"Yeast releases carbon dioxide, which makes dough rise [{top.chunk_id}] [999].")
    result = index.ask("yeast dough rise", k=3)
    assert result.found and result.citations == [top.chunk_id]
    assert result.answer.endswith(f"[{top.chunk_id}].") and "999" not in result.answer
    prompt = [r for r in fake.history if getattr(r, "system", None) == answer.ANSWER_SYSTEM][-1]
    assert f"[{top.chunk_id}]" in prompt.prompt and "only the numbered passages" in prompt.system


def test_ask_says_not_found_without_a_match_and_calls_no_model(index, corpus, fake):
    index.add([corpus])
    result = index.ask("zzqx unrelated volcano", k=3)
    assert not result.found and result.answer == answer.NOT_FOUND and result.citations == []
    assert result.hits  # judged candidates were there; none was a match
    assert all(h.verdict not in ("match", "strong match") for h in result.hits)
    assert not [r for r in fake.history if getattr(r, "system", None) == answer.ANSWER_SYSTEM]


def test_ask_cli_json(tmp_path, corpus):
    path = tmp_path / "a.glossdb"
    Index(path, backend="fake").add([corpus])
    out = CliRunner().invoke(cli, ["ask", "yeast dough rise", "-i", str(path), "--backend",
                                   "fake", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert set(data) == {"question", "answer", "citations", "found", "hits", "support",
                         "unsupported"}
    assert set(data["citations"]) <= {h["chunk_id"] for h in data["hits"]}


def test_an_answer_without_citations_is_cited_to_the_chunk_that_says_it(index, corpus, fake):
    index.add([corpus])
    matches = [h for h in index.search("yeast dough rise", k=3)
               if h.verdict in ("match", "strong match")]
    bread = next(h for h in matches if "Yeast" in h.text)
    fake.enqueue("Yeast makes dough rise.")
    result = index.ask("yeast dough rise", k=3)
    assert result.citations == [bread.chunk_id]
    assert result.answer == f"Yeast makes dough rise [{bread.chunk_id}]."


def _hit(chunk_id: int, text: str) -> Hit:
    return Hit(rank=1, chunk_id=chunk_id, score=1.0, verdict="match", uri=f"doc#{chunk_id}",
               title=None, heading=None, text=text, gloss=None)


BACKUPS = [_hit(234, "Priya Raman owns the backup runbook. She reviews it every quarter."),
           _hit(232, "Production backups are kept for 35 days. They are encrypted with AES-256 "
                     "before they leave the host.")]


def test_a_sentence_is_cited_to_the_chunk_that_holds_it_not_the_one_the_model_named():
    text, support, dropped = answer.attribute(
        "Production backups are kept for 35 days and encrypted with AES-256 [234].", BACKUPS)
    assert text == "Production backups are kept for 35 days and encrypted with AES-256 [232]."
    [s] = support
    assert s.chunk_id == 232 and s.quote == "Production backups are kept for 35 days."
    assert not dropped


def test_every_cited_chunk_contains_its_supporting_sentence_and_inventions_are_left_out():
    raw = ("Backups are kept for 35 days [232]. Priya Raman owns the runbook [232]. "
           "They are stored on the Moon in Kubernetes pods [234].")
    text, support, dropped = answer.attribute(raw, BACKUPS)
    by_id = {h.chunk_id: h.text for h in BACKUPS}
    assert [s.chunk_id for s in support] == [232, 234]
    assert all(s.quote in by_id[s.chunk_id] for s in support)
    assert dropped == ["They are stored on the Moon in Kubernetes pods."]
    assert text == "Backups are kept for 35 days [232]. Priya Raman owns the runbook [234]."


def test_the_models_own_citation_wins_a_tie():
    hits = [_hit(1, "Cats purr when content."), _hit(2, "Cats purr when content, too.")]
    _, [s], _ = answer.attribute("Cats purr when content [2].", hits)
    assert s.chunk_id == 2
