"""The model seam: what glossdb asks of any LLM, in one small base class.

glossdb gives a model three jobs: write glosses and explanations (generation) and judge
query–candidate pairs (log-probabilities of a continuation). A backend implements
``_generate_batch`` and, when it declares ``can_score_logprobs``, ``_logprobs_batch``. Batching,
progress and input checks live here, once, for every backend.

Capabilities are class attributes so glossdb can adapt without trying things:

* ``can_score_logprobs``: the backend returns log p(continuation | context) per token.
* ``supports_prefix_cache``: repeated prompt prefixes are cheap (shared KV, server caching).
* ``max_batch``: how many prompts one ``_*_batch`` call should receive.
* ``context_size``: tokens the model can attend to.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable, Sequence

from ..errors import BackendError

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Grounding:
    """Keep generated text close to a source text while decoding.

    A backend that ``supports_grounding`` adds ``bonus`` to the logits of tokens that occur
    in ``source`` and subtracts ``penalty`` from tokens that would start a number or a
    capitalised word absent from it (the entities a reader trusts and a writer invents).
    """

    source: str
    bonus: float = 0.0
    penalty: float = 0.0


@dataclass(frozen=True)
class GenerateRequest:
    """A completion request. With ``system`` set it is a chat turn (system + user=prompt),
    which each backend renders its own way (chat template, chat endpoint)."""

    prompt: str
    max_tokens: int = 96
    stop: tuple[str, ...] = ()
    system: str | None = None
    grounding: Grounding | None = None


@dataclass(frozen=True)
class ScoreRequest:
    """Score ``continuation`` after ``context``; ``shared_prefix`` is a hint only.

    ``shared_prefix`` marks a leading part of ``context`` that many requests repeat, so a
    backend with a prefix cache can evaluate it once. ``select`` picks which of the
    continuation's tokens count, given their text pieces (None: all of them); a backend
    returns log-probabilities for the picked tokens only, and may skip computing the rest.
    """

    context: str
    continuation: str
    shared_prefix: str = ""
    select: Callable[[Sequence[str]], Sequence[bool]] | None = None
    exact: bool = False  # the full softmax, never an approximation (a score read as a probability)

    def picked(self, pieces: Sequence[str]) -> list[bool]:
        """Which continuation tokens count, as one flag per piece."""
        if self.select is None:
            return [True] * len(pieces)
        flags = list(self.select(pieces))
        if len(flags) != len(pieces):
            raise BackendError("a score request's select returned the wrong number of flags")
        return flags


class Model(ABC):
    """A language model glossdb can use. Subclasses register with :func:`register`."""

    backend_name = "base"
    model_id = "unknown"
    can_score_logprobs = False
    supports_prefix_cache = False
    max_batch = 8
    context_size = 2048
    is_chat = False
    supports_grounding = False  # honours GenerateRequest.grounding
    adapter = ""  # the hash of a LoRA adapter applied to the model ("" for none)
    calibration: dict = {}  # the adapter's verdict calibration (glossdb.judge.CALIBRATION)
    # the constructor's keywords this backend takes from the settings, and the setting each
    # reads (glossdb.config.Config field); the index passes these and nothing else
    settings: dict[str, str] = {}
    judge_settings: dict[str, str] = {}  # the same, read only when the model is the judge

    @abstractmethod
    def _generate_batch(self, requests: Sequence[GenerateRequest]) -> list[str]:
        """Greedy completions, one per request, without the prompt."""

    def _logprobs_batch(self, requests: Sequence[ScoreRequest]) -> list[list[float]]:
        raise BackendError(
            f"backend {self.backend_name!r} cannot return log-probabilities; "
            "choose a judge method that only generates (judge_method = 'generate')"
        )

    def generate(
        self, requests: Sequence[GenerateRequest], progress: Progress | None = None
    ) -> list[str]:
        return self._batched(requests, self._generate_batch, progress)

    def logprobs(
        self, requests: Sequence[ScoreRequest], progress: Progress | None = None
    ) -> list[list[float]]:
        """Per-token log-probabilities of each request's continuation."""
        for r in requests:
            if not r.continuation:
                raise BackendError("a score request needs a non-empty continuation")
        return self._batched(requests, self._logprobs_batch, progress)

    def _batched(self, requests, fn, progress):
        out: list = []
        size = max(1, self.max_batch)
        for start in range(0, len(requests), size):
            part = list(requests[start : start + size])
            result = fn(part)
            if len(result) != len(part):
                raise BackendError(
                    f"backend {self.backend_name!r} answered {len(result)} of {len(part)} requests"
                )
            out.extend(result)
            if progress is not None:
                progress(len(part))
        return out

    def scoring_variant(self) -> str:
        """How this backend computes log-probabilities beyond the model itself, when that can
        change a score (e.g. an approximate softmax); "" for exact. Part of the judge version."""
        return ""

    def token_usage(self) -> tuple[int, int]:
        """(prompt tokens sent so far, of which the backend served from a prefix cache)."""
        return getattr(self, "tokens_evaluated", 0), 0

    def probe_logprobs(self) -> bool:
        """Whether scoring works; remote backends ask their server once."""
        return self.can_score_logprobs

    def count_tokens(self, text: str) -> int:
        """Tokens the model reads for ``text``; backends with a tokenizer override this."""
        return max(1, (len(text) + 3) // 4)

    def describe(self) -> dict:
        return {
            "backend": self.backend_name,
            "model": self.model_id,
            "can_score_logprobs": self.can_score_logprobs,
            "supports_prefix_cache": self.supports_prefix_cache,
            "supports_grounding": self.supports_grounding,
            "max_batch": self.max_batch,
            "context_size": self.context_size,
        }

    def close(self) -> None:
        """Release what the backend holds (weights, connections)."""
