"""``ask``: answers from retrieved chunks only, with citations that point at them."""

from __future__ import annotations

import json

from click.testing import CliRunner

from glossdb import Index, answer
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
    assert set(data) == {"question", "answer", "citations", "found", "hits"}
    assert set(data["citations"]) <= {h["chunk_id"] for h in data["hits"]}


def test_an_answer_without_citations_names_the_chunks_it_was_given(index, corpus, fake):
    index.add([corpus])
    matches = [h.chunk_id for h in index.search("yeast dough rise", k=3)
               if h.verdict in ("match", "strong match")]
    fake.enqueue("Yeast makes dough rise.")
    result = index.ask("yeast dough rise", k=3)
    assert result.citations == matches
    assert result.answer == "Yeast makes dough rise. [" + ", ".join(map(str, matches)) + "]"
