"""The Index facade with the fake model: plumbing, caching, incremental work, resume."""

from __future__ import annotations

import pytest

from glossdb import Index
from glossdb.backends.base import GenerateRequest, ScoreRequest
from glossdb.backends.fake import FakeModel
from glossdb.errors import IngestError, InvalidQuery, UnknownChunk, UnknownDocument
from glossdb.judge import Judge, JudgeSpec

from .conftest import interrupting_model



@pytest.fixture
def index(any_index):
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_index

def generate_calls(model: FakeModel) -> int:
    return sum(isinstance(r, GenerateRequest) for r in model.history)


def score_calls(model: FakeModel) -> int:
    return sum(isinstance(r, ScoreRequest) for r in model.history)


def test_add_glosses_every_chunk_and_reports(index, corpus, fake):
    report = index.add([corpus])
    assert report.files == 3 and report.documents_new == 3
    assert report.glosses_written == report.chunks_added == index.store.counts()["glosses"]
    assert generate_calls(fake) == report.chunks_added


def test_readding_unchanged_content_makes_no_llm_call(index, corpus, fake):
    index.add([corpus])
    fake.history.clear()
    report = index.add([corpus])
    assert report.documents_unchanged == 3 and report.glosses_written == 0
    assert fake.history == []


def test_changed_document_glosses_only_its_new_chunks(index, corpus, fake):
    index.add([corpus])
    fake.history.clear()
    md = corpus / "cats.md"
    md.write_text(md.read_text() + "\n## Diet\n\nCats need taurine in their food.\n")
    report = index.add([corpus])
    assert report.documents_changed == 1 and report.chunks_added == 1 and report.chunks_kept == 2
    assert generate_calls(fake) == 1
    assert "taurine" in fake.history[0].prompt


def test_interrupted_glossing_resumes_without_losing_work(tmp_path, corpus):
    flaky = interrupting_model(on_call=3)
    ix = Index(tmp_path / "r.glossdb", models={"judge": flaky, "writer": flaky})
    with pytest.raises(KeyboardInterrupt):
        ix.add([corpus])
    saved = ix.store.counts()["glosses"]
    total = ix.store.counts()["chunks"]
    assert 0 < saved < total
    flaky.history.clear()
    report = ix.add([corpus])
    assert report.glosses_written == total - saved
    assert generate_calls(flaky) == total - saved
    ix.close()


def test_search_ranks_by_judge_and_returns_glosses(index, corpus):
    index.add([corpus])
    hits = index.search("orbital velocity of rockets", k=2)
    assert "Orbital velocity" in hits[0].text
    assert hits[0].gloss and hits[0].rank == 1
    assert hits[0].score >= hits[-1].score


def test_search_reuses_stored_judgments(index, corpus, fake):
    index.add([corpus])
    index.search("cats purr", k=3)
    fake.history.clear()
    hits = index.search("cats purr", k=3)
    assert score_calls(fake) == 0 and all(h.cached for h in hits)


def test_batched_cached_judge_equals_one_at_a_time(index, corpus, fake):
    index.add([corpus])
    chunks = list(index.store.get_chunks(index.store.chunk_ids()).values())
    rep = index.representation()
    judge = index.judge()
    batched = judge.judge("yeast dough rise", chunks, rep)
    oracle = Judge(index.store, FakeModel(), JudgeSpec())
    for c in chunks:
        text = judge.candidate_text(c, index.store.glosses(rep.id, [c.id]).get(c.id))
        assert oracle.score_uncached("yeast dough rise", [text]) == [batched[c.id].score]


def test_explain_stores_reasons_and_why_reports_rank(index, corpus, fake):
    index.add([corpus])
    fake.enqueue("Mentions yeast and dough.")
    hits = index.search("yeast dough", k=1, explain=True)
    label = {"strong match": "Strong match", "match": "Match", "weak match": "Weak match",
             "no match": "No match"}[hits[0].verdict]
    text = hits[0].explanation
    assert text.startswith(label + ": ") and '"yeast", "dough"' in text
    quote = text.split('"')[1]
    assert quote in hits[0].text  # the cited sentence is quoted verbatim
    if hits[0].verdict != "no match":  # a positive reason agrees with a positive verdict
        assert text.endswith("Mentions yeast and dough.")
    assert index.show(hits[0].chunk_id).judgments[0].explanation == text
    why = index.why("yeast dough", hits[0].chunk_id)
    assert why.rank == 1 and why.explanation == text


def test_small_index_is_judged_in_full(index, corpus):
    index.add([corpus])
    hits = index.search("felines", k=10)
    assert len(hits) == index.store.counts()["chunks"]


def test_why_for_a_chunk_outside_the_candidates(tmp_path, corpus, fake):
    index = Index(tmp_path / "w.glossdb", models={"judge": fake, "writer": fake}, candidates=1)
    index.add([corpus])
    other = index.search("purr", k=1)[0].chunk_id
    before = len(fake.history)
    why = index.why("rocket thrust", other)
    assert why.rank is None and why.prefilter_rank is None
    assert why.verdict == "no match"
    assert why.explanation.startswith('No match: the passage does not mention "rocket", "thrust".')
    quote = why.explanation.split('Closest sentence: "', 1)[1].rstrip('"')
    assert quote in index.show(other).chunk.text
    assert not [r for r in fake.history[before:] if hasattr(r, "max_tokens")]  # no generation


def test_remove_deletes_document_and_derived_rows(index, corpus):
    index.add([corpus])
    assert index.remove([corpus / "rockets.txt"]) == 1
    assert all("rockets" not in h.uri for h in index.search("rockets thrust orbital"))
    with pytest.raises(UnknownDocument):
        index.remove([corpus / "rockets.txt"])


