"""Judge versions trained from pairs (issue 23): feedback rows, pair sources, the regression
check that refuses a losing version, and, on the real judge model, a few training steps whose
adapter llama.cpp applies exactly as torch computed it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from glossdb import Index
from glossdb.backends.fake import FakeModel
from glossdb.errors import UnknownChunk
from glossdb.judge import (Judge, JudgeSpec, relevance_calibrated, relevance_probability,
                           relevance_request, relevance_score, relevance_verdict)
from glossdb.store.feedback import feedback_labels, feedback_rows
from glossdb.train.pairs import (Pair, corpus_labels, corpus_queries, labeled_pairs,
                                 writer_questions)
from glossdb.training import (FUSION_WEIGHTS, JudgeComparison, _decide, chunk_labels,
                              choose_settings, compare_judges, document_keys, gather,
                              ndcg, split_queries, training_pairs)


def _ids_by_uri(ix: Index) -> dict[str, list[int]]:
    chunks = ix.store.get_chunks(ix.store.chunk_ids())
    out: dict[str, list[int]] = {}
    for c in chunks.values():
        out.setdefault(Path(c.uri).name, []).append(c.id)
    return out


def _chunk_with(ix: Index, word: str) -> int:
    chunks = ix.store.get_chunks(ix.store.chunk_ids())
    return next(c.id for c in chunks.values() if word in c.text)


def test_feedback_rows_stand_latest_and_feed_training(index, corpus):
    index.add([corpus])
    cat, rocket = _chunk_with(index, "sleeps"), _chunk_with(index, "Rockets")
    index.feedback("how long do cats sleep", cat, True, source="cli")
    index.feedback("how long do cats sleep", rocket, True, source="page")
    index.feedback("how long do cats sleep", rocket, False, source="page")  # changed mind
    rows = feedback_rows(index.store)
    assert {(r["chunk_id"], r["relevant"]) for r in rows} == {(cat, True), (rocket, False)}
    assert feedback_labels(index.store) == {"how long do cats sleep": {cat: 1, rocket: 0}}
    assert [f["query"] for f in index.show(cat).feedback] == ["how long do cats sleep"]
    assert index.stats().feedback == 2
    merged, from_feedback = gather(index, None, use_feedback=True)
    assert from_feedback == {"how long do cats sleep"}
    assert {p.source for p in training_pairs(index, merged, feedback=from_feedback)} == {"feedback"}
    pairs = labeled_pairs(index, merged, negatives=2, depth=10)
    marked = {(p.text, p.label) for p in pairs}
    assert any(label == 1 and "sleep" in text.lower() for text, label in marked)
    assert any(label == 0 and "rocket" in text.lower() for text, label in marked)
    with pytest.raises(UnknownChunk):
        index.feedback("q", 10**9, True)


def test_negatives_can_skip_the_top_and_queries_their_chunk_does_not_answer_are_dropped(
        index, corpus):
    index.add([corpus])
    cat, query = _chunk_with(index, "sleeps"), "how long do cats sleep"
    ranked = [c.chunk_id for c in index.prefilter.candidates(query, 10)]
    others = [cid for cid in ranked if cid != cat]
    labels, by_text = {query: {cat: 1}}, _ids_by_text(index)

    def negatives(**sampling):
        return [by_text[p.text] for p in labeled_pairs(index, labels, negatives=1, depth=10,
                                                       **sampling) if p.label == 0]
    assert negatives() == others[:1]  # the highest-ranked other
    assert set(negatives(hard=0, seed=3)) <= set(others)
    at = ranked.index(cat) + 1  # the chunk's own rank for its query
    assert labeled_pairs(index, labels, negatives=1, depth=10, found_within=at)
    if at > 1:
        assert not labeled_pairs(index, labels, negatives=1, depth=10, found_within=at - 1)


def _ids_by_text(index) -> dict[str, int]:
    """Chunk ids by what the judge reads for each."""
    from glossdb.train.pairs import _reader

    chunks = index.store.get_chunks(index.store.chunk_ids())
    return {text: cid for cid, text in _reader(index)(list(chunks.values())).items()}


def test_feedback_on_changed_text_no_longer_counts(index, corpus):
    index.add([corpus])
    cid = _ids_by_uri(index)["cats.md"][0]
    index.feedback("cats", cid, True)
    (corpus / "cats.md").write_text("# Cats\n\nCompletely different text about dogs.\n")
    index.add([corpus])
    assert feedback_labels(index.store) == {}


def test_beir_labels_map_to_chunks_by_file_name_or_jsonl_id(index, corpus):
    index.add([corpus])
    assert document_keys("/data/corpus.jsonl#4983") >= {"4983", "corpus.jsonl", "corpus"}
    labels = chunk_labels(index.store, {"cat sleep": {"cats": 2, "missing-doc": 1}})
    assert set(labels["cat sleep"]) == set(_ids_by_uri(index)["cats.md"])
    assert set(labels["cat sleep"].values()) == {2}


def test_corpus_queries_use_titles_or_a_held_out_sentence():
    from glossdb.store import Chunk

    a = Chunk(1, 1, 0, "Delta wings separate flow at the leading edge. The vortex sheet rolls "
                       "up above the wing. Lift rises with angle of attack here.",
              0, 10, None, "h", "a.txt", "")
    b = Chunk(2, 1, 1, "Text.", 0, 5, None, "h2", "b.txt", "Heat transfer in laminar flow")
    queries = corpus_queries([a, b], seed=1)
    assert queries[2] == "Heat transfer in laminar flow"
    assert queries[1] in a.text and not a.text.startswith(queries[1])


class _Asker(FakeModel):
    """A writer that asks about each passage's first word, in the forms writers answer."""

    def _generate_batch(self, requests):
        self.asked = [r for r in requests]
        forms = ['Question: What is {}?', '"Why does {} matter?"', "{} is a word.", "What?"]
        return [forms[i % 4].format(r.prompt.split()[0]) for i, r in enumerate(requests)]


