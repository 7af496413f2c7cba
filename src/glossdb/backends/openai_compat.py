"""Any OpenAI-compatible server: llama.cpp / llama-cpp-python server, vLLM, SGLang, Ollama, OpenAI.

* Generation uses ``/v1/chat/completions`` for chat requests and ``/v1/completions`` otherwise,
  always greedy (temperature 0).
* Scoring uses ``/v1/completions`` with ``echo`` and ``logprobs``: the server returns the
  log-probability of every prompt token, and the continuation's tokens are picked by their
  text offsets. A server that cannot do this (hosted chat-only APIs, a llama-cpp-python server
  without ``--logits_all true``) is detected on first use, and the judge falls back to the
  ``generate`` method.
* Requests keep the shared part first (instructions, query) so server-side prefix caching
  (vLLM automatic prefix caching, llama.cpp ``cache_prompt``, OpenAI prompt caching) applies;
  cached prompt tokens reported by the server are counted in ``usage``.
* Retries with exponential backoff on 429, 5xx and connection errors; bounded concurrency.
* Several servers (``base_url = "URL1, URL2"``) form a pool (:mod:`.pool`): affinity by
  candidate, bounded requests in flight per server, failover to the next server.
"""

from __future__ import annotations

import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from typing import Any, Sequence

import httpx

