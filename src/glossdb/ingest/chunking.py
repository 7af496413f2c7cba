"""Structure-following chunking within a token budget.

Input is the loaders' normal form (blocks split by blank lines, ``#`` headings). A chunk never
spans two sections; blocks are packed greedily up to ``max_tokens``; a block larger than the
budget is split at sentence ends, and a sentence larger than the budget at word boundaries.
Character spans always index into the input text, so ``text[start:end]`` is the chunk's source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ConfigError
from ..store.records import ChunkDraft

DEFAULT_MAX_TOKENS = 400
_HEADING = re.compile(r"(#{1,6})[ \t]+([^\n]+)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")


def approx_tokens(text: str) -> int:
    """A tokenizer-free estimate (about four characters a token for English)."""
    return max(1, (len(text) + 3) // 4)


@dataclass
class _Span:
    start: int
    end: int


def _blocks(text: str) -> list[_Span]:
    return [_Span(m.start(), m.end()) for m in re.finditer(r"\S(?:.*?\S)?(?=\n\s*\n|\Z)", text, re.S)]


def _split_long(text: str, span: _Span, max_tokens: int) -> list[_Span]:
    """Split one block at sentence ends, then at spaces, so that every piece fits."""
    pieces: list[_Span] = []
    start = span.start
    for m in _SENTENCE_END.finditer(text, span.start, span.end):
        pieces.append(_Span(start, m.start()))
        start = m.end()
    pieces.append(_Span(start, span.end))
    out: list[_Span] = []
    for p in pieces:
        while approx_tokens(text[p.start : p.end]) > max_tokens:
            limit = p.start + max_tokens * 4
            cut = text.rfind(" ", p.start + 1, limit)
            cut = cut if cut > p.start else limit
            out.append(_Span(p.start, cut))
            p = _Span(cut + 1 if text[cut : cut + 1] == " " else cut, p.end)
        if p.end > p.start:
            out.append(p)
    return out


def chunk_text(text: str, max_tokens: int = DEFAULT_MAX_TOKENS,
               title: str | None = None) -> list[ChunkDraft]:
    if max_tokens < 8:
        raise ConfigError(f"chunk_tokens must be at least 8 (got {max_tokens}): set a larger "
                          "chunk_tokens in the index's settings file")
    chunks: list[ChunkDraft] = []
    heading = title
    current: list[_Span] = []

    def flush() -> None:
        if current:
            start, end = current[0].start, current[-1].end
            chunks.append(ChunkDraft(text[start:end], start, end, heading))
            current.clear()

    for block in _blocks(text):
        m = _HEADING.match(text, block.start, block.end)
        if m:
            flush()
            heading = m.group(2).strip()
            rest = text.find("\n", block.start, block.end)
            if rest < 0:
                continue
            block = _Span(rest + 1, block.end)
        for piece in _split_long(text, block, max_tokens):
            if current and approx_tokens(text[current[0].start : piece.end]) > max_tokens:
                flush()
            current.append(piece)
    flush()
    return chunks