def test_writer_questions_become_self_supervised_labels(index, corpus):
    index.add([corpus])
    writer = _Asker()
    labels = corpus_labels(index, ask=writer_questions(writer))
    chunks = index.store.get_chunks(index.store.chunk_ids())
    assert writer.asked and all(r.system and r.max_tokens <= 64 for r in writer.asked)
    assert len(writer.asked) == len(chunks)
    # only answers that are questions count: the prefix and quotes come off, statements and
    # one-word questions are dropped
    kept = {["What is {}?", "Why does {} matter?"][i % 4].format(r.prompt.split()[0])
            for i, r in enumerate(writer.asked) if i % 4 < 2}
    assert labels and set(labels) == kept
    for q, marked in labels.items():
        (own,) = [cid for cid, g in marked.items() if g == 1]
        assert chunks[own].text.split()[0] in q


def test_writer_questions_are_stored_and_not_asked_again(index, corpus):
    index.add([corpus])
    writer = _Asker()
    first = corpus_labels(index, ask=writer_questions(writer, store=index.store))
    assert first and len(writer.asked) == len(index.store.chunk_ids())
    assert index.stats().questions == len(first)
    own = next(iter(first.values()))
    (cid,) = [c for c, g in own.items() if g == 1]
    shown = index.show(cid).questions
    assert [q["question"] for q in shown] == [q for q, m in first.items() if m.get(cid) == 1]
    writer.asked = []
    again = _Asker()
    assert corpus_labels(index, ask=writer_questions(again, store=index.store)) == first
    assert not hasattr(again, "asked")  # every chunk answered from its stored question
    # a changed chunk is asked afresh; the others still are not
    rockets = corpus / "rockets.txt"
    rockets.write_text(rockets.read_text() + "\nComets have tails of gas and dust.\n")
    index.add([corpus])
    third = _Asker()
    relabeled = corpus_labels(index, ask=writer_questions(third, store=index.store))
    assert third.asked and all("Rockets" in r.prompt or "Comets" in r.prompt
                               or "Orbital" in r.prompt for r in third.asked)
    assert set(relabeled) >= {q for q in first if "Cats" in q or "Yeast" in q}


def test_split_and_ndcg():
    labels = {f"q{i}": {i: 1} for i in range(10)}
    train, held = split_queries(labels)
    assert len(held) == 2 and not set(train) & set(held)
    assert split_queries({"a": {1: 1}})[1] == {}
    assert ndcg([1, 2, 3], {1: 1}) == 1.0
    assert 0 < ndcg([2, 1], {1: 1}) < 1.0
    assert ndcg([2, 3], {1: 1}) == 0.0


