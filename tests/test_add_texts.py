"""Index.add_texts (Chroma's collection.add, LangChain's add_texts) and the cost estimate
an add prints before hours of glossing."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from glossdb import Index
from glossdb.cli import cli
from glossdb.describe import RATE_KEY
from glossdb.errors import InvalidQuery


def test_add_texts_stores_ids_metadata_and_replaces_by_id(index, fake):
    ids = index.add_texts(["Cats purr when content.", "Rockets burn kerosene."],
                          [{"kind": "pet", "title": "Cats"}, {"kind": "space"}], ["c", "r"])
    assert ids == ["c", "r"]
    [hit] = index.search("cats purr", k=1, where={"kind": "pet"})
    assert hit.uri == "text:c" and hit.title == "Cats" and hit.gloss  # glossed at once
    index.add_texts(["Cats sleep sixteen hours."], [{"kind": "pet"}], ["c"])
    [again] = index.search("cats", k=1, where={"kind": "pet"})
    assert "sixteen" in again.text and index.store.counts()["documents"] == 2
    assert index.delete_texts(["c", "missing"]) == 1
    assert index.store.counts()["documents"] == 1


def test_add_texts_without_ids_is_idempotent(index):
    first = index.add_texts(["One note.", "Another note."])
    calls = len(index.model("writer").history)
    assert index.add_texts(["One note.", "Another note."]) == first
    assert len(index.model("writer").history) == calls  # unchanged: no model call


@pytest.mark.parametrize("texts,metas,ids,msg", [
    (["a", "b"], None, ["x", "x"], "distinct"),
    (["a"], [{"k": 1}, {"k": 2}], None, "one of each"),
    (["  "], None, None, "empty"),
    (["a"], [{"k": object()}], None, "not JSON"),
])
def test_add_texts_refuses_bad_input_before_writing(index, texts, metas, ids, msg):
    with pytest.raises(InvalidQuery, match=msg):
        index.add_texts(texts, metas, ids)
    assert index.store.counts()["documents"] == 0


def test_add_says_how_long_glossing_takes_and_how_to_return_at_once(tmp_path, corpus):
    path = tmp_path / "e.glossdb"
    ix = Index(path, backend="fake")
    ix.add([corpus / "cats.md"])
    ix.store.set_setting(RATE_KEY + ix.representation().name, "400")  # a slow writer
    ix.close()
    out = CliRunner().invoke(cli, ["add", str(corpus), "-i", str(path), "--backend", "fake"])
    assert out.exit_code == 0, out.output
    assert "Glossing 2 chunks takes about 0.2 h (400.0 s a chunk, measured on this index)" \
        in out.output and "--gloss later" in out.output
    quick = CliRunner().invoke(cli, ["add", str(corpus), "-i", str(path), "--backend", "fake"])
    assert "Glossing" not in quick.output  # nothing left to gloss
