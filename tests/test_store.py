from __future__ import annotations

import sqlite3

import pytest

from glossdb.errors import IndexCorrupt, NoSuchIndex, UnknownChunk
from glossdb.store import ChunkDraft, Judgment, SQLiteStore, open_store
from glossdb.store.postgres import display
from glossdb.store.migrations import MIGRATIONS


def drafts(*texts: str) -> list[ChunkDraft]:
    out, at = [], 0
    for t in texts:
        out.append(ChunkDraft(t, at, at + len(t)))
        at += len(t) + 2
    return out


def test_schema_wal_and_migrations_are_idempotent(tmp_path):
    path = tmp_path / "a.glossdb"
    SQLiteStore(path).close()
    store = SQLiteStore(path)
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    names = [r[0] for r in store.db.execute("SELECT name FROM _migrations")]
    assert names == [m.__name__ for m in MIGRATIONS]
    store.close()


def test_glosses_are_plain_rows_readable_with_sqlite3(tmp_path):
    store = SQLiteStore(tmp_path / "a.glossdb")
    with store.transaction():
        doc = store.upsert_document("u", "T", "h", {})
        store.replace_chunks(doc, drafts("alpha text"))
    rep = store.ensure_representation("gloss-x", "m", "tmpl", {})
    store.put_glosses(rep.id, [(store.chunk_ids()[0], "about alpha")], searchable=True)
    store.close()
    raw = sqlite3.connect(tmp_path / "a.glossdb")
    assert raw.execute("SELECT text FROM glosses").fetchall() == [("about alpha",)]


def test_replace_chunks_keeps_unchanged_ids_and_drops_stale(location):
    store = open_store(location)
    with store.transaction():
        doc = store.upsert_document("u", None, "h1", {})
        assert store.replace_chunks(doc, drafts("one", "two", "three")) == (0, 3)
    ids = store.chunk_ids()
    with store.transaction():
        assert store.replace_chunks(doc, drafts("one", "three", "four")) == (2, 1)
    new_ids = store.chunk_ids()
    assert ids[0] in new_ids and ids[2] in new_ids and ids[1] not in new_ids
    assert store.fts_search(["two"], 10) == []
    assert [c for c, _ in store.fts_search(["four"], 10)] == [new_ids[-1]]


def test_delete_document_cascades_to_everything_derived(location):
    store = open_store(location)
    with store.transaction():
        doc = store.upsert_document("u", None, "h", {})
        store.replace_chunks(doc, drafts("alpha beta"))
    cid = store.chunk_ids()[0]
    rep = store.ensure_representation("g", "m", "t", {})
    judge = store.ensure_judge("j", "m", "query-likelihood", "t")
    store.put_glosses(rep.id, [(cid, "gloss")], searchable=True)
    store.put_judgments("q", rep.id, judge.id, [Judgment(cid, -1.0, "because")])
    assert store.delete_document("u") == 1
    counts = store.counts()
    assert counts["chunks"] == counts["glosses"] == counts["judgments"] == 0
    assert store.db.execute("SELECT count(*) FROM chunk_fts").fetchone()[0] == 0


def test_judgment_upsert_keeps_an_explanation_when_rescored(location):
    store = open_store(location)
    with store.transaction():
        doc = store.upsert_document("u", None, "h", {})
        store.replace_chunks(doc, drafts("x"))
    cid = store.chunk_ids()[0]
    rep = store.ensure_representation("g", "m", "t", {})
    judge = store.ensure_judge("j", "m", "query-likelihood", "t")
    store.put_judgments("q", rep.id, judge.id, [Judgment(cid, -1.0, "reason")])
    store.put_judgments("q", rep.id, judge.id, [Judgment(cid, -1.0)])
    got = store.judgments("q", [cid], rep.id, judge.id)[cid]
    assert got.explanation == "reason" and got.cached


def test_tracer_sees_every_statement(location):
    seen: list[str] = []
    store = open_store(location, tracer=seen.append)
    store.get_setting("x")
    assert any("FROM settings" in s for s in seen)


def test_transaction_rolls_back_on_error(location):
    store = open_store(location)
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.upsert_document("u", None, "h", {})
            raise RuntimeError("boom")
    assert store.counts()["documents"] == 0


def test_corrupt_or_foreign_files_are_refused_untouched(tmp_path):
    junk = tmp_path / "junk.glossdb"
    junk.write_bytes(b"this is not sqlite at all" * 10)
    before = junk.read_bytes()
    with pytest.raises(IndexCorrupt, match="not a glossdb index"):
        SQLiteStore(junk)
    assert junk.read_bytes() == before
    foreign = tmp_path / "foreign.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(IndexCorrupt, match="did not create"):
        SQLiteStore(foreign)


def test_missing_index_is_not_created_when_reading(tmp_path):
    with pytest.raises(NoSuchIndex, match="no index"):
        SQLiteStore(tmp_path / "nope.glossdb", create=False)
    assert not (tmp_path / "nope.glossdb").exists()


def test_unknown_chunk_error_says_how_to_find_ids(location):
    store = open_store(location)
    with pytest.raises(UnknownChunk, match="glossdb search"):
        store.get_chunk(42)


