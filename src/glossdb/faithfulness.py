"""Is what a gloss or an explanation says supported by its passage? Pure functions.

A word of a gloss is *supported* when its stem (Snowball English) occurs among the passage's
stems; a number when the same number occurs in the passage. Function words and the words a
description needs to describe ("passage", "study", "describes") do not count either way.
This is a strict, lexical check: a faithful paraphrase ("heart" for "cardiac") counts as
unsupported, so the share is an upper bound on invention, used to compare writers, and the
list of unsupported words is what a reader should check by eye.

*Entities* are the claims a reader trusts most: numbers and capitalised words that do not
start a sentence. :func:`unsupported_entities` lists the ones absent from the passage.

:func:`copied_share` guards the other way: the share of a gloss's words that sit inside a run
of ``run`` or more words copied verbatim from the passage (copying scores as faithful but is
not a description).
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’-][^\W\d_]+)*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

FUNCTION_WORDS = frozenset("""
a about above after again against all also although am among an and any are as at be because
been before being below between both but by can could did do does doing down during each either
few for from further had has have having he her here hers him his how however i if in into is it
its itself just may me might more most much must my neither no nor not of off on once only or
other our out over own per rather same she should since so some such than that the their them
then there these they this those through thus to too under until up upon very via was we were
what when where whether which while who whom whose why will with within without would yet you
your one two three first second new use used using well like within among whereas
""".split())

# Words a description uses to talk about its passage, not facts taken from it.
DESCRIPTION_WORDS = frozenset("""
passage text article paper study studies author authors describe describes described discuss
discusses discussed explain explains explained show shows shown present presents presented
report reports reported find finds found finding findings investigate investigates examine
examines examined suggest suggests suggested result results conclude concludes concluded
provide provides provided focus focuses topic main claim claims state states stated section
document research researchers also overall key important information
""".split())


@lru_cache(maxsize=1)
def _stemmer():
    return snowballstemmer.stemmer("english")


def words(text: str) -> list[str]:
    """The words and numbers of a text, in order, as written."""
    return _WORD.findall(text)


def _is_number(word: str) -> bool:
    return bool(_NUMBER.fullmatch(word))


def stem(word: str) -> str:
    if _is_number(word):
        return word.replace(",", "")
    return _stemmer().stemWord(word.lower().replace("’", "'"))


def content_words(text: str) -> list[str]:
    """Words that carry content: numbers, and words that are neither function nor
    description words (one-letter words excluded)."""
    out = []
    for w in words(text):
        low = w.lower()
        if _is_number(w) or (len(w) > 1 and low not in FUNCTION_WORDS
                             and low not in DESCRIPTION_WORDS):
            out.append(w)
    return out


def stems(text: str) -> set[str]:
    keys = set()
    for w in words(text):
        keys.add(stem(w))
        for part in re.split(r"['’-]", w):  # "T-cell" is supported by "T cell" and vice versa
            if part:
                keys.add(stem(part))
    return keys


def unsupported(claim: str, passage: str) -> list[str]:
    """The content words of ``claim`` (a gloss, an explanation) that its passage lacks."""
    have = stems(passage)
    out = []
    for w in content_words(claim):
        parts = [p for p in re.split(r"['’-]", w) if p]
        if stem(w) not in have and not all(stem(p) in have for p in parts):
            out.append(w)
    return out


def unsupported_share(claim: str, passage: str) -> float:
    """Share of ``claim``'s content words absent from ``passage`` (0.0 for no content)."""
    content = content_words(claim)
    return len(unsupported(claim, passage)) / len(content) if content else 0.0


def entities(text: str) -> list[str]:
    """Numbers, and capitalised words that do not start a sentence (names, acronyms)."""
    out = []
    start = True
    for m in re.finditer(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’-][^\W\d_]+)*|[.!?:;]", text):
        tok = m.group()
        if tok in ".!?:;":
            start = True
            continue
        if _is_number(tok) or (not start and tok[0].isupper()):
            out.append(tok)
        start = False
    return out


def unsupported_entities(claim: str, passage: str) -> list[str]:
    """Entities of ``claim`` that its passage does not contain (compared as stems)."""
    have = stems(passage)
    return [e for e in entities(claim) if stem(e) not in have]


def copied_share(gloss: str, passage: str, run: int = 8) -> float:
    """Share of the gloss's words inside a run of ``run``+ words copied from the passage."""
    g = [w.lower() for w in words(gloss)]
    p = [w.lower() for w in words(passage)]
    if len(g) < run or len(p) < run:
        return 0.0
    grams = {tuple(p[i:i + run]) for i in range(len(p) - run + 1)}
    covered = [False] * len(g)
    for i in range(len(g) - run + 1):
        if tuple(g[i:i + run]) in grams:
            covered[i:i + run] = [True] * run
    return sum(covered) / len(g)


def _plain(text: str) -> str:
    return " ".join(w.lower() for w in words(text))


def title_only(gloss: str, titles: list[str | None]) -> bool:
    """Whether a gloss says nothing but the chunk's title or heading (same words, in order,
    case and punctuation aside)."""
    mine = _plain(gloss)
    return not mine or any(t and mine == _plain(t) for t in titles)


# Words an English sentence does not end on: articles and determiners, prepositions,
# conjunctions, auxiliaries (a cut at the token limit usually leaves one of them last).
NOT_FINAL = frozenset("""
a an the this these those its their our your his her my some any each every
of in on at by for with from to into onto upon about above below between among through
during without within under over via than as and or but nor whereas while although because
if whether that which who whose is are was were be been being am has have had do does did
will would shall should can could may might must not
""".split())


def ends_mid_sentence(gloss: str, passage: str) -> bool:
    """Whether a gloss ends inside a sentence: no final ``.``/``!``/``?``; a last word
    that does not end an English sentence (:data:`NOT_FINAL`, or an ``-ly`` adverb right
    after one: "levels are increasingly."); or a number the passage continues as a decimal
    ("1.18 to 1." of "1.18 to 1.42"), what a cut at the token limit leaves."""
    text = gloss.rstrip().rstrip('"\'”’)')
    if not text or text[-1] not in ".!?…":
        return True
    tail = words(text)
    if not tail:
        return True
    last = tail[-1].lower()
    if last in NOT_FINAL:
        return True
    if last.endswith("ly") and len(tail) > 1 and tail[-2].lower() in NOT_FINAL:
        return True
    m = re.search(r"(\d+)\.$", text)
    return bool(m) and re.search(rf"(?<![\d.]){m.group(1)}\.\d", passage) is not None