class _Reversed(FakeModel):
    """A judge that prefers what the word-overlap fake would rank last."""

    def _logprobs_batch(self, requests):
        return [[-5.0 - s for s in row] for row in super()._logprobs_batch(requests)]


def test_regression_check_refuses_a_version_that_loses(tmp_path, corpus):
    fake = FakeModel()
    ix = Index(tmp_path / "t.glossdb", models={"judge": fake, "writer": fake})
    ix.add([corpus])
    bad = Index(tmp_path / "t.glossdb", models={"judge": _Reversed("bad"), "writer": fake})
    held = {"rockets propellant thrust kerosene": {_chunk_with(ix, "Rockets"): 1},
            "cats sleep hours a day": {_chunk_with(ix, "sleeps"): 1}}
    comparison = compare_judges(ix.pipeline(), bad.pipeline(), held, depth=10)
    assert comparison.queries == 2 and comparison.new_ndcg < comparison.old_ndcg
    adopted, reason = _decide(comparison, adopt=True)
    assert not adopted and "loses" in reason
    assert _decide(JudgeComparison(2, 0.5, 0.5), adopt=True)[0]  # a tie is not a loss
    assert not _decide(None, adopt=True)[0]  # nothing held out: nothing adopted blindly
    bad.close()
    ix.close()


class _Counting(FakeModel):
    """The word-overlap fake, counting the pairs it scores."""

    scored = 0

    def _logprobs_batch(self, requests):
        self.scored += len(requests)
        return super()._logprobs_batch(requests)


def test_depth_and_fusion_weight_are_chosen_on_held_out_queries(tmp_path, corpus):
    fake, judge = FakeModel(), _Counting("new")
    ix = Index(tmp_path / "t.glossdb", models={"judge": fake, "writer": fake})
    ix.add([corpus])
    new = Index(tmp_path / "t.glossdb", models={"judge": judge, "writer": fake})
    held = {"rockets propellant thrust kerosene": {_chunk_with(ix, "Rockets"): 1},
            "cats sleep hours a day": {_chunk_with(ix, "sleeps"): 1}}
    comparison = compare_judges(ix.pipeline(), new.pipeline(), held, depth=10)
    judged = judge.scored
    assert judged > 0
    same = choose_settings(new, comparison, held, depth=10, depths=())
    assert judge.scored == judged  # every weight re-fuses the stored judgments
    assert [t["fusion_weight"] for t in same.tried] == list(FUSION_WEIGHTS)
    assert same.candidates == 10 and same.new_ndcg == max(t["ndcg@10"] for t in same.tried)
    assert same.old_ndcg == comparison.old_ndcg  # the judge in force is not re-weighted
    deeper = choose_settings(new, comparison, held, depth=2, depths=(3,))
    assert {t["candidates"] for t in deeper.tried} == {2, 3}
    best = next(t for t in deeper.tried if t["candidates"] == deeper.candidates
                and t["fusion_weight"] == deeper.fusion_weight)
    assert best["ndcg@10"] == deeper.new_ndcg == max(t["ndcg@10"] for t in deeper.tried)
    new.close()
    ix.close()


def test_relevance_scores_are_log_odds_and_verdicts_ignore_other_candidates():
    import math

    score = relevance_score([math.log(0.9)])
    assert relevance_probability(score) == pytest.approx(0.9)
    assert relevance_verdict(0.9) == "strong match"
    assert relevance_verdict(0.45) == "match" and relevance_verdict(0.05) == "no match"
    assert 0 < relevance_calibrated(score) < 1
    assert relevance_calibrated(score, 0.5, 0.03) != relevance_calibrated(score, 0.1, 0.01)
    r = relevance_request("A passage.", "a  query")
    assert r.exact and r.context.startswith(r.shared_prefix) and r.continuation == " yes"


def test_a_pairs_verdict_does_not_change_with_the_candidate_count(index, corpus):
    """The trained judge's verdict is a function of the pair alone: 10 or 30 candidates."""
    index.add([corpus])
    index.config = index.config.__class__(**{**index.config.public(),
                                             "judge_method": "relevance"})
    hits_few = {h.chunk_id: h.verdict for h in index.search("cats sleep", k=3, candidates=3)}
    hits_many = {h.chunk_id: h.verdict for h in index.search("cats sleep", k=3, candidates=30)}
    shared = hits_few.keys() & hits_many.keys()
    assert shared and all(hits_few[c] == hits_many[c] for c in shared)


