from __future__ import annotations

import json

import pytest

from glossdb.errors import IngestError
from glossdb.ingest import approx_tokens, chunk_text, load, walk

from .conftest import make_pdf


def test_markdown_keeps_headings_as_structure(corpus):
    (doc,) = load(corpus / "cats.md")
    assert doc.title == "Cats"
    chunks = chunk_text(doc.text, 400, doc.title)
    assert [c.heading for c in chunks] == ["Cats", "Sleep"]
    assert "purr" in chunks[0].text and "sleeps" in chunks[1].text


def test_html_extracts_text_without_scripts(corpus):
    (doc,) = load(corpus / "bread.html")
    assert doc.title == "Baking bread"
    assert "Yeast ferments sugar" in doc.text and "Knead for ten minutes." in doc.text
    assert "var x" not in doc.text


def test_pdf_text_is_extracted(tmp_path):
    path = make_pdf(tmp_path / "paper.pdf", ["Glaciers are retreating in the Alps.",
                                              "Melt rates doubled since 2000."])
    (doc,) = load(path)
    assert "Glaciers are retreating" in doc.text
    assert doc.metadata["pages"] == 1


def test_jsonl_records_become_documents_with_metadata(tmp_path):
    path = tmp_path / "recs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [
        {"_id": "a1", "title": "First", "text": "Alpha body.", "year": 2020},
        {"id": "b2", "text": "Beta body."},
    ]) + "\n")
    docs = load(path)
    assert [d.uri.split("#")[1] for d in docs] == ["a1", "b2"]
    assert docs[0].title == "First" and docs[0].metadata == {"year": 2020}


@pytest.mark.parametrize("name,data,reason", [
    ("empty.txt", b"   \n", "empty"),
    ("bin.txt", b"\x00\x01\x02binary", "binary"),
    ("latin.txt", "caf\xe9".encode("latin-1"), "not UTF-8"),
    ("bad.jsonl", b"{not json}\n", "not JSON"),
    ("bad.pdf", b"%PDF-1.4 garbage", "PDF"),
    ("image.png", b"\x89PNG", "unsupported"),
])
def test_bad_inputs_raise_ingest_error_with_reason(tmp_path, name, data, reason):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(IngestError, match=reason):
        load(path)


def test_walk_reports_missing_paths_and_skips_hidden(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text("hidden")
    (tmp_path / "a.txt").write_text("visible")
    found = list(walk([tmp_path, tmp_path / "missing.txt"]))
    assert (tmp_path / "a.txt", None) in found
    assert (tmp_path / "missing.txt", "no such file or directory") in found
    assert all(".git" not in str(p) for p, _ in found)


def test_chunks_fit_the_budget_and_spans_index_the_source():
    text = "# Title\n\n" + " ".join(f"Sentence number {i} is here." for i in range(200))
    chunks = chunk_text(text, 64)
    assert len(chunks) > 5
    for c in chunks:
        assert approx_tokens(c.text) <= 64
        assert text[c.start_char:c.end_char] == c.text


def test_one_giant_word_is_still_split():
    text = "x" * 5000
    chunks = chunk_text(text, 100)
    assert "".join(c.text for c in chunks) == text


def test_a_record_without_an_id_never_takes_a_real_records_place(tmp_path):
    """Line 1 has no id; line 2's id is "1": both are kept, each under its own name."""
    from glossdb.ingest.loaders import jsonl_records

    path = tmp_path / "r.jsonl"
    path.write_text('{"text": "first, unnamed"}\n{"id": 1, "text": "second, named 1"}\n'
                    '{"text": "third, unnamed"}\n')
    docs, problems = jsonl_records(path)
    assert problems == []
    assert [(d.uri.split("#")[1], d.text) for d in docs] == [
        ("line-1", "first, unnamed"), ("1", "second, named 1"), ("3", "third, unnamed")]


def test_a_word_document_is_loaded_with_its_sections(tmp_path, index):
    """The .docx loader (python-docx, registered like any loader plugin): headings become
    chunk headings, tables become lines, and the text is searchable."""
    docx = __import__("pytest").importorskip("docx")
    doc = docx.Document()
    doc.core_properties.title = "Field notes"
    doc.add_heading("Owls", level=1)
    doc.add_paragraph("Barn owls hunt voles at night over open meadows.")
    doc.add_heading("Bats", level=2)
    doc.add_paragraph("Bats navigate by echolocation.")
    table = doc.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "species", "roost"
    path = tmp_path / "notes.docx"
    doc.save(str(path))
    from glossdb.ingest import load, loaders

    assert ".docx" in loaders()
    (record,) = load(path)
    assert record.title == "Field notes"
    assert "# Owls" in record.text and "## Bats" in record.text
    assert "species | roost" in record.text
    index.add([path])
    hits = index.search("owls hunting voles", k=1)
    assert hits and hits[0].uri == str(path) and hits[0].heading == "Owls"
