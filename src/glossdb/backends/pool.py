"""A pool of OpenAI-compatible servers behind one backend (``base_url = "URL1, URL2"``).

* **Affinity**: a request goes to the server that rendezvous hashing ranks first for its key
  (the candidate text for the judge), so a candidate judged again lands where its prefix is
  cached; the ranking only moves the keys of a server that leaves or comes back.
* **Bounded in flight**: each server has ``per_server`` slots. A request takes a free slot of
  its preferred server, else of the next in its ranking, and waits for its preferred one only
  when every server is busy.
* **Failover**: a server that fails (connection error, timeout, 429/5xx) rests for
  ``cooldown_s``; the retry goes to the next server of the ranking.
* Per-server counters (requests, errors, prompt and cached tokens) for ``stats``.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator

from ..errors import BackendError


@dataclass
class Server:
    url: str
    slots: threading.BoundedSemaphore = field(repr=False)
    requests: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    resting_until: float = 0.0

    def stats(self) -> dict:
        return {"url": self.url, "requests": self.requests, "errors": self.errors,
                "prompt_tokens": self.prompt_tokens, "cached_tokens": self.cached_tokens,
                "resting": self.resting_until > time.monotonic()}


def parse_urls(base_url: str) -> list[str]:
    """Server URLs from a setting: separated by commas or spaces, each ending in ``/v1``."""
    urls = []
    for part in re.split(r"[,\s]+", base_url.strip()):
        if part:
            url = part.rstrip("/")
            urls.append(url if url.endswith("/v1") else url + "/v1")
    if not urls:
        raise BackendError(
            "the openai backend needs a server URL: pass --base-url (e.g. "
            "http://127.0.0.1:8080/v1; several, comma-separated, make a pool) or set base_url "
            "in the index's settings file (INDEX.toml)")
    return list(dict.fromkeys(urls))


class ServerPool:
    def __init__(self, urls: list[str], per_server: int = 4, cooldown_s: float = 5.0):
        self.servers = [Server(u, threading.BoundedSemaphore(max(1, per_server))) for u in urls]
        self.cooldown_s = cooldown_s
        self._lock = threading.Lock()

    def ranking(self, key: str) -> list[Server]:
        """Servers in this key's order of preference (rendezvous hashing), resting ones last."""
        def weight(s: Server) -> bytes:
            return hashlib.blake2b(f"{s.url}\0{key}".encode(), digest_size=8).digest()

        now = time.monotonic()
        ranked = sorted(self.servers, key=weight, reverse=True)
        return [s for s in ranked if s.resting_until <= now] + \
               [s for s in ranked if s.resting_until > now]

    @contextlib.contextmanager
    def lease(self, key: str, avoid: frozenset[str] = frozenset()) -> Iterator[Server]:
        """A slot on the best server for ``key`` not in ``avoid`` (urls), held for one request."""
        ranked = [s for s in self.ranking(key) if s.url not in avoid] or self.ranking(key)
        chosen = next((s for s in ranked if s.slots.acquire(blocking=False)), None)
        if chosen is None:
            chosen = ranked[0]
            chosen.slots.acquire()
        try:
            yield chosen
        finally:
            chosen.slots.release()

    def succeeded(self, server: Server, prompt_tokens: int, cached_tokens: int) -> None:
        with self._lock:
            server.requests += 1
            server.prompt_tokens += prompt_tokens
            server.cached_tokens += cached_tokens
            server.resting_until = 0.0

    def failed(self, server: Server) -> None:
        with self._lock:
            server.errors += 1
            server.resting_until = time.monotonic() + self.cooldown_s

    def stats(self) -> list[dict]:
        return [s.stats() for s in self.servers]