from ..errors import BackendError
from .base import GenerateRequest, Model, ScoreRequest
from .pool import ServerPool, parse_urls

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class OpenAICompatModel(Model):
    backend_name = "openai"
    can_score_logprobs = True  # until the first probe says otherwise
    supports_prefix_cache = True
    max_batch = 16
    context_size = 8192
    is_chat = True
    settings = {"base_url": "base_url", "api_key_env": "api_key_env", "timeout_s": "timeout_s",
                "max_retries": "max_retries", "concurrency": "concurrency"}

    def __init__(self, model: str | None = None, base_url: str = "",
                 api_key_env: str = "OPENAI_API_KEY", timeout_s: float = 60.0,
                 max_retries: int = 4, concurrency: int = 4):
        urls = parse_urls(base_url)
        self.base_url = urls[0]
        self.model_id = model or "default"
        self.max_retries = max_retries
        self.concurrency = max(1, concurrency)  # requests in flight per server
        self.pool = ServerPool(urls, per_server=self.concurrency)
        key = os.environ.get(api_key_env, "")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(timeout=timeout_s, headers=headers)
        self.usage = {"requests": 0, "prompt_tokens": 0, "cached_tokens": 0, "retries": 0}
        self._probed: bool | None = None

    def token_usage(self) -> tuple[int, int]:
        return self.usage["prompt_tokens"], self.usage["cached_tokens"]

    # http --------------------------------------------------------------------------------
    def _post(self, path: str, payload: dict[str, Any], key: str = "") -> dict[str, Any]:
        """POST to the pool's best server for ``key``; a failure rests that server and the
        retry goes to the next one (backing off once every server has been tried)."""
        avoid: set[str] = set()
        for attempt in range(self.max_retries + 1):
            with self.pool.lease(key, frozenset(avoid)) as server:
                url = f"{server.url}{path}"
                try:
                    response = self._client.post(url, json=payload)
                except httpx.TimeoutException:
                    problem = f"timed out after {self._client.timeout.read}s (raise timeout_s?)"
                except httpx.TransportError as exc:
                    problem = (f"cannot reach {url} ({exc.__class__.__name__}): is the server "
                               "running?")
                else:
                    if response.status_code < 400:
                        data = self._json(response, url)
                        tokens = self._tokens(data)
                        self._count(*tokens)
                        self.pool.succeeded(server, *tokens)
                        return data
                    if response.status_code not in RETRY_STATUS:
                        raise BackendError(self._http_error(response, url))
                    problem = self._http_error(response, url)
                self.pool.failed(server)
                avoid.add(server.url)
            if attempt < self.max_retries:
                self.usage["retries"] += 1
                if len(avoid) >= len(self.pool.servers):
                    avoid.clear()
                    time.sleep(min(8.0, 0.25 * 2**attempt) * (0.5 + random.random()))
        raise BackendError(f"openai backend: {problem} (gave up after {self.max_retries + 1} tries)")

    def _json(self, response: httpx.Response, url: str) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            raise BackendError(f"openai backend: {url} answered with non-JSON; is base_url "
                               "an OpenAI-compatible API?") from None
        if not isinstance(data, dict) or not data.get("choices"):
            raise BackendError(f"openai backend: {url} returned a malformed response (no choices)")
        return data

    @staticmethod
    def _tokens(data: dict[str, Any]) -> tuple[int, int]:
        """(prompt tokens, of which cached) as the server reports them."""
        usage = data.get("usage") or {}
        details = usage.get("prompt_tokens_details") or {}
        cached = details.get("cached_tokens") or (data.get("timings") or {}).get("cache_n") or 0
        return int(usage.get("prompt_tokens") or 0), int(cached)

    def _count(self, prompt: int, cached: int) -> None:
        self.usage["requests"] += 1
        self.usage["prompt_tokens"] += prompt
        self.usage["cached_tokens"] += cached

    def _http_error(self, response: httpx.Response, url: str) -> str:
        code = response.status_code
        try:
            detail = response.json().get("error", response.text)
            detail = detail.get("message", detail) if isinstance(detail, dict) else detail
        except ValueError:
            detail = response.text
        detail = " ".join(str(detail).split())[:200]
        hint = {
            401: "check the API key (api_key_env names the variable that holds it)",
            403: "the key lacks access to this model",
            404: f"check base_url and the model name {self.model_id!r} (see "
                 f"{url[: url.rfind('/v1') + 3]}/models)",
        }.get(code, "see the server log")
        return f"openai backend: HTTP {code} from {url}: {detail} — {hint}"

    def _map(self, fn, items: Sequence[Any]) -> list[Any]:
        workers = self.concurrency * len(self.pool.servers)
        if workers == 1 or len(items) == 1:
            return [fn(i) for i in items]
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(fn, items))

    def describe(self) -> dict:
        return {**super().describe(), "servers": self.pool.stats()}

    # generation --------------------------------------------------------------------------
    def _generate_one(self, r: GenerateRequest) -> str:
        common = {"model": self.model_id, "max_tokens": r.max_tokens, "temperature": 0.0}
        if r.stop:
            common["stop"] = list(r.stop)
        if r.system is not None:
            messages = [{"role": "system", "content": r.system}, {"role": "user", "content": r.prompt}]
            data = self._post("/chat/completions", {**common, "messages": messages},
                              key=r.system + r.prompt)
            text = (data["choices"][0].get("message") or {}).get("content")
        else:
            data = self._post("/completions", {**common, "prompt": r.prompt}, key=r.prompt)
            text = data["choices"][0].get("text")
        if text is None:
            raise BackendError("openai backend: the server returned a choice without text")
        return text.strip()

    def _generate_batch(self, requests: Sequence[GenerateRequest]) -> list[str]:
        return self._map(self._generate_one, requests)

    # scoring -----------------------------------------------------------------------------
    def _score_one(self, r: ScoreRequest) -> list[float]:
        prompt = r.context + r.continuation
        data = self._post("/completions", {
            "model": self.model_id, "prompt": prompt, "max_tokens": 1, "temperature": 0.0,
            "echo": True, "logprobs": 1,
        }, key=r.context)
        lp = data["choices"][0].get("logprobs") or {}
        offsets, values = lp.get("text_offset"), lp.get("token_logprobs")
        if not offsets or not values:
            raise _NoPromptLogprobs()
        start, end = len(r.context), len(prompt)
        inside = [k for k, off in enumerate(offsets) if start <= off < end]
        if not inside or any(values[k] is None for k in inside):
            raise _NoPromptLogprobs()
        bounds = [offsets[k] for k in inside] + [end]
        pieces = [prompt[a:b] for a, b in pairwise(bounds)]
        return [float(values[k]) for k, keep in zip(inside, r.picked(pieces)) if keep]

    def _logprobs_batch(self, requests: Sequence[ScoreRequest]) -> list[list[float]]:
        try:
            return self._map(self._score_one, requests)
        except _NoPromptLogprobs:
            self.can_score_logprobs = False
            raise BackendError(
                f"the server at {self.base_url} returns no prompt log-probabilities "
                "(echo + logprobs): set judge_method = 'generate', or start a "
                "llama-cpp-python server with --logits_all true"
            ) from None

    def probe_logprobs(self) -> bool:
        """Ask the server once whether it returns prompt log-probabilities."""
        if self._probed is None:
            try:
                self._score_one(ScoreRequest("The sky is", " blue"))
                self._probed = True
            except (_NoPromptLogprobs, BackendError):
                self._probed: bool | None = None
            self.can_score_logprobs = self._probed
        return self._probed

    def close(self) -> None:
        self._client.close()


class _NoPromptLogprobs(Exception):
    pass
