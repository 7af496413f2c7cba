"""What a verb costs the database, counted with SQLite's trace callback: a test fails if the
counts grow back (issue 22: reads do not write). FTS5's own internal statements (traced with
a leading "--") are not counted."""

from __future__ import annotations

import pytest

from glossdb import Index
from glossdb.backends.fake import FakeModel

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


@pytest.fixture
def traced(tmp_path, corpus, monkeypatch):
    monkeypatch.setenv("GLOSSDB_EMBEDDER", "hashing")
    fake = FakeModel()
    statements: list[str] = []
    ix = Index(tmp_path / "t.glossdb", models={"judge": fake, "writer": fake},
               tracer=statements.append)
    ix.add([corpus / "cats.md"])

    def run(verb) -> list[str]:
        statements.clear()
        verb(ix)
        return [s.strip() for s in statements if not s.lstrip().startswith("--")]

    yield run
    ix.close()


def writes(statements: list[str]) -> list[str]:
    return [s.split("(")[0].strip() for s in statements if s.upper().startswith(WRITES)]


def test_a_repeated_search_writes_only_its_query_log_row(traced):
    traced(lambda ix: ix.search("cats purr"))
    again = traced(lambda ix: ix.search("cats purr"))
    assert writes(again) == ["INSERT INTO query_log"]
    assert not any(s.startswith("BEGIN") for s in again)  # never the write lock
    assert len(again) <= 12, again  # 17 before the baseline was read once a search


def test_a_new_query_writes_its_judgments_baseline_and_log(traced):
    traced(lambda ix: ix.search("cats purr"))  # the judge's version row, once
    first = traced(lambda ix: ix.search("sleeping cats"))
    assert set(writes(first)) <= {"INSERT INTO judgments", "INSERT INTO query_baselines",
                                  "INSERT INTO query_log"}
    assert sum(s.startswith("BEGIN") for s in first) <= 2
    assert len(first) <= 19, first


def test_a_one_chunk_add_costs_what_it_costs_today(traced, corpus, tmp_path):
    one = tmp_path / "one.md"
    one.write_text("# Owls\n\nOwls hunt at night.\n")
    added = traced(lambda ix: ix.add([one]))
    assert sum(s.startswith("BEGIN") for s in added) <= 9
    assert len(added) <= 130, len(added)


def test_a_plain_search_loads_the_judge_only(tmp_path, corpus):
    """The writer (glosses, explanations) is loaded by what needs it, not by every search:
    its version's name is remembered in the index the first time it is worked out."""
    from glossdb.models import DEFAULT_MODEL, DEFAULT_WRITER

    settings = {"backend": "fake", "embedder": "hashing"}
    with Index(tmp_path / "t.glossdb", **settings) as ix:
        ix.add([corpus])
    with Index.open(tmp_path / "t.glossdb", **settings) as ix:
        loaded: list[str] = []
        ix.on_model_load = loaded.append
        hits = ix.search("cats purr")
        assert hits and hits[0].gloss  # it read the writer's glosses all the same
        assert loaded == [f"{DEFAULT_MODEL} (fake)"]
        ix.search("cats purr", explain=True)
        assert loaded == [f"{DEFAULT_MODEL} (fake)", f"{DEFAULT_WRITER} (fake)"]


def test_a_search_registers_no_version_even_when_its_backend_fails(tmp_path, corpus):
    """A search under a writer the index never glossed with reads nothing and registers
    nothing (a failed `--backend openai` search once left a phantom version in `stats`)."""
    from glossdb.errors import BackendError

    fake = FakeModel()
    with Index(tmp_path / "t.glossdb", models={"judge": fake, "writer": fake}) as ix:
        ix.add([corpus])
        before = ix.store.representations()

    class Down(FakeModel):
        def _logprobs_batch(self, requests):
            raise BackendError("the server is down")

    other = FakeModel("another-writer")
    with Index.open(tmp_path / "t.glossdb", models={"judge": fake, "writer": other}) as ix:
        hits = ix.search("cats purr")
        assert hits and all(h.gloss is None for h in hits)  # that version has no glosses
        assert ix.store.representations() == before
    with Index.open(tmp_path / "t.glossdb", models={"judge": Down(), "writer": other}) as ix:
        with pytest.raises(BackendError):
            ix.search("rockets thrust")
        assert ix.store.representations() == before
        assert ix.stats().representations == [
            r for r in ix.stats().representations if r["name"] in {b.name for b, _ in before}]
