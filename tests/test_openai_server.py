"""The OpenAI-compatible backend against a real server: llama-cpp-python's server on
127.0.0.1 with the embedded judge model (Gemma 3 270M), compared with in-process llama.cpp.

llama-cpp-python's server computes prompt log-probabilities in Python, sorting the whole
vocabulary for every prompt token (Gemma: 262k entries), so these tests keep the corpus to a
few one-sentence documents.
"""

from __future__ import annotations

import socket

import numpy as np
import pytest

from glossdb import Index
from glossdb.backends.base import GenerateRequest
from glossdb.backends.llamacpp import LlamaCppModel
from glossdb.backends.openai_compat import OpenAICompatModel
from glossdb.errors import BackendError
from glossdb.judge import Judge, JudgeSpec
from glossdb.backends.local_server import start_llama_cpp_server

pytestmark = pytest.mark.model

# Server and in-process runs tokenize the same text and run the same weights, but in
# different batch shapes: scores agree within this many nats per token.
SERVER_TOLERANCE = 0.15

DOCS = {
    "vitd.txt": "Daily vitamin D supplements did not lower the rate of bone fractures.",
    "sleep.txt": "Sleeping after learning helps students remember new words.",
    "coffee.txt": "Moderate coffee drinking slightly lowers the risk of atrial fibrillation.",
    "wal.txt": "SQLite's write-ahead log lets readers continue while a writer appends.",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    proc, url = start_llama_cpp_server("gemma3-270m", free_port())
    yield url
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def remote(server):
    model = OpenAICompatModel("gemma3-270m", base_url=server, timeout_s=300, concurrency=1)
    yield model
    model.close()


def test_server_ranking_matches_in_process(tmp_path_factory, remote):
    local = LlamaCppModel("gemma3-270m")
    ix = Index(tmp_path_factory.mktemp("cmp") / "c.glossdb", models={"judge": local, "writer": local})
    spec = JudgeSpec(reads="text")
    texts = list(DOCS.values())
    query = "Does vitamin D prevent fractures?"
    ours = np.array(Judge(ix.store, local, spec).score_uncached(query, texts))
    theirs = np.array(Judge(ix.store, remote, spec).score_uncached(query, texts))
    assert np.abs(ours - theirs).max() <= SERVER_TOLERANCE
    assert list(np.argsort(-ours)[:2]) == list(np.argsort(-theirs)[:2])
    assert remote.usage["requests"] >= len(texts)
    ix.close()


def test_index_and_search_through_the_server(tmp_path, server):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text + "\n")
    ix = Index(tmp_path / "s.glossdb", backend="openai", base_url=server, model="gemma3-270m",
               gloss_model="", timeout_s=300, concurrency=1)
    report = ix.add([docs])
    assert report.glosses_written == 4
    hits = ix.search("vitamin D bone fractures", k=2, explain=True)
    assert hits[0].uri.endswith("vitd.txt") and hits[0].explanation
    assert ix.store.db.execute("SELECT method FROM judges").fetchone()[0] == "query-likelihood"
    ix.close()


def test_server_faults_are_one_line_errors(server):
    wrong_path = OpenAICompatModel("gemma3-270m", base_url=server.replace("/v1", "/nope"),
                                   max_retries=0)
    with pytest.raises(BackendError, match="HTTP 404"):
        wrong_path._post("/completions", {"prompt": "x", "max_tokens": 1})
    down = OpenAICompatModel("m", base_url=f"http://127.0.0.1:{free_port()}", max_retries=1)
    with pytest.raises(BackendError, match="is the server running"):
        down._post("/completions", {"prompt": "x"})


def test_a_pool_of_two_real_servers_shares_the_work(server):
    """Two llama-cpp-python servers on loopback as one pool: both answer, and a pooled
    generation equals the single server's (greedy, same weights)."""
    proc, second = start_llama_cpp_server("gemma3-270m", free_port())
    try:
        pooled = OpenAICompatModel("gemma3-270m", base_url=f"{server}, {second}",
                                   timeout_s=300, concurrency=1)
        single = OpenAICompatModel("gemma3-270m", base_url=server, timeout_s=300,
                                   concurrency=1)
        prompts = [GenerateRequest(f"Passage: {text}\n{cue}:", 6, ("\n",))
                   for text in DOCS.values() for cue in ("Topic", "Subject")]
        assert pooled.generate(prompts) == single.generate(prompts)
        stats = pooled.pool.stats()
        assert all(s["requests"] > 0 for s in stats) and sum(s["errors"] for s in stats) == 0
        pooled.close()
        single.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
