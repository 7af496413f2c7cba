"""Which query tokens the judge scores, and the shortlist softmax, without a model."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from glossdb.backends.base import ScoreRequest
from glossdb.backends.fake import FakeModel
from glossdb.backends.gguf_head import OutputHead
from glossdb.backends.shortlist import Extra, Support, logsumexp, shortlist_logprobs
from glossdb.errors import BackendError, ConfigError
from glossdb.judge import Judge, JudgeSpec, content_tokens, ql_request


def test_content_tokens_keep_the_first_token_of_each_content_word():
    pieces = [" Rap", "amycin", " increases", " the", " concentration", " of", " tri",
              "acylglycer", "ols", " in", " fruit", " flies", "."]
    kept = [p for p, k in zip(pieces, content_tokens(pieces)) if k]
    assert kept == [" Rap", " increases", " concentration", " tri", " fruit", " flies"]


def test_a_stopword_prefix_of_a_longer_word_is_kept():
    pieces = [" in", "ductive", " properties"]
    assert content_tokens(pieces) == [True, False, True]


def test_numbers_after_punctuation_start_a_word():
    pieces = [" H", "2", "A", ".", "Z", " type", " 1"]
    assert content_tokens(pieces) == [True, False, False, False, True, True, True]


def test_a_query_of_stopwords_scores_every_token():
    assert content_tokens([" what", " is", " it", "?"]) == [True] * 4


def test_ql_request_selects_content_words_unless_asked_for_all():
    assert ql_request("gloss", "the cat").select is content_tokens
    assert ql_request("gloss", "the cat", tokens="all").select is None


def test_picked_checks_the_selection_length():
    r = ScoreRequest("a", " b c", select=lambda pieces: [True])
    with pytest.raises(BackendError):
        r.picked([" b", " c"])


def test_fake_backend_scores_only_the_picked_words():
    model = FakeModel()
    request = ScoreRequest("cats purr", " the cats bark", select=content_tokens)
    assert model.logprobs([request]) == [[0.0, -5.0]]


def test_judge_version_depends_on_the_scored_tokens(tmp_path):
    model = FakeModel()
    content = JudgeSpec().version_name(model)
    every = JudgeSpec(ql_tokens="all").version_name(model)
    assert content != every


def test_judge_version_depends_on_how_the_backend_scores():
    class Approximate(FakeModel):
        def scoring_variant(self) -> str:
            return "shortlist-4096"

    assert JudgeSpec().version_name(Approximate()) != JudgeSpec().version_name(FakeModel())


def test_unknown_token_policy_is_a_config_error(tmp_path):
    from glossdb.store import SQLiteStore

    store = SQLiteStore(tmp_path / "x.glossdb")
    with pytest.raises(ConfigError):
        Judge(store, FakeModel(), JudgeSpec(ql_tokens="nouns"))


# shortlist softmax ------------------------------------------------------------------------
def _exact(hidden, weights, target):
    z = hidden @ weights.T
    return z[:, target] - logsumexp(z)


def test_a_shortlist_of_the_whole_vocabulary_is_the_exact_softmax():
    rng = np.random.default_rng(0)
    weights = rng.standard_normal((50, 8)).astype(np.float32)
    hidden = rng.standard_normal((3, 8)).astype(np.float32)
    z = (hidden @ weights.T)[0]
    support = Support(np.arange(50), weights, 7, z, float(logsumexp(z)), float(logsumexp(z)))
    assert np.allclose(shortlist_logprobs(hidden, support), _exact(hidden, weights, 7), atol=1e-5)


def test_the_tail_of_the_reference_row_is_added_back():
    rng = np.random.default_rng(1)
    weights = rng.standard_normal((200, 8)).astype(np.float32)
    hidden = rng.standard_normal((1, 8)).astype(np.float32)
    z = (hidden @ weights.T)[0]
    ids = np.sort(np.argsort(-z)[:40])
    target = int(ids[3])
    support = Support(ids, weights[ids], 3, z, float(logsumexp(z)), float(logsumexp(z[ids])))
    assert np.allclose(shortlist_logprobs(hidden, support), _exact(hidden, weights, target),
                       atol=1e-5)


def test_a_candidates_own_tokens_join_its_shortlist():
    rng = np.random.default_rng(3)
    weights = rng.standard_normal((300, 8)).astype(np.float32)
    reference, candidate = rng.standard_normal((2, 8)).astype(np.float32)
    z_ref = weights @ reference
    ids = np.sort(np.argsort(-z_ref)[:30])
    support = Support(ids, weights[ids], 0, z_ref, float(logsumexp(z_ref)),
                      float(logsumexp(z_ref[ids])))
    own = np.setdiff1d(np.arange(300), ids)  # everything else: the shortlist becomes exact
    extra = Extra(own, weights[own])
    got = shortlist_logprobs(candidate[None, :], support, [extra])
    assert np.allclose(got, _exact(candidate[None, :], weights, int(ids[0])), atol=1e-5)


# GGUF head ----------------------------------------------------------------------------------
def _gguf_string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def _tiny_gguf(path, rows: np.ndarray) -> None:
    """A GGUF file with a string array in its metadata and a Q8_0 token_embd tensor."""
    n_vocab, n_embd = rows.shape
    scale = np.abs(rows).reshape(n_vocab, -1, 32).max(axis=2, keepdims=True) / 127
    quants = np.round(rows.reshape(n_vocab, -1, 32) / scale).astype(np.int8)
    blocks = b"".join(
        scale[r, b].astype(np.float16).tobytes() + quants[r, b].tobytes()
        for r in range(n_vocab) for b in range(n_embd // 32))
    head = b"GGUF" + struct.pack("<IQQ", 3, 1, 2)
    head += _gguf_string("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 2)
    head += _gguf_string("a") + _gguf_string("bc")
    head += _gguf_string("general.alignment") + struct.pack("<II", 4, 32)
    head += _gguf_string("token_embd.weight") + struct.pack("<IQQIQ", 2, n_embd, n_vocab, 8, 0)
    head += b"\0" * (-len(head) % 32)
    path.write_bytes(head + blocks)


def test_output_head_reads_q8_0_rows_from_a_gguf_file(tmp_path):
    rng = np.random.default_rng(2)
    rows = rng.standard_normal((5, 64)).astype(np.float32)
    path = tmp_path / "tiny.gguf"
    _tiny_gguf(path, rows)
    head = OutputHead(path)
    assert (head.n_vocab, head.n_embd) == (5, 64)
    got = head.rows(np.array([0, 3]))
    assert np.abs(got - rows[[0, 3]]).max() < 0.03


def test_a_file_that_is_not_gguf_is_refused(tmp_path):
    path = tmp_path / "x.gguf"
    path.write_bytes(b"nope" + b"\0" * 64)
    with pytest.raises(ValueError):
        OutputHead(path)


def test_a_long_query_is_cut_for_the_judge_at_a_word_or_a_character():
    from glossdb.judge import judged_query

    def count(text):  # one token a word, or a character of text without spaces
        return len(text.split()) if " " in text else len(text)

    assert judged_query("a b c", count, limit=5) == "a b c"
    assert judged_query("one two three four five six", count, limit=4) == "one two three four"
    assert judged_query("数据库检索模型判断查询", count, limit=4) == "数据库检"
