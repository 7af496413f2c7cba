"""Training pairs for a judge: (query, what the judge reads for a chunk, relevant or not).

Each source is measured on its own (bench/judge_train.py) and they combine:

* labels: queries with the chunks judged relevant (BEIR qrels, mapped to chunks);
* feedback: hits a user marked relevant or not (the ``feedback`` table);
* the corpus itself, with no queries: a chunk's title, or a sentence held out of its text
  (inverse cloze), or a question the writer model writes for it, as the query for that chunk.

Negatives are the prefilter's own top candidates that are not marked relevant: the hard
cases the judge meets at search time. The text of every pair is ``JudgeSpec.candidate_text``,
what the judge reads in a search (the gloss, or the text's lead before it has one).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping

from ..backends.base import GenerateRequest
from ..store import Chunk
from ..store.questions import put_questions, stored_questions


@dataclass(frozen=True)
class Pair:
    query: str
    text: str
    label: int  # 1 relevant, 0 not
    source: str = "labels"


def _reader(index):
    """A function from chunks to what the judge reads for each (no model is loaded)."""
    spec, rep = index.judge_spec(), index.representation()

    def read(chunks: list[Chunk]) -> dict[int, str]:
        glosses = index.store.glosses(rep.id, [c.id for c in chunks])
        return {c.id: spec.candidate_text(c, glosses.get(c.id)) for c in chunks}
    return read


def labeled_pairs(index, labels: Mapping[str, Mapping[int, int]], negatives: int = 3,
                  depth: int = 30, seed: int = 0, source: str = "labels",
                  hard: int | None = None, found_within: int = 0) -> list[Pair]:
    """Pairs from ``{query: {chunk id: grade}}``: every chunk of grade > 0 a positive, and
    ``negatives`` of the prefilter's top ``depth`` candidates that are not, per query: the
    ``hard`` highest ranked (half of them by default), then at random among the rest. A
    chunk marked with grade 0 is a negative too; grade -1 keeps a chunk out of both. With
    ``found_within`` k, a query none of whose positives the prefilter ranks in its top k is
    dropped (round-trip consistency, Promptagator: a made-up query its own chunk does not
    answer first is more likely a bad query than a hard one)."""
    rng, read, pairs, prefilter = random.Random(seed), _reader(index), [], index.prefilter
    hard = (negatives + 1) // 2 if hard is None else min(hard, negatives)
    for query, marked in labels.items():
        found = [c.chunk_id for c in prefilter.candidates(query, max(depth, found_within))]
        if found_within and not any(marked.get(cid, 0) > 0 for cid in found[:found_within]):
            continue
        unmarked = [cid for cid in found[:depth] if cid not in marked]
        top, rest = unmarked[:hard], unmarked[hard:]
        ids = ([cid for cid, g in marked.items() if g >= 0] + top
               + rng.sample(rest, min(len(rest), negatives - len(top))))
        chunks = index.store.get_chunks(ids)
        texts = read([chunks[i] for i in ids if i in chunks])
        for cid in ids:
            if cid in texts:
                label = int(marked.get(cid, 0) > 0)
                pairs.append(Pair(query, texts[cid], label, source))
    return pairs


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=\S)")


def corpus_queries(chunks: Iterable[Chunk], seed: int = 0, min_words: int = 5) -> dict[int, str]:
    """A query per chunk from its own text, with no user queries: a sentence held out of it
    (inverse cloze), never one of its first two (the gloss or lead the judge reads covers
    the start); or, for a chunk too short for that, its document's title when the judge does
    not read it (the chunk's own heading differs and the text does not hold it)."""
    rng, out = random.Random(seed), {}
    for c in chunks:
        text = " ".join(c.text.split())
        sentences = [s for s in _SENTENCE.split(text) if len(s.split()) >= min_words]
        later = sentences[2:] or sentences[1:]
        title = (c.title or "").strip()
        if later:
            out[c.id] = rng.choice(later)
        elif (len(title.split()) >= 3 and (c.heading or "").strip() != title
              and title.lower() not in text.lower()):
            out[c.id] = title
    return out


def corpus_labels(index, limit: int = 0, seed: int = 0,
                  ask: Callable[[list[Chunk]], dict[int, str]] | None = None
                  ) -> dict[str, dict[int, int]]:
    """Self-supervised labels from the index's own chunks: each chunk's query (a held-out
    sentence, :func:`corpus_queries`, or what ``ask`` writes for it, :func:`writer_questions`)
    with that chunk relevant (1) and the other chunks of its document left out (-1: they may
    well answer it too, so they are never negatives)."""
    ids = index.store.chunk_ids()
    rng = random.Random(seed)
    if limit and len(ids) > limit:
        ids = sorted(rng.sample(list(ids), limit))
    chunks = index.store.get_chunks(ids)
    picked = [chunks[i] for i in ids if i in chunks]
    queries = ask(picked) if ask is not None else corpus_queries(picked, seed)
    siblings: dict[int, list[int]] = {}
    for cid, doc in index.store.db.execute("SELECT id, document_id FROM chunks"):
        siblings.setdefault(doc, []).append(cid)
    out: dict[str, dict[int, int]] = {}
    for cid, query in queries.items():
        same = siblings.get(chunks[cid].document_id, [cid])
        out.setdefault(query, {}).update({o: -1 for o in same if o != cid} | {cid: 1})
    return out


QUESTION_SYSTEM = ("You write search queries. Given a passage, write one short question "
                   "that the passage answers, in the passage's own field. Do not copy a "
                   "sentence of the passage. Answer with the question only.")
QUESTION_CHARS = 1200  # of a chunk's text the writer reads
QUESTION_TOKENS = 40  # the most the writer writes


def writer_questions(model, progress=None, store=None) -> Callable[[list[Chunk]], dict[int, str]]:
    """For :func:`corpus_labels`: a writer model's question for each chunk (InPars,
    Bonifacio et al. 2022; Promptagator): queries in the form users ask them, which a held-out
    sentence is not. A chunk whose answer is not one line ending in "?" gets none. With a
    ``store``, what the writer asked of a chunk's text is kept there (glossdb.store.questions)
    and never asked again; ``progress`` counts the chunks actually asked."""
    writer = question_writer(model)

    def ask(chunks: list[Chunk]) -> dict[int, str]:
        known = stored_questions(store, writer, chunks) if store is not None else {}
        rest = [c for c in chunks if c.id not in known]
        requests = [GenerateRequest(" ".join(c.text.split())[:QUESTION_CHARS], max_tokens=QUESTION_TOKENS,
                                    stop=("\n",), system=QUESTION_SYSTEM) for c in rest]
        asked = dict(zip((c.id for c in rest),
                         map(_question, model.generate(requests, progress) if rest else [])))
        if store is not None:
            put_questions(store, writer, rest, asked)
        return {cid: q for cid, q in (known | asked).items() if q}
    return ask


def question_writer(model) -> str:
    """The writer's name in stored questions: its model and what it is asked."""
    prompt = json.dumps([QUESTION_SYSTEM, QUESTION_CHARS, QUESTION_TOKENS])
    return f"{model.model_id}:{hashlib.sha256(prompt.encode()).hexdigest()[:10]}"


def _question(answer: str) -> str:
    """The question of a writer's answer ("" when it wrote none)."""
    line = answer.strip().strip('"').strip()
    line = re.sub(r"^(question|query)\s*:\s*", "", line, flags=re.I).strip()
    return line if line.endswith("?") and 3 <= len(line.split()) <= 40 else ""


def corpus_pairs(index, negatives: int = 3, depth: int = 30, limit: int = 0,
                 seed: int = 0, ask=None) -> list[Pair]:
    """Pairs of :func:`corpus_labels`, with the prefilter's other candidates for each query
    as negatives."""
    return labeled_pairs(index, corpus_labels(index, limit, seed, ask), negatives, depth, seed,
                         source="corpus" if ask is None else "questions")
