"""Greedy decoding's pure parts, for the in-process llama.cpp backend: the next token, when a
generation is done, where it is cut, and the logit offsets of grounded generation."""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Callable, Iterator

import numpy as np

from ..errors import BackendError, InvalidQuery
from .base import GenerateRequest, Grounding


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[list[int]]:
    """Hold Ctrl-C for the length of a llama.cpp call: Python code runs inside its eval
    callback, and a KeyboardInterrupt raised there cannot cross the C frame (ctypes prints
    "Exception ignored" and the decode fails as a model error). The yielded list is
    non-empty when SIGINT arrived; the caller raises after the call. Only the main thread
    receives signals, so elsewhere (a server's worker threads) this does nothing."""
    seen: list[int] = []
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield seen
        return
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: seen.append(signum))
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, previous)


def pick(logits: np.ndarray, made: list[int], repeat_penalty: float,
         bias: np.ndarray | None = None) -> int:
    """The greedy next token, after the repetition penalty over the last 64 tokens made and
    a grounding bias. Modifies ``logits``."""
    if made and repeat_penalty != 1.0:
        seen = np.unique(np.asarray(made[-64:]))
        vals = logits[seen]
        logits[seen] = np.where(vals > 0, vals / repeat_penalty, vals * repeat_penalty)
    if bias is not None:
        logits += bias
    return int(np.argmax(logits))


def finished(text: bytes, made: list[int], r: GenerateRequest) -> bool:
    if len(made) >= r.max_tokens:
        return True
    decoded = text.decode("utf-8", "ignore")
    return any(s in decoded for s in r.stop)


def trim(text: str, stop: tuple[str, ...]) -> str:
    for s in stop:
        at = text.find(s)
        if at >= 0:
            text = text[:at]
    return text.strip()


def shared_prefix(prompts: list[list[int]]) -> int:
    """How many tokens every prompt starts with (each keeps at least one of its own)."""
    if len(prompts) < 2:
        return 0
    limit = min(len(p) for p in prompts) - 1
    shared = 0
    while shared < limit and all(p[shared] == prompts[0][shared] for p in prompts):
        shared += 1
    return shared


def classify_tokens(n_vocab: int, token_bytes: Callable[[int], bytes],
                    is_eog: Callable[[int], bool]) -> tuple[np.ndarray, np.ndarray]:
    """Once per model: tokens that start a number or a capitalised word, and the end of
    generation tokens, which get the passage bonus too: else a grounded generation would not
    stop where it wants and run on to its token limit. (Measured: giving the bonus to
    newlines and punctuation as well broke numbers across lines.)"""
    entity = np.zeros(n_vocab, dtype=bool)
    neutral = np.zeros(n_vocab, dtype=bool)
    for tok in range(n_vocab):
        piece = token_bytes(tok).decode("utf-8", "ignore").strip()
        entity[tok] = bool(piece) and (piece[0].isdigit() or piece[0].isupper())
        neutral[tok] = is_eog(tok)
    return entity, neutral


def grounding_bias(g: Grounding | None, entity: np.ndarray, neutral: np.ndarray,
                   tokenize: Callable[[str], list[int]]) -> np.ndarray | None:
    """Per-token logit offsets for a grounded request (see :class:`Grounding`)."""
    if g is None or not (g.bonus or g.penalty):
        return None
    inside = neutral.copy()  # ending costs nothing extra
    for text in (g.source, " " + g.source, g.source.lower()):
        inside[tokenize(text)] = True
    bias = np.where(inside, np.float32(g.bonus), np.float32(0.0))
    bias[entity & ~inside] -= g.penalty
    return bias.astype(np.float32)


def log_softmax_pick(rows: np.ndarray, targets: np.ndarray, block: int = 16) -> np.ndarray:
    """log p(target) for each row of logits, a few rows at a time to stay in cache."""
    out = np.empty(len(targets), dtype=np.float64)
    for start in range(0, len(targets), block):
        part = rows[start : start + block]
        peak = part.max(axis=1, keepdims=True)
        lse = np.log(np.exp(part - peak).sum(axis=1, dtype=np.float64)) + peak[:, 0]
        out[start : start + block] = part[np.arange(len(part)), targets[start : start + block]] - lse
    return out


def check_pair(tokens: int, context: int, scored: int, rows: int) -> None:
    """A judged pair must fit the context, and its scored tokens the logits budget."""
    if tokens > context:
        raise BackendError(f"a judged pair needs {tokens} tokens, over the context of "
                           f"{context}; shorten glosses or raise n_ctx")
    if scored > rows:
        raise InvalidQuery(f"the query asks the judge to score {scored} tokens of one "
                           f"passage, over the memory budget of {rows}: shorten the query")
