"""Ordinary mistakes give one clear error, never a traceback (issue 11's defects)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from glossdb.store import querylog
from glossdb import Index
from glossdb.errors import IndexCorrupt, NoSuchIndex, UnknownChunk, translate
from glossdb.store import SQLiteStore, open_store
from glossdb.store.migrations import MIGRATIONS


def test_index_path_that_is_a_folder(tmp_path):
    with pytest.raises(IndexCorrupt, match="is a folder, not an index file"):
        SQLiteStore(tmp_path)


def test_index_in_a_folder_that_does_not_exist(tmp_path):
    with pytest.raises(NoSuchIndex, match="does not exist"):
        SQLiteStore(tmp_path / "nowhere" / "x.glossdb")


def test_opening_a_missing_index_without_create_says_so(tmp_path):
    with pytest.raises(NoSuchIndex, match="no index at"):
        Index(tmp_path / "typo.glossdb", create=False)
    assert not (tmp_path / "typo.glossdb").exists()


def test_a_huge_chunk_id_is_an_unknown_chunk(index, corpus):
    index.add([corpus])
    with pytest.raises(UnknownChunk):
        index.show(99999999999999999999999)


def test_sqlite_errors_translate_with_a_fix():
    busy = translate(sqlite3.OperationalError("database is locked"))
    assert busy is not None and "another process" in str(busy)
    damaged = translate(sqlite3.DatabaseError("vtable constructor failed: chunk_fts"))
    assert isinstance(damaged, IndexCorrupt) and "integrity_check" in str(damaged)
    assert translate(ValueError("x")) is None


def test_two_processes_creating_one_index_both_succeed(tmp_path):
    """Schema setup is one transaction that a second process waits for (5 races)."""
    code = textwrap.dedent("""
        import sys
        from glossdb.store import SQLiteStore, open_store
        SQLiteStore(sys.argv[1]).close()
    """)
    for attempt in range(5):
        path = tmp_path / f"race{attempt}.glossdb"
        procs = [subprocess.Popen([sys.executable, "-c", code, str(path)],
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        for p in procs:
            _, err = p.communicate(timeout=180)
            assert p.returncode == 0, err
        db = sqlite3.connect(path)
        names = [r[0] for r in db.execute("SELECT name FROM _migrations")]
        assert names == [m.__name__ for m in MIGRATIONS]
        db.close()


@pytest.mark.parametrize("query,message", [
    ("x " * 8001, "too long"),
    ("\x00\x01\x02", "empty"),
    ("   ", "empty"),
])
def test_queries_are_bounded_and_cleaned(index, corpus, query, message):
    from glossdb.errors import InvalidQuery

    index.add([corpus])
    with pytest.raises(InvalidQuery, match=message):
        index.search(query)


def test_control_characters_are_folded_out_of_a_query(index, corpus):
    index.add([corpus])
    assert index.search("cats\x00 purr\x07", k=1)
    assert querylog.recent_queries(index.store, 1) == ["cats purr"]


def _gloss_workers(location: str, environment: dict, n: int) -> list[subprocess.Popen]:
    code = (f"from glossdb import Index; ix = Index({location!r}); "
            "print(ix.gloss(), flush=True)")
    return [subprocess.Popen([sys.executable, "-c", code], env=environment,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(n)]


def _unglossed_index(tmp_path, location: str, files: int = 12) -> dict:
    from bench.crash import corpus, env

    docs = corpus(tmp_path / "docs", files=files)
    environment = env(0.05)
    subprocess.run([sys.executable, "-c", f"from glossdb import Index; "
                    f"Index({location!r}).add([{str(docs)!r}], gloss=False)"],
                   env=environment, check=True)
    return environment


HELD_WORKER = """
import os, sys, time
from glossdb import Index
from glossdb.backends.fake import FakeModel
location, held, go = sys.argv[1:]

class Held(FakeModel):
    first = True

    def _generate_batch(self, requests):  # after its first claim: say so, wait for go
        if self.first:
            self.first = False
            open(held, "w").close()
            while not os.path.exists(go):
                time.sleep(0.02)
        return super()._generate_batch(requests)