def test_bad_queries_and_ids_raise_clear_errors(index, corpus):
    index.add([corpus])
    with pytest.raises(InvalidQuery):
        index.search("   ")
    with pytest.raises(InvalidQuery):
        index.search("?!")
    with pytest.raises(UnknownChunk):
        index.why("cats", 9999)


def test_skipped_files_are_reported_and_the_batch_goes_on(index, corpus):
    (corpus / "blob.txt").write_bytes(b"\x00\x00binary")
    (corpus / "empty.md").write_text("")
    report = index.add([corpus])
    reasons = dict(report.skipped)
    assert "binary" in reasons[str(corpus / "blob.txt")]
    assert "empty" in reasons[str(corpus / "empty.md")]
    assert report.documents_new == 3


def test_a_missing_path_is_an_error_before_anything_is_written(tmp_path, fake, corpus):
    ix = Index(tmp_path / "new.glossdb", models={"judge": fake, "writer": fake})
    with pytest.raises(IngestError, match="no such file or directory: .*missing.txt"):
        ix.add([corpus, corpus / "missing.txt"])
    assert not (tmp_path / "new.glossdb").exists()
    ix.close()


def test_folders_name_what_they_cannot_load_and_go_on(index, corpus, tmp_path):
    import os

    (corpus / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    os.mkfifo(corpus / "pipe.txt")
    (corpus / "loop").symlink_to(corpus)
    report = index.add([corpus])  # a FIFO must not block: it is never opened
    reasons = dict(report.skipped)
    assert reasons[str(corpus / "dangling.txt")] == "broken symbolic link"
    assert reasons[str(corpus / "pipe.txt")] == "not a regular file (FIFO)"
    assert "loop" in reasons[str(corpus / "loop")]
    assert report.documents_new == 3


def test_jsonl_keeps_good_records_and_names_bad_ones(index, tmp_path):
    import json

    lines = [json.dumps({"id": 0, "title": "Zero", "text": "Record zero text."}), "{broken",
             "[1, 2]", json.dumps({"id": "t", "title": "Title only"}),
             json.dumps({"id": 0, "text": "A duplicate of zero."}),
             json.dumps({"id": "l", "text": ["First paragraph.", "Second paragraph."]}),
             json.dumps({"id": "n", "text": {"nested": True}})]
    path = tmp_path / "recs.jsonl"
    path.write_text("\n".join(lines) + "\n")
    report = index.add([path])
    assert report.documents_new == 3
    reasons = dict(report.skipped)
    assert "not JSON" in reasons[f"{path} line 2"]
    assert "not a JSON object" in reasons[f"{path} line 3"]
    assert "duplicate id '0'" in reasons[f"{path} line 5"]
    assert "list of strings" in reasons[f"{path} line 7"]
    uris = index.store.document_uris()
    assert f"{path}#0" in uris and f"{path}#t" in uris
    text = index.store.get_chunks(index.store.chunk_ids())
    assert any("First paragraph.\n\nSecond paragraph." in c.text for c in text.values())


def test_a_new_gloss_prompt_is_a_new_representation_version(index, corpus):
    index.add([corpus])
    old = index.representation().name
    index.config = index.config.__class__(**{**index.config.public(), "gloss_tokens": 20})
    assert index.representation().name != old
    report = index.add([corpus])
    assert report.glosses_written == index.store.counts()["chunks"]
    names = [r["name"] for r in index.stats().representations]
    assert old in names and len(names) == 2


def test_a_chunk_without_gloss_is_judged_on_text_but_not_cached(index, corpus, fake):
    index.add([corpus], gloss=False)
    hits = index.search("yeast dough", k=1)
    assert hits[0].gloss is None and "Yeast" in hits[0].text
    assert index.store.counts()["judgments"] == 0
    index.add([corpus])
    fake.history.clear()
    index.search("yeast dough", k=1)
    assert score_calls(fake) > 0


def test_add_takes_one_path_given_as_a_string(index, corpus):
    report = index.add(str(corpus / "cats.md"))
    assert report.files == 1 and report.documents_new == 1 and not report.skipped


def test_min_verdict_keeps_only_hits_judged_at_least_that(index, corpus):
    index.add([corpus])
    every = index.search("yeast dough rise", k=10)
    for floor, allowed in (("weak match", {"weak match", "match", "strong match"}),
                           ("match", {"match", "strong match"}),
                           ("strong match", {"strong match"})):
        kept = index.search("yeast dough rise", k=10, min_verdict=floor)
        assert [h.chunk_id for h in kept] == [h.chunk_id for h in every if h.verdict in allowed]
        assert [h.rank for h in kept] == list(range(1, len(kept) + 1))
    assert len(every) > len(index.search("yeast dough rise", k=10, min_verdict="strong match"))
    with pytest.raises(InvalidQuery, match="min_verdict"):
        index.search("yeast", min_verdict="good")


def test_show_lists_gloss_words_the_passage_lacks(index, corpus):
    index.add([corpus])
    cid = index.search("yeast dough", k=1)[0].chunk_id
    rep = index.representation()
    index.store.put_glosses(rep.id, [(cid, "Yeast makes dough rise in Paris.")], searchable=True)
    [row] = [g for g in index.show(cid).glosses if g.representation == rep.name]
    assert row.unsupported == ["Paris"]


def test_the_index_says_before_it_loads_a_model(tmp_path, corpus):
    index = Index(tmp_path / "m.glossdb", backend="fake")
    told: list[str] = []
    index.on_model_load = told.append
    index.add([corpus])
    index.search("yeast", k=1)
    assert told and all("(fake)" in t for t in told)
