"""A deterministic model for tests of plumbing: no weights, no network.

Generation returns queued answers (``enqueue``) or an echo of the prompt's last line;
scoring gives each continuation word (the words a request's ``select`` picks) 0.0 when the
context contains it and -5.0 otherwise, so rankings behave like a crude word-overlap judge.
Every request lands in ``history``. ``GLOSSDB_FAKE_DELAY_S`` makes each batch take that
long, so crash tests can kill a process in the middle of model work; with
``GLOSSDB_FAKE_GATE=PATH`` each scoring batch first creates ``PATH.waiting`` and then waits
until ``PATH`` exists, so a test knows a model call is under way and ends it when it likes.
"""

from __future__ import annotations

import os
import re
import time
from typing import Sequence

from .base import GenerateRequest, Model, ScoreRequest


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


class FakeModel(Model):
    backend_name = "fake"
    model_id = "fake"
    can_score_logprobs = True
    supports_prefix_cache = False
    max_batch = 4
    is_chat = True
    context_size = 8192

    def __init__(self, model_id: str = "fake", model: str | None = None):
        """``model``: the configured model name, which the fake answers to but ignores."""
        self.model_id = model_id
        self.queue: list[str] = []
        self.history: list[GenerateRequest | ScoreRequest] = []
        self.delay_s = float(os.environ.get("GLOSSDB_FAKE_DELAY_S") or 0)

    def enqueue(self, *answers: str) -> None:
        self.queue.extend(answers)

    def _generate_batch(self, requests: Sequence[GenerateRequest]) -> list[str]:
        time.sleep(self.delay_s)
        out = []
        for r in requests:
            self.history.append(r)
            if self.queue:
                out.append(self.queue.pop(0))
            else:
                last = r.prompt.strip().splitlines()[-1] if r.prompt.strip() else ""
                out.append(" ".join(_words(last)[:12]) or "nothing")
        return out

    def _logprobs_batch(self, requests: Sequence[ScoreRequest]) -> list[list[float]]:
        time.sleep(self.delay_s)
        gate = os.environ.get("GLOSSDB_FAKE_GATE")
        if gate:
            open(gate + ".waiting", "w").close()
            while not os.path.exists(gate):
                time.sleep(0.01)
        out = []
        for r in requests:
            self.history.append(r)
            seen = set(_words(r.context))
            words = _words(r.continuation)
            pieces = [" " + w for w in words]
            picked = r.picked(pieces)
            scores = [0.0 if w in seen else -5.0 for w, keep in zip(words, picked) if keep]
            out.append(scores or [-5.0])
        return out
