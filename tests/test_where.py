"""Metadata filters: parsed from text or Chroma's dict, run as SQL inside the prefilter on
both stores, checked against a pure oracle (glossdb.where.matches)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glossdb import Index, where
from glossdb.cli import cli
from glossdb.errors import InvalidQuery
from glossdb.store import open_store

LABS = ["north", "south", "east"]


def papers(tmp_path, n: int = 30):
    """A JSONL corpus: every record about vitamin D, with a year, a lab and a flag; some
    records lack a field or hold it as text, to test typing."""
    rows = []
    for i in range(n):
        row = {"id": f"p{i}", "title": f"Vitamin D study {i}",
               "text": f"Vitamin D and bone fractures in cohort {i}. Calcium intake varied.",
               "year": 2005 + i % 15, "lab": LABS[i % 3], "open": i % 2 == 0}
        if i % 7 == 0:
            row.pop("year")
        if i % 11 == 5:
            row["year"] = str(row["year"])  # text, not a number
        rows.append(row)
    path = tmp_path / "papers.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path, {f"{path}#{r['id']}": {k: v for k, v in r.items()
                                        if k not in ("id", "title", "text")} for r in rows}


def test_text_filters_read_as_chroma_dicts():
    assert where.parse("year >= 2015") == {"year": {"$gte": 2015}}
    assert where.parse('year >= 2015 and lab == "x"') == {
        "$and": [{"year": {"$gte": 2015}}, {"lab": {"$eq": "x"}}]}
    assert where.parse("2010 <= year < 2020") == {
        "$and": [{"year": {"$gte": 2010}}, {"year": {"$lt": 2020}}]}
    assert where.parse('lab in ("a", "b") or open == True') == {
        "$or": [{"lab": {"$in": ("a", "b")}}, {"open": {"$eq": True}}]}
    assert where.parse('{"year": 2015}') == {"year": 2015}
    assert where.parse("") is None and where.parse(None) is None
    assert where.equality(["year=2015", "lab=north", "open=true"]) == {
        "$and": [{"year": 2015}, {"lab": "north"}, {"open": True}]}


@pytest.mark.parametrize("bad", ["year >", "year + 1 > 2", "year == lab", "import os",
                                 '{"year": {"$near": 3}}', '{"$and": 3}', "f(x) == 1",
                                 '{"a b": 1}', "year > True", '{"year": {"$in": []}}'])
def test_a_bad_filter_says_how_to_write_one(bad):
    with pytest.raises(InvalidQuery):
        where.parse(bad)


FIELDS = st.sampled_from(["year", "lab", "open", "missing"])
VALUES = st.one_of(st.integers(2000, 2022), st.sampled_from(LABS + ["2010"]), st.booleans())


@st.composite
def filters(draw, depth: int = 2):
    if depth and draw(st.booleans()):
        op = draw(st.sampled_from(["$and", "$or"]))
        return {op: draw(st.lists(filters(depth - 1), min_size=1, max_size=3))}
    field, op = draw(FIELDS), draw(st.sampled_from(where.FIELD_OPS))
    if op in ("$in", "$nin"):
        return {field: {op: draw(st.lists(VALUES, min_size=1, max_size=3))}}
    value = draw(VALUES)
    if op in ("$gt", "$gte", "$lt", "$lte") and isinstance(value, bool):
        value = int(value) + 2010
    return {field: {op: value}}


def _ids_by_uri(store):
    return {c.uri: c.id for c in store.get_chunks(store.chunk_ids()).values()}


def _agrees_with_the_oracle(location, tmp_path, fake, examples: int, fixed=()) -> None:
    """Filters (``fixed`` ones, then ``examples`` drawn) select, in the store's SQL, the
    chunks the pure oracle (where.matches) selects."""
    path, meta = papers(tmp_path)
    Index(location, models={"judge": fake, "writer": fake}).add([path])
    store = open_store(location)
    ids = _ids_by_uri(store)

    def agree(f):
        expected = {ids[u] for u, m in meta.items() if where.matches(f, m)}
        assert store.filtered_chunk_ids(where.check(f)) == expected, f

    for f in fixed:
        agree(f)
    settings(max_examples=examples, deadline=None,
             suppress_health_check=[HealthCheck.function_scoped_fixture])(
        given(filters())(agree))()
    store.close()


def test_sqlite_filters_select_what_the_oracle_selects(tmp_path, fake):
    _agrees_with_the_oracle(tmp_path / "w.glossdb", tmp_path, fake, 300)


def test_postgres_filters_select_what_the_oracle_selects(tmp_path, pg_url, fake):
    _agrees_with_the_oracle(pg_url, tmp_path, fake, 80, fixed=[
        {"year": {"$gte": 2015}}, {"year": {"$ne": 2010}}, {"lab": {"$nin": ["north"]}},
        {"open": True}, {"year": "2010"}, {"missing": {"$ne": 1}}])


def test_search_where_keeps_k_matching_hits_on_both_stores(tmp_path, location, fake):
    path, meta = papers(tmp_path)
    ix = Index(location, models={"judge": fake, "writer": fake})
    ix.add([path])
    wanted = {u for u, m in meta.items() if where.matches({"year": {"$gte": 2015}}, m)}
    assert len(wanted) >= 5
    hits = ix.search("vitamin D fractures", k=5, where="year >= 2015")
    assert len(hits) == 5 and {h.uri for h in hits} <= wanted
    assert all(h.metadata["year"] >= 2015 for h in hits)
    few = ix.search("vitamin D fractures", k=5, where={"lab": "north", "year": 2005})
    assert [h.uri for h in few] == [u for u, m in meta.items()
                                    if m.get("lab") == "north" and m.get("year") == 2005]
    assert ix.search("vitamin D", k=3, where='lab == "nowhere"') == []
    ix.close()


def test_a_filter_narrows_the_prefilter_before_its_cut(tmp_path, fake):
    """Without the filter, the top 3 candidates hold no 2016 paper; with it, both 2016 papers are there."""
    path, meta = papers(tmp_path)
    ix = Index(tmp_path / "c.glossdb", models={"judge": fake, "writer": fake})
    ix.add([path])
    plain = ix.prefilter.candidates("cohort 3 vitamin", 3)
    chunks = ix.store.get_chunks([c.chunk_id for c in plain])
    f = {"year": 2016}
    assert not any(c.metadata.get("year") == 2016 for c in chunks.values())
    narrowed = ix.prefilter.candidates("cohort 3 vitamin", 3, f)
    got = ix.store.get_chunks([c.chunk_id for c in narrowed])
    assert len(got) == 2 and all(c.metadata["year"] == 2016 for c in got.values())
    assert "json_type" in ix.prefilter.sql("cohort 3 vitamin", 3, f)
    ix.close()


def test_cli_where_and_filter(tmp_path):
    path, meta = papers(tmp_path)
    index = str(tmp_path / "cli.glossdb")
    runner = CliRunner()
    assert runner.invoke(cli, ["add", str(path), "-i", index, "--backend", "fake"]).exit_code == 0
    out = runner.invoke(cli, ["search", "vitamin D", "-i", index, "--backend", "fake", "-k",
                              "4", "--where", "year >= 2016", "--filter", "lab=south",
                              "--json"])
    assert out.exit_code == 0, out.output
    hits = json.loads(out.output)
    assert hits and all(h["metadata"]["year"] >= 2016 and h["metadata"]["lab"] == "south"
                        for h in hits)
    bad = runner.invoke(cli, ["search", "vitamin", "-i", index, "--backend", "fake",
                              "--where", "year >"])
    assert bad.exit_code != 0 and "filter" in bad.output and "Traceback" not in bad.output