def test_listwise_batches_keep_a_querys_pairs_together_and_its_loss_ranks_them():
    torch = pytest.importorskip("torch", reason="the train extra: pip install 'glossdb[train]'")
    import random

    from glossdb.errors import ConfigError
    from glossdb.train.lora import TrainSpec, _listwise_loss, _query_batches

    queries = ["a"] * 3 + ["b"] * 4 + ["c"] * 2 + ["d"] * 5
    batches = _query_batches(queries, 6, random.Random(0))
    assert sorted(i for b in batches for i in b) == list(range(len(queries)))
    for b in batches:  # whole queries only, and no batch over size unless one query is
        assert all(queries.count(queries[i]) == sum(queries[j] == queries[i] for j in b)
                   for i in b)
        assert len(b) <= 6 or len({queries[i] for i in b}) == 1
    yes, labels, qs = 1, [1, 0, 0, 1, 0], ["a", "a", "a", "b", "b"]
    # the positive above its negatives costs less than below them; a query without a
    # negative adds nothing
    good = torch.tensor([[0.0, 5.0], [0.0, -5.0], [0.0, -5.0], [0.0, 5.0], [0.0, -5.0]])
    bad = torch.tensor([[0.0, -5.0], [0.0, 5.0], [0.0, 5.0], [0.0, -5.0], [0.0, 5.0]])
    assert _listwise_loss(torch, good, yes, labels, qs) < _listwise_loss(torch, bad, yes, labels, qs)
    assert float(_listwise_loss(torch, good[:1], yes, [1], ["a"])) == 0.0
    with pytest.raises(ConfigError, match="pointwise"):
        TrainSpec(objective="pairwise")


def test_folding_an_adapter_gives_w_plus_scaled_ba_and_copies_everything_else(tmp_path):
    """glossdb.train.merge against numpy on a two-tensor GGUF: the adapted matrix becomes
    W + (alpha / rank) B A (within Q8_0's rounding), the other tensor and the metadata are
    copied exactly."""
    gguf = pytest.importorskip("gguf")
    import numpy as np

    from glossdb.train.export import write_adapter
    from glossdb.train.merge import merge_lora

    rng = np.random.default_rng(0)
    w, norm = rng.normal(size=(8, 64)).astype(np.float32), rng.normal(size=64).astype(np.float32)
    base = tmp_path / "base.gguf"
    writer = gguf.GGUFWriter(str(base), "gemma3")
    writer.add_string("general.name", "tiny")
    writer.add_tensor("blk.0.attn_q.weight", w)
    writer.add_tensor("blk.0.attn_norm.weight", norm)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    a, b = rng.normal(size=(2, 64)) * 0.1, rng.normal(size=(8, 2)) * 0.1
    adapter = tmp_path / "lora.gguf"
    write_adapter(adapter, "gemma3", 4.0, {"blk.0.attn_q.weight": (a, b)})
    merged = gguf.GGUFReader(str(merge_lora(base, adapter, tmp_path / "merged.gguf")))
    tensors = {t.name: t for t in merged.tensors}
    q = tensors["blk.0.attn_q.weight"]
    assert q.tensor_type == gguf.GGMLQuantizationType.Q8_0
    expected = w + 2.0 * (b.astype(np.float16).astype(np.float32)
                          @ a.astype(np.float16).astype(np.float32))
    got = gguf.quants.dequantize(q.data, q.tensor_type)
    assert np.abs(got - expected).max() < np.abs(expected).max() / 100  # Q8_0: 1/127 a block
    assert np.abs(got - w).max() > 0.05  # the update is there
    assert np.array_equal(np.asarray(tensors["blk.0.attn_norm.weight"].data), norm)
    assert merged.fields["general.name"].contents() == "tiny"
    write_adapter(adapter, "gemma3", 4.0, {"blk.1.attn_q.weight": (a, b)})
    with pytest.raises(ValueError, match="lacks"):
        merge_lora(base, adapter, tmp_path / "bad.gguf")
    assert not list(tmp_path.glob("bad.gguf*"))  # no partial file


# the real judge model ---------------------------------------------------------------------

