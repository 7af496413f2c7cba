"""glossdb_search as a table in SQL (SQLite: apsw table-valued function; PostgreSQL: run
first, read as a temporary table), and glossdb_match judged in batches."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from glossdb import Index
from glossdb.cli import cli
from glossdb.errors import InvalidQuery
from glossdb.sql_verbs import SEARCH_COLUMNS

from .test_where import papers


@pytest.fixture
def paper_index(tmp_path, fake):
    """An SQLite index of the papers fixture (tests/test_where.py) on the fake model."""
    path, _ = papers(tmp_path)
    ix = Index(tmp_path / "p.glossdb", models={"judge": fake, "writer": fake})
    ix.add([path])
    yield ix
    ix.close()


def test_glossdb_search_is_a_table_joined_to_documents(tmp_path, location, fake):
    path, _ = papers(tmp_path)
    ix = Index(location, models={"judge": fake, "writer": fake})
    ix.add([path])
    hits = ix.search("vitamin D fractures", k=5)
    cols, rows = ix.sql(
        "SELECT s.rank, s.chunk_id, d.title, s.verdict FROM glossdb_search('vitamin D "
        "fractures', 5) s JOIN chunks c ON c.id = s.chunk_id JOIN documents d ON "
        "d.id = c.document_id ORDER BY s.rank")
    assert cols == ["rank", "chunk_id", "title", "verdict"]
    assert [(r[0], r[1], r[3]) for r in rows] == [(h.rank, h.chunk_id, h.verdict) for h in hits]
    assert [r[2] for r in rows] == [h.title for h in hits]
    cols, rows = ix.sql("WITH top AS (SELECT * FROM glossdb_search('vitamin D', 3, "
                        "'year >= 2016')) SELECT count(*), min(rank) FROM top")
    assert rows == [(3, 1)]
    cols, _ = ix.sql("SELECT * FROM glossdb_search('vitamin', 1)")
    assert cols[:len(SEARCH_COLUMNS)] == list(SEARCH_COLUMNS)
    ix.close()


def test_on_sqlite_the_query_may_come_from_another_table(paper_index):
    ix = paper_index
    ix.sql("CREATE TABLE asks (q TEXT)")
    ix.sql("INSERT INTO asks VALUES ('cohort 3'), ('calcium intake')")
    _, rows = ix.sql("SELECT a.q, s.rank, s.chunk_id FROM asks a, glossdb_search(a.q, 2) s "
                     "ORDER BY a.q, s.rank")
    assert [r[:2] for r in rows] == [("calcium intake", 1), ("calcium intake", 2),
                                     ("cohort 3", 1), ("cohort 3", 2)]
    assert rows[2][2] == ix.search("cohort 3", k=1)[0].chunk_id
    with pytest.raises(InvalidQuery, match="second statement"):
        ix.sql("INSERT INTO asks SELECT uri FROM glossdb_search('cohort', 1)")


def test_postgres_refuses_a_search_fed_from_a_column(pg_url, fake, tmp_path):
    path, _ = papers(tmp_path)
    ix = Index(pg_url, models={"judge": fake, "writer": fake})
    ix.add([path])
    with pytest.raises(InvalidQuery, match="literal arguments"):
        ix.sql("SELECT * FROM documents d, glossdb_search(d.title, 2) s")
    _, rows = ix.sql("SELECT count(*) FROM glossdb_search('it''s vitamin D', 2)")
    assert rows == [(2,)]
    ix.close()


def test_glossdb_match_over_many_rows_is_judged_in_one_batch(paper_index, fake):
    ix = paper_index
    statement = ("SELECT c.id, glossdb_match('cohort 7 calcium', c.id) AS s, "
                 "glossdb_verdict('cohort 7 calcium', c.id) AS v FROM chunks c "
                 "ORDER BY s DESC LIMIT 3")
    before = len(fake.history)
    cols, rows = ix.sql(statement)
    assert ix.last_sql_calls == {"collected": 30, "batches": 1, "single": 0}
    assert len(rows) == 3 and rows[0][1] >= rows[1][1] >= rows[2][1]
    assert all(v in ("no match", "weak match", "match", "strong match") for *_, v in rows)
    judged = len(fake.history) - before
    again = ix.sql(statement)  # every pair is now a stored judgment: no model call
    assert again == (cols, rows) and len(fake.history) - before == judged


def test_a_writing_statement_collects_its_pairs_in_a_pass_rolled_back(paper_index):
    ix = paper_index
    ix.sql("CREATE TABLE scored (id INTEGER, s REAL)")
    ix.sql("INSERT INTO scored SELECT id, glossdb_match('calcium', id) FROM chunks LIMIT 4")
    assert ix.last_sql_calls == {"collected": 4, "batches": 1, "single": 0}
    assert ix.sql("SELECT count(*) FROM scored")[1] == [(4,)]  # written once, not twice


def test_cli_sql_joins_the_search_table(tmp_path):
    path, _ = papers(tmp_path)
    index = str(tmp_path / "cli.glossdb")
    runner = CliRunner()
    runner.invoke(cli, ["add", str(path), "-i", index, "--backend", "fake"])
    out = runner.invoke(cli, ["sql", "SELECT s.rank, d.title FROM glossdb_search('vitamin D "
                              "fractures', 2) s JOIN chunks c ON c.id = s.chunk_id JOIN "
                              "documents d ON d.id = c.document_id", "-i", index, "--backend",
                              "fake", "--csv"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0] == "rank,title" and lines[1].startswith("1,Vitamin D study")


def test_glossdb_filter_is_a_table_too(paper_index):
    ix = paper_index
    kept = ix.filter("cohort 3 vitamin", candidates=20).kept
    cols, rows = ix.sql("SELECT chunk_id, judged, rows FROM glossdb_filter('cohort 3 vitamin', "
                        "20)")
    assert cols == ["chunk_id", "judged", "rows"] and [r[0] for r in rows] == kept
    assert all(r[2] == 20 for r in rows)
