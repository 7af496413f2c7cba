"""Committed writes are never lost, whoever else opens the index (issue 21).

The defect these pin: reading the index file's header with Python's ``open()``/``close()``
while a connection of the same process held the file dropped that process's POSIX locks, so
another process's close checkpointed and deleted the WAL under a running ``serve``, and the
writes the server went on reporting were lost.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

import pytest

from glossdb import Index
from glossdb.backends.fake import FakeModel
from glossdb.store import SQLiteStore

OTHER_PROCESS = textwrap.dedent("""
    import sqlite3, sys
    db = sqlite3.connect(sys.argv[1])
    print(db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])
    db.close()   # the last connection out checkpoints and deletes the WAL, if it is the last
""")


def rows_on_disk(path) -> int:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT count(*) FROM probe").fetchone()[0]
    finally:
        db.close()


@pytest.mark.parametrize("reopen", ["store", "index", "fork"])
def test_a_second_open_in_the_same_process_keeps_the_first_connections_locks(tmp_path, reopen,
                                                                              fake):
    path = tmp_path / "t.glossdb"
    writer = SQLiteStore(path)
    writer.db.execute("CREATE TABLE probe(x INTEGER)")
    with writer.transaction() as db:
        db.execute("INSERT INTO probe VALUES (1)")
    # what a server thread does on its first request, or a second handle in one program
    if reopen == "store":
        SQLiteStore(path).close()
    elif reopen == "index":
        Index.open(path, models={"judge": fake, "writer": fake}).close()
    else:
        base = Index.open(path, models={"judge": fake, "writer": fake})
        base.fork().close()
        base.close()
    out = subprocess.run([sys.executable, "-c", OTHER_PROCESS, str(path)], check=True,
                         capture_output=True, text=True)
    assert int(out.stdout) > 0
    for n in range(2, 12):  # written after the other process came and went
        with writer.transaction() as db:
            db.execute("INSERT INTO probe VALUES (?)", (n,))
    assert writer.db.execute("SELECT count(*) FROM probe").fetchone()[0] == 11
    assert rows_on_disk(path) == 11, "another process does not see what was committed"
    writer.close()
    assert rows_on_disk(path) == 11, "committed rows were lost"
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_file_that_is_not_sqlite_is_refused_without_being_touched(tmp_path):
    junk = tmp_path / "junk.glossdb"
    junk.write_bytes(b"not a database at all " * 100)
    from glossdb.errors import IndexCorrupt
    with pytest.raises(IndexCorrupt, match="not a glossdb index .not an SQLite file"):
        SQLiteStore(junk)
    assert junk.read_bytes() == b"not a database at all " * 100
    assert not (tmp_path / "junk.glossdb-wal").exists()


def test_add_never_reads_the_index_file_as_a_document(tmp_path, fake):
    """An index named like a document inside the folder being added is skipped, unopened."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nSome words about rivers.\n")
    ix = Index(docs / "index.txt", models={"judge": fake, "writer": fake})
    ix.store  # the file exists before the folder is walked
    report = ix.add([docs])
    assert any("index's own file" in why for _, why in report.skipped)
    assert [d for d in ix.store.db.execute("SELECT uri FROM documents")] == [(str(docs / "a.md"),)]
    ix.close()


class _Meddling(FakeModel):
    """A judge during whose model call another process changes the index."""

    def __init__(self, meddle):
        super().__init__()
        self.meddle, self.done = meddle, False

    def _logprobs_batch(self, requests):
        if not self.done and len(requests) > 1:
            self.done = True
            self.meddle()
        return super()._logprobs_batch(requests)


def _two_handles(tmp_path, corpus, meddle_with):
    path = tmp_path / "t.glossdb"
    writer = FakeModel()
    Index(path, models={"judge": writer, "writer": writer}).add([corpus])
    other = Index.open(path, models={"judge": writer, "writer": writer})
    judge = _Meddling(lambda: meddle_with(other))
    return Index.open(path, models={"judge": judge, "writer": writer}), other


def test_a_chunk_removed_while_it_is_judged_is_skipped_not_an_error(tmp_path, corpus):
    ix, other = _two_handles(tmp_path, corpus,
                             lambda o: o.remove([str(corpus / "rockets.txt")]))
    hits = ix.search("rockets thrust cats bread", k=5)  # was: FOREIGN KEY constraint failed
    assert hits
    rows = ix.store.db.execute("SELECT count(*) FROM judgments j LEFT JOIN chunks c"
                               " ON c.id = j.chunk_id WHERE c.id IS NULL").fetchone()[0]
    assert rows == 0
    ix.close()
    other.close()


def test_a_hit_shows_the_gloss_its_judgment_read(tmp_path, corpus):
    path = tmp_path / "t.glossdb"
    fake = FakeModel()
    base = Index(path, models={"judge": fake, "writer": fake})
    base.add([corpus], gloss=False)
    other = Index.open(path, models={"judge": fake, "writer": fake})
    judge = _Meddling(lambda: other.gloss())  # glosses land while the search's judge runs
    ix = Index.open(path, models={"judge": judge, "writer": fake})
    hits = ix.search("cats purr sleep", k=3)
    assert hits and all(h.gloss is None for h in hits), "judged on the lead, shown as glossed"
    again = ix.search("cats purr sleep", k=3)  # now judged on the glosses
    assert all(h.gloss is not None for h in again)
    for handle in (ix, other, base):
        handle.close()


def test_serve_with_background_glossing_shuts_down_without_a_traceback(tmp_path):
    """SIGTERM of `glossdb serve` while its worker glosses (the worker's stop event once
    shadowed threading.Thread._stop: every shutdown printed a TypeError)."""
    import signal

    import httpx

    from bench.crash import corpus, env
    from bench.load import free_port

    index = str(tmp_path / "s.glossdb")
    subprocess.run([sys.executable, "-m", "glossdb", "add", str(corpus(tmp_path / "d", 12)),
                    "-i", index, "--gloss", "later"], env=env(0), check=True,
                   capture_output=True)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "glossdb", "serve", "-i", index, "--port",
                             str(port)], env=env(0.2), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        written = 0
        for _ in range(600):  # until the worker has written a batch (or the server died)
            try:
                stats = httpx.get(f"http://127.0.0.1:{port}/api/stats", timeout=10).json()
                written = stats["background_glossing"]["written"]
            except httpx.HTTPError:
                pass
            if written or proc.poll() is not None:
                break
            subprocess.run(["sleep", "0.1"])
        assert written > 0
    finally:
        proc.send_signal(signal.SIGTERM)
        log, _ = proc.communicate(timeout=120)
    assert proc.returncode in (0, -signal.SIGTERM), log  # uvicorn re-raises the signal
    assert "Application shutdown complete" in log
    assert "Traceback" not in log and "Error" not in log, log


def test_a_long_running_handle_sees_settings_another_process_saved(tmp_path, corpus, fake):
    """`glossdb use` (or `tune --write`) in another process changes the settings file; a
    running serve's handle re-reads it (it kept the settings it started with)."""
    path = tmp_path / "t.glossdb"
    serving = Index(path, models={"judge": fake, "writer": fake})
    serving.add([corpus])
    name = serving.representation().name
    assert serving.config.representation == ""
    other = Index.open(path, models={"judge": fake, "writer": fake})
    other.use(name)
    assert serving.config.representation == name
    assert serving.fork().config.representation == name
    other.use(None)
    assert serving.config.representation == ""
    for handle in (serving, other):
        handle.close()