@pytest.mark.model
def test_a_few_training_steps_change_the_judge_version_and_llama_cpp_applies_them(tmp_path,
                                                                                 corpus):
    pytest.importorskip("torch", reason="the train extra: pip install 'glossdb[train]'")
    from glossdb.train.lora import TrainSpec, score_pairs, train
    from glossdb.models import resolve_model

    ix = Index(tmp_path / "t.glossdb", models={"writer": FakeModel()})
    ix.add([corpus])
    base = ix.judge()
    base_version = base.version().name
    pairs = [Pair("how long does a cat sleep", "A cat sleeps between twelve and sixteen hours.", 1),
             Pair("how long does a cat sleep", "Rockets burn propellant to produce thrust.", 0),
             Pair("what makes dough rise", "Yeast ferments sugar and releases carbon dioxide.", 1),
             Pair("what makes dough rise", "Orbital velocity is 7.8 kilometres per second.", 0)]
    _, path = resolve_model(ix.config.model)
    out = tmp_path / "judge.gguf"
    digest, report = train(path, pairs, out, TrainSpec(epochs=3, batch=2, lr=1e-3))
    assert report.steps == 6 and out.stat().st_size > 0
    probe = [(p.query, p.text) for p in pairs]
    torch_scores = score_pairs(report.model, report.encoder, probe)
    trained = ix.with_settings(judge_method="relevance", judge_adapter=str(out))
    judge = trained.judge()
    assert judge.model.adapter == digest[:12]
    assert judge.version().name != base_version
    llama = [a[0] for a in judge.model.logprobs([relevance_request(t, q) for q, t in probe])]
    untrained = Judge(ix.store, base.model, JudgeSpec("relevance"))
    before = [a[0] for a in untrained.model.logprobs([relevance_request(t, q) for q, t in probe])]
    # llama.cpp's quantized weights against torch's dequantized ones: close, not equal
    assert max(abs(a - b) for a, b in zip(llama, torch_scores)) < 0.5
    assert max(abs(a - b) for a, b in zip(llama, before)) > 0.5  # the adapter did something
    hits = trained.search("how long does a cat sleep", k=2)
    assert hits and all(h.verdict for h in hits)
    # a search with the trained judge, in a process of its own: torch is never imported
    script = ("import sys; from glossdb import Index; from glossdb.backends.fake import FakeModel; "
              f"ix = Index({str(ix.path)!r}, models={{'writer': FakeModel()}}, "
              f"judge_method='relevance', judge_adapter={str(out)!r}); "
              "hits = ix.search('how long does a cat sleep', k=2); "
              "print(len(hits), 'torch' in sys.modules, ix.judge().model.adapter)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["2", "False", digest[:12]], done.stderr
    trained.close()
    _merged_twin_scores_as_the_adapter_does(ix, path, out, digest, probe, llama)
    ix.close()


def _merged_twin_scores_as_the_adapter_does(ix, base, adapter, digest, probe, applied):
    """The adapter folded into the model (glossdb.train.merge): loaded in its place, a
    version of its own, scores within a quantization step's reach of the adapter applied at
    run time; a record that names another adapter is not trusted."""
    from glossdb.train.export import merged_paths
    from glossdb.train.merge import write_merged

    write_merged(base, adapter)
    settings = {"judge_method": "relevance", "judge_adapter": str(adapter)}
    merged = Index(ix.path, models={"writer": FakeModel()}, **settings)
    judge = merged.judge()
    assert judge.model.adapter == f"{digest[:12]}-merged"
    scores = [a[0] for a in judge.model.logprobs([relevance_request(t, q) for q, t in probe])]
    assert max(abs(a - b) for a, b in zip(scores, applied)) < 0.5
    merged.close()
    record = merged_paths(adapter)[1]
    made = json.loads(record.read_text())
    assert made["adapter_sha256"] == digest
    record.write_text(json.dumps({**made, "adapter_sha256": "0" * 64}))
    stale = Index(ix.path, models={"writer": FakeModel()}, **settings)
    assert stale.judge().model.adapter == digest[:12]  # the adapter, applied at run time
    stale.close()


def test_feedback_is_kept_by_both_stores(any_index, corpus):
    any_index.add([corpus])
    cid = _chunk_with(any_index, "Yeast")
    any_index.feedback("what makes dough rise", cid, True, source="api")
    any_index.feedback("what makes dough rise", cid, False, source="api")
    assert feedback_labels(any_index.store) == {"what makes dough rise": {cid: 0}}
    assert any_index.show(cid).feedback[0]["relevant"] is False


@pytest.mark.model
def test_glossdb_train_end_to_end_adopts_only_with_a_check(tmp_path, corpus):
    """`Index.train` on labels: pairs, a real adapter, the held-out check against the judge
    in force, and the settings written only when it does not lose."""
    pytest.importorskip("torch", reason="the train extra: pip install 'glossdb[train]'")
    from glossdb.config import config_path
    from glossdb.train.export import merged_paths
    from glossdb.train.lora import TrainSpec

    ix = Index(tmp_path / "t.glossdb", models={"writer": FakeModel()})
    ix.add([corpus])
    sleep, rockets, yeast = (_chunk_with(ix, w) for w in ("sleeps", "Rockets", "Yeast"))
    labels = {"how long do cats sleep": {sleep: 1}, "hours of sleep a day": {sleep: 1},
              "what powers a rocket": {rockets: 1}, "rocket propellant": {rockets: 1},
              "why does dough rise": {yeast: 1}, "yeast and sugar": {yeast: 1}}
    result = ix.train(labels, use_feedback=False, spec=TrainSpec(epochs=1, batch=4))
    assert result.pairs["labels"] > 5 and result.held_out == 2
    assert Path(result.adapter).exists() and result.new_ndcg is not None
    written = config_path(ix.path).read_text() if config_path(ix.path).exists() else ""
    assert result.adopted == ("judge_adapter" in written)
    assert result.adopted == (f"fusion_weight = {result.fusion_weight}" in written)
    assert result.new_ndcg == max(t["ndcg@10"] for t in result.tried)
    assert ("adopted" in result.reason) or ("loses" in result.reason)
    # the version it reports is the one a search with its adapter runs: merged when adopted,
    # the adapter alone (its merged twin removed) when not
    assert merged_paths(result.adapter)[0].exists() == result.adopted
    again = Index(ix.path, models={"writer": FakeModel()}, judge_method="relevance",
                  judge_adapter=result.adapter)
    assert again.judge().version().name == result.judge_version
    again.close()
    ix.close()


def test_beir_files_are_read_with_or_without_a_header_and_bad_lines_say_where(tmp_path):
    from glossdb.errors import ConfigError
    from glossdb.training import read_beir

    (tmp_path / "q.jsonl").write_text('{"_id": "q1", "text": "cat sleep"}\n\n')
    (tmp_path / "h.tsv").write_text("query-id\tcorpus-id\tscore\nq1\tcats\t2\nq9\tx\t1\n")
    (tmp_path / "n.tsv").write_text("q1\tcats\t2\n")
    for name in ("h.tsv", "n.tsv"):
        assert read_beir(tmp_path / name, tmp_path / "q.jsonl") == {"cat sleep": {"cats": 2}}
    (tmp_path / "bad.tsv").write_text("q1\tcats\t2\nq1\tdogs\n")
    with pytest.raises(ConfigError, match="bad.tsv:2 is not a qrels line"):
        read_beir(tmp_path / "bad.tsv", tmp_path / "q.jsonl")
    (tmp_path / "bad.jsonl").write_text("nope\n")
    with pytest.raises(ConfigError, match="bad.jsonl:1 is not a BEIR query"):
        read_beir(tmp_path / "n.tsv", tmp_path / "bad.jsonl")


@pytest.mark.model
def test_glossdb_train_on_the_writers_questions(tmp_path, corpus):
    """`Index.train(questions=N)` with no labels: the writer asks a question of each chunk
    (progress reported as they come), and the real judge trains on them."""
    pytest.importorskip("torch", reason="the train extra: pip install 'glossdb[train]'")
    from glossdb.train.lora import TrainSpec

    class Always(FakeModel):
        def _generate_batch(self, requests):
            return [f"What does the passage say about {r.prompt.split()[0]}?" for r in requests]

    ix = Index(tmp_path / "t.glossdb", models={"writer": Always()})
    ix.add([corpus])
    seen: list[int] = []
    result = ix.train(None, use_feedback=False, questions=50, asked=seen.append, adopt=False,
                      spec=TrainSpec(epochs=1, batch=4))
    chunks = ix.store.counts()["chunks"]
    assert sum(seen) == chunks and set(result.pairs) == {"questions"}
    assert result.pairs["questions"] >= chunks - 1 and Path(result.adapter).exists()
    ix.close()
