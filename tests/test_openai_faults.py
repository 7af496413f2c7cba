"""Fault handling of the OpenAI-compatible backend, on scripted HTTP answers (no server)."""

from __future__ import annotations

import httpx
import pytest

from glossdb import Index
from glossdb.backends.base import GenerateRequest, ScoreRequest
from glossdb.backends.openai_compat import OpenAICompatModel
from glossdb.errors import BackendError


def scripted(*answers):
    """A model whose HTTP client replays ``answers`` (status, json) in order."""
    queue = list(answers)
    seen: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append({"url": str(request.url), "body": request.read().decode()})
        status, body = queue.pop(0)
        if isinstance(body, Exception):
            raise body
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    model = OpenAICompatModel("m", base_url="http://test", max_retries=2, concurrency=1)
    model._client = httpx.Client(transport=httpx.MockTransport(handler), timeout=1)
    return model, seen


def completion(text="ok"):
    return {"choices": [{"text": text}], "usage": {"prompt_tokens": 5,
            "prompt_tokens_details": {"cached_tokens": 3}}}


def test_retries_429_and_5xx_then_succeeds(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    model, seen = scripted((429, {"error": "slow down"}), (503, "busy"), (200, completion("hi")))
    assert model.generate([GenerateRequest("x", 4)]) == ["hi"]
    assert len(seen) == 3 and model.usage["retries"] == 2
    assert model.usage["cached_tokens"] == 3


@pytest.mark.parametrize("status,body,message", [
    (401, {"error": {"message": "bad key"}}, "check the API key"),
    (404, {"error": "model not found"}, "check base_url and the model name"),
    (200, "<html>", "non-JSON"),
    (200, {"nothing": True}, "malformed response"),
])
def test_errors_name_the_backend_and_what_to_check(status, body, message):
    model, _ = scripted((status, body))
    with pytest.raises(BackendError, match=message) as info:
        model.generate([GenerateRequest("x", 4)])
    assert "openai backend" in str(info.value) and "\n" not in str(info.value)


def test_timeouts_are_retried_then_reported(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    boom = httpx.ReadTimeout("slow")
    model, seen = scripted((0, boom), (0, boom), (0, boom))
    with pytest.raises(BackendError, match="timed out"):
        model.generate([GenerateRequest("x", 4)])
    assert len(seen) == 3


def test_scoring_picks_continuation_tokens_by_offset():
    body = {"choices": [{"text": "ab cd", "logprobs": {
        "text_offset": [0, 2, 5], "token_logprobs": [None, -1.0, -0.5]}}]}
    model, seen = scripted((200, body))
    assert model.logprobs([ScoreRequest("ab", " cd")]) == [[-1.0]]
    assert '"echo":true' in seen[0]["body"].replace(" ", "")


def test_server_without_prompt_logprobs_falls_back_to_generate(tmp_path, corpus):
    answers = [(200, {"choices": [{"message": {"content": "A gloss."}}]})] * 4
    answers += [(200, {"choices": [{"text": "x", "logprobs": None}]})]  # the probe
    answers += [(200, {"choices": [{"message": {"content": "Yes"}}]})] * 4
    model, _ = scripted(*answers)
    ix = Index(tmp_path / "f.glossdb", models={"judge": model, "writer": model})
    ix.add([corpus])
    hits = ix.search("cats", k=4)
    assert {h.verdict for h in hits} == {"match"}
    assert ix.stats().judges[0]["method"] == "generate"
    ix.close()


def test_missing_base_url_says_what_to_set():
    with pytest.raises(BackendError, match="--base-url"):
        OpenAICompatModel("m", base_url="")


def test_prefix_cache_hits_reach_the_query_log(tmp_path, corpus):
    import json as _json

    def handler(request: httpx.Request) -> httpx.Response:
        body = _json.loads(request.read())
        usage = {"prompt_tokens": 40, "prompt_tokens_details": {"cached_tokens": 30}}
        if "messages" in body:
            return httpx.Response(200, json={"choices": [{"message": {"content": "A gloss."}}]})
        last = len(body["prompt"]) - 1
        return httpx.Response(200, json={"usage": usage, "choices": [{"text": "", "logprobs": {
            "text_offset": [0, last], "token_logprobs": [None, -1.0]}}]})

    model = OpenAICompatModel("m", base_url="http://test", concurrency=1)
    model._client = httpx.Client(transport=httpx.MockTransport(handler))
    ix = Index(tmp_path / "p.glossdb", models={"judge": model, "writer": model})
    ix.add([corpus])
    ix.search("cats", k=2)
    log = ix.stats().searches
    assert log["searches"] == 1 and 0 < log["prefix_cached_tokens"] < log["prompt_tokens"]
    ix.close()


def test_scoring_returns_only_the_tokens_a_request_selects():
    from glossdb.judge import content_tokens

    body = {"choices": [{"text": "ab the cats!", "logprobs": {
        "text_offset": [0, 2, 6, 11, 12], "token_logprobs": [None, -1.0, -0.5, -0.2, -0.1]}}]}
    model, _ = scripted((200, body))
    request = ScoreRequest("ab", " the cats", select=content_tokens)
    assert model.logprobs([request]) == [[-0.5]]