model = Held()
print(Index(location, models={"judge": model, "writer": model}).gloss(), flush=True)
"""


def test_two_processes_glossing_one_index_never_gloss_a_chunk_twice(tmp_path, location):
    """Each `glossdb gloss` claims its batches; the union is every chunk, once. The first
    worker is held after its first claim until the second has finished, so both write
    whatever the machine's scheduling (no test here depends on it)."""
    import time

    environment = _unglossed_index(tmp_path, location)
    held, go = tmp_path / "held", tmp_path / "go"
    first = subprocess.Popen([sys.executable, "-c", HELD_WORKER, location, str(held), str(go)],
                             env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    while not held.exists() and first.poll() is None:
        time.sleep(0.02)
    (second,) = _gloss_workers(location, environment, 1)
    out2, err2 = second.communicate(timeout=300)
    go.touch()
    out1, err1 = first.communicate(timeout=300)
    assert first.returncode == 0 and second.returncode == 0, err1 + err2
    written = [int(out.strip().splitlines()[-1]) for out in (out1, out2)]
    store = open_store(location, create=False)
    counts = store.counts()
    assert sum(written) == counts["chunks"] == counts["glosses"]  # each chunk once, by one
    assert all(w > 0 for w in written)  # the held batch, and the rest
    assert store.db.execute("SELECT count(*) FROM gloss_claims").fetchone()[0] == 0
    store.close()


def test_a_killed_workers_claims_go_to_the_next_worker(tmp_path, location):
    """kill -9 of a worker mid-batch: another worker takes its claims over at once (same
    host: its process is gone) and every chunk ends with one gloss; none lost."""
    import signal
    import time

    environment = _unglossed_index(tmp_path, location)
    store = open_store(location, create=False)
    claimed = "SELECT count(*) FROM gloss_claims"
    victim = _gloss_workers(location, environment, 1)[0]
    deadline = time.monotonic() + 120
    while store.db.execute(claimed).fetchone()[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert store.db.execute(claimed).fetchone()[0] > 0  # it died holding a claim
    before = store.counts()["glosses"]
    (heir,) = _gloss_workers(location, environment, 1)
    out, err = heir.communicate(timeout=300)
    assert heir.returncode == 0, err
    counts = store.counts()
    assert before + int(out.strip().splitlines()[-1]) == counts["chunks"] == counts["glosses"]
    assert store.db.execute(claimed).fetchone()[0] == 0
    store.close()


def test_a_read_only_index_can_be_searched(corpus):
    """File and folder without write permission: stats and search work and write nothing.
    As root, permissions do not bind, so the search runs without CAP_DAC_OVERRIDE."""
    import os
    import shutil
    import stat
    import tempfile

    from glossdb.backends.fake import FakeModel

    work = tempfile.mkdtemp(dir="/tmp", prefix="glossdb-ro-")
    os.chmod(work, 0o755)
    path = os.path.join(work, "ro.glossdb")
    fake = FakeModel()
    ix = Index(path, models={"judge": fake, "writer": fake}, embedder="hashing")
    ix.add([corpus])
    ix.close()
    before = os.path.getsize(path)
    os.chmod(path, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    os.chmod(work, 0o555)
    code = textwrap.dedent(f"""
        import json
        from glossdb import Index
        from glossdb.backends.fake import FakeModel
        fake = FakeModel()
        ix = Index({path!r}, models={{"judge": fake, "writer": fake}}, embedder="hashing")
        hits = ix.search("cats purr", k=2)
        print(json.dumps([ix.store.readonly, len(hits), ix.stats().chunks]))
    """)
    cmd = [sys.executable, "-c", code]
    if os.geteuid() == 0:
        caps = "-dac_override,-dac_read_search"
        cmd = ["setpriv", "--bounding-set", caps, "--inh-caps", caps, "--"] + cmd
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                             env={**os.environ, "HOME": work})
        assert out.returncode == 0, out.stderr
        readonly, hits, chunks = json.loads(out.stdout.strip().splitlines()[-1])
        assert readonly and hits == 2 and chunks > 0
        assert os.path.getsize(path) == before
    finally:
        os.chmod(work, 0o755)
        shutil.rmtree(work)


def test_a_huge_one_line_file_is_announced(tmp_path, fake):
    index = Index(tmp_path / "big.glossdb", models={"judge": fake, "writer": fake},
                  embedder="hashing")
    path = tmp_path / "big.txt"
    path.write_text(" ".join(f"word{i}" for i in range(260_000)))  # ~2 MB on one line
    seen = []
    report = index.add([path], gloss=False, on_warn=lambda p, why: seen.append(why))
    assert report.chunks_added > 500 and report.warnings
    assert "chunks: glossing them takes about" in seen[0]
    index.close()


def test_index_open_requires_an_existing_index(tmp_path):
    with pytest.raises(NoSuchIndex, match="no index at"):
        Index.open(tmp_path / "typo.glossdb")
    assert not (tmp_path / "typo.glossdb").exists()


def test_damage_found_after_open_is_one_line_and_exit_6(tmp_path, corpus):
    """20 KB of random bytes at seven places in the file: the CLI says so, no traceback."""
    import os
    import random

    env = {**os.environ, "GLOSSDB_BACKEND": "fake", "GLOSSDB_EMBEDDER": "hashing"}
    path = tmp_path / "d.glossdb"
    for i in range(30):
        (corpus / f"extra{i}.md").write_text(f"# Extra {i}\n\n" + "filler words here " * 200)
    subprocess.run([sys.executable, "-m", "glossdb", "add", str(corpus), "-i", str(path)],
                   env=env, check=True, capture_output=True)
    size = path.stat().st_size
    noise = random.Random(0).randbytes(20_000)  # fixed: the same pages every run
    with path.open("r+b") as fh:  # every eighth of the way in: whatever the layout
        for at in (k * size // 8 for k in range(1, 8)):
            fh.seek(at)
            fh.write(noise)
    out = subprocess.run([sys.executable, "-m", "glossdb", "search", "cats purr", "-i",
                          str(path)], env=env, capture_output=True, text=True)
    assert out.returncode == 6, out.stderr
    assert "Traceback" not in out.stderr and out.stderr.startswith("Error: ")
    assert len(out.stderr.strip().splitlines()) == 1
