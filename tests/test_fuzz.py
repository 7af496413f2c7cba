"""Property-based fuzzing (hypothesis): loaders, chunker, query path and config loader never
raise anything but a GlossdbError, whatever they are given. Counts feed reliability.json."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glossdb.config import load_config
from glossdb.errors import GlossdbError
from glossdb.ingest import chunk_text, load
from glossdb.prefilter import search_terms
from glossdb.results import validate_query

FUZZ = settings(max_examples=int(os.environ.get("GLOSSDB_FUZZ_EXAMPLES", "150")),
                deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                      HealthCheck.too_slow])
SUFFIXES = [".txt", ".md", ".html", ".jsonl", ".pdf"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4), max_leaves=12)
records = st.dictionaries(st.sampled_from(["_id", "id", "title", "text", "year", "x"]),
                          json_values, max_size=5)


@FUZZ
@given(data=st.binary(max_size=4000), suffix=st.sampled_from(SUFFIXES))
def test_loaders_take_arbitrary_bytes(tmp_path, data, suffix):
    path = tmp_path / f"f{suffix}"
    path.write_bytes(data)
    try:
        docs = load(path)
    except GlossdbError:
        return
    for doc in docs:
        assert isinstance(doc.text, str)


@FUZZ
@given(text=st.text(max_size=3000), encoding=st.sampled_from(["utf-8", "utf-16", "latin-1"]),
       suffix=st.sampled_from([".txt", ".md", ".html"]))
def test_loaders_take_any_text_in_any_encoding(tmp_path, text, encoding, suffix):
    path = tmp_path / f"t{suffix}"
    try:
        path.write_bytes(text.encode(encoding))
    except UnicodeEncodeError:
        return
    try:
        load(path)
    except GlossdbError:
        pass


@FUZZ
@given(lines=st.lists(records.map(json.dumps) | st.text(max_size=60), max_size=12))
def test_jsonl_takes_malformed_and_nested_records(tmp_path, lines):
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass") \
        if all("\ud800" > c or c > "\udfff" for line in lines for c in line) else None
    if not path.exists():
        return
    try:
        docs = load(path)
    except GlossdbError:
        return
    assert len({d.uri for d in docs}) == len(docs)  # no record replaces another


@FUZZ
@given(text=st.text(max_size=6000) | st.just("x" * 50000), budget=st.integers(1, 600),
       title=st.none() | st.text(max_size=40))
def test_chunker_covers_text_within_budget(text, budget, title):
    try:
        drafts = chunk_text(text, budget, title)
    except GlossdbError:
        assert budget < 8
        return
    for d in drafts:
        assert 0 <= d.start_char <= d.end_char <= len(text)
        assert d.text.strip()


@FUZZ
@given(query=st.text(max_size=400) | st.sampled_from(
    ['"', 'NEAR(a b)', "a OR", "*", "col:x", "'; DROP TABLE chunks; --", "\x00", "^", "-x"]))
def test_query_path_never_raises_anything_else(query):
    try:
        q = validate_query(query)
        search_terms(q)
    except GlossdbError:
        pass


@FUZZ
@given(body=st.text(max_size=300))
def test_config_loader_gives_a_config_or_a_config_error(tmp_path, body):
    (tmp_path / "glossdb.toml").write_text(body, encoding="utf-8", errors="surrogatepass") \
        if not any("\ud800" <= c <= "\udfff" for c in body) else None
    try:
        load_config(tmp_path / "x.glossdb")
    except GlossdbError:
        pass


@settings(max_examples=int(os.environ.get("GLOSSDB_FUZZ_EXAMPLES", "150")) // 3, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(query=st.text(min_size=1, max_size=200))
def test_search_answers_or_says_why(fuzz_index, query):
    try:
        fuzz_index.search(query, k=2)
    except GlossdbError:
        pass


@pytest.fixture(scope="module")
def fuzz_index(tmp_path_factory):
    from glossdb import Index
    from glossdb.backends.fake import FakeModel

    root = tmp_path_factory.mktemp("fuzz")
    (root / "a.md").write_text("# Cats\n\nCats purr and sleep.\n\nDogs bark at night.\n")
    fake = FakeModel()
    ix = Index(root / "f.glossdb", models={"judge": fake, "writer": fake}, embedder="hashing")
    ix.add([root / "a.md"])
    yield ix
    ix.close()