def test_both_stores_make_the_same_tables(tmp_path, pg_url):
    lite = SQLiteStore(tmp_path / "a.glossdb")
    pg = open_store(pg_url)
    tables = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'chunk_fts_%'"
    mine = {r[0] for r in lite.db.execute(tables)}
    theirs = {r[0] for r in pg.db.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
    assert mine == theirs - {"chunk_terms"}  # PostgreSQL's inverted index for BM25
    names = [r[0] for r in pg.db.execute("SELECT name FROM _migrations ORDER BY name")]
    assert names == [m.__name__ for m in MIGRATIONS]
    lite.close()
    pg.close()


def test_postgres_refuses_a_foreign_database_and_never_creates_when_reading(pg_url):
    with pytest.raises(NoSuchIndex, match="no index in"):
        open_store(pg_url, create=False)
    raw = open_store(pg_url).db.conn  # now a glossdb index: add a foreign table beside it
    raw.execute("CREATE SCHEMA other; CREATE TABLE other.t (x int)")
    foreign = pg_url + "?options=-csearch_path%3Dother"
    with pytest.raises(IndexCorrupt, match="did not create"):
        open_store(foreign)
    with pytest.raises(NoSuchIndex, match="cannot connect"):
        open_store(pg_url.rsplit("/", 1)[0] + "/no_such_database")


def test_a_password_never_reaches_a_message():
    assert display("postgresql://u:s3cret@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert display("postgresql://u@h/db") == "postgresql://u@h/db"


def test_postgres_bm25_equals_a_python_oracle(pg_url):
    """The store's BM25 in SQL against the formula computed here from the same tsvectors."""
    import math

    from glossdb.store.postgres import B, K1

    store = open_store(pg_url)
    texts = ["cats purr and cats sleep", "a dog barks at the cat", "rockets burn fuel",
             "the sleepy cat purrs softly while another cat sleeps", "fuel for dogs"]
    with store.transaction():
        store.replace_chunks(store.upsert_document("u", None, "h", {}), drafts(*texts))
    rows = store.db.execute("SELECT rowid, doclen, (SELECT json_agg(json_build_array(lexeme,"
                            " array_length(positions, 1))) FROM unnest(tsv)) FROM chunk_fts")
    docs = {cid: (dl, dict(tf)) for cid, dl, tf in rows}
    lexemes = [r[0] for r in store.db.execute(
        "SELECT unnest(tsvector_to_array(to_tsvector('english', 'cat sleeping fuel')))")]
    n, avgdl = len(docs), sum(dl for dl, _ in docs.values()) / len(docs)
    oracle = {}
    for cid, (dl, tf) in docs.items():
        score = 0.0
        for lex in lexemes:
            df = sum(lex in t for _, t in docs.values())
            if lex in tf:
                idf = max(math.log((n - df + 0.5) / (df + 0.5)), 1e-6)  # FTS5's idf
                score += idf * tf[lex] * (K1 + 1) / (tf[lex] + K1 * (1 - B + B * dl / avgdl))
        if score:
            oracle[cid] = score
    got = dict(store.fts_search(["cat", "sleeping", "fuel"], 10))
    assert got.keys() == oracle.keys()
    assert all(abs(got[c] - oracle[c]) < 1e-9 for c in got)
    assert [c for c, _ in store.fts_search(["cat", "sleeping", "fuel"], 10)] == sorted(
        oracle, key=lambda c: (-oracle[c], c))
    rockets = next(c for c, (_, tf) in docs.items() if "rocket" in tf)
    rep = store.ensure_representation("g", "m", "t", {})
    store.put_glosses(rep.id, [(rockets, "propulsion of launch vehicles")], searchable=True)
    assert [c for c, _ in store.fts_search(["propulsion"], 10)] == [rockets]
    assert store.delete_document("u") == len(texts)
    assert store.db.execute("SELECT count(*) FROM chunk_terms").fetchone()[0] == 0
    store.close()


def test_postgres_replaces_a_connection_the_server_dropped(pg_url):
    """A server restart or failover kills the session: the statement that meets it fails
    with a translated error, the next one runs on a new connection."""
    import psycopg

    from glossdb.errors import IndexBusy, translate

    store = open_store(pg_url)
    with store.transaction():
        store.replace_chunks(store.upsert_document("u", None, "h", {}), drafts("alpha"))
    pid = store.db.execute("SELECT pg_backend_pid()").fetchone()[0]
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(psycopg.OperationalError) as failed:
        store.counts()
    assert isinstance(translate(failed.value), IndexBusy)
    assert store.counts()["chunks"] == 1
    assert store.db.execute("SELECT pg_backend_pid()").fetchone()[0] != pid
    store.close()


def test_document_uris_ending_matches_a_path_tail_exactly(location):
    store = open_store(location)
    for uri in ("/a/docs/notes_1.md", "/a/docs/Notes_1.md", "/b/x%notes_1.md",
                "/c/papers.jsonl#7", "/c/old/papers.jsonl#8"):
        with store.transaction():
            store.upsert_document(uri, None, "h", {})
    assert store.document_uris_ending("notes_1.md") == ["/a/docs/notes_1.md"]
    assert store.document_uris_ending("docs/notes_1.md") == ["/a/docs/notes_1.md"]
    assert store.document_uris_ending("papers.jsonl") == ["/c/old/papers.jsonl#8",
                                                          "/c/papers.jsonl#7"]
    store.close()
