"""The judge: an LLM scores each candidate against the query, and explains on request.

Scoring methods are pure functions from a model's answer to a number, so they can be tested
without a model:

* ``query-likelihood`` (default): the mean log-probability of the query's tokens after the
  candidate. A small model cannot reliably *say* "relevant", but it can tell how expected
  the query is given the candidate, which ranks well (measured: bench/README.md).
* ``generate``: for backends without log-probabilities, the model answers Yes/No and the
  score is 1.0 or 0.0; coarser, and said so in ``glossdb stats``.

Judgments are cached in the store by (query, chunk, representation version, judge version);
the batched, cached path must give the same numbers as judging one pair at a time.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable, Sequence

from . import explain
from .backends.base import GenerateRequest, Model, ScoreRequest
from .describe import passage_text
from .errors import BackendError, ConfigError
from .explain import Similarity
from .store import Chunk, JudgeVersion, Judgment, Representation, Store, content_hash

if TYPE_CHECKING:
    from .prefilter import Candidate

# Lift thresholds for verdicts, from 30 SciFact train queries (bench/rerank.py), scoring
# content words: relevant candidates averaged a lift of 1.79, others 0.82; F1 peaked at a
# lift of 1.4 (over every query token it was 1.02, 0.48 and 0.9; the other two thresholds
# are scaled by the same factor).
STRONG_LIFT = 2.3
MATCH_LIFT = 1.4
WEAK_LIFT = 0.6
# Verdicts of a search rest on the fused score that ranks, which separates relevant from
# other candidates far better than the lift (ROC AUC 0.903 vs 0.750 over 4,000 pairs of 400
# SciFact train queries, bench.calibration): "match or better" at the best F1 (precision
# 0.695, recall 0.686), "strong match" at precision 0.8 (recall 0.558), "weak match or better"
# at recall 0.9 (precision 0.261). A candidate whose lift is under WEAK_LIFT (it hardly made
# the query more expected than an empty passage) is "no match" whatever its fused score, so a
# search with nothing relevant does not call its best candidates matches.
STRONG_FUSED = 3.6
MATCH_FUSED = 2.7
WEAK_FUSED = -0.4
QL_PREFIX = "Passage:"  # no trailing space: " word" must stay one token
# Measured on 30 SciFact train queries over glosses (bench/README.md): "Finding:" and
# "Claim:" both beat "A claim or question that this passage addresses:" (0.730 and 0.723 vs
# 0.686 nDCG@10 alone, 0.795 vs 0.783 fused with BM25) and read 7 fewer tokens a pair.
QL_TEMPLATE = QL_PREFIX + " {candidate}\nFinding:"

# The trained judge (``relevance``): a LoRA-adapted model answers " yes" or " no" after the
# pair; its score is log p(" yes"), over the whole vocabulary (a probability of relevance once
# trained: glossdb.train). The query comes first, so a search's candidates share its KV.
RELEVANCE_PREFIX = "Query: {query}\n"
RELEVANCE_TEMPLATE = RELEVANCE_PREFIX + "Passage: {candidate}\nRelevant:"
RELEVANCE_YES, RELEVANCE_NO = " yes", " no"

YESNO_SYSTEM = "You judge search results. Answer only Yes or No."
YESNO_USER = "Query: {query}\nPassage: {candidate}\nDoes the passage answer the query?"

# Function words whose likelihood says little about the candidate (English).
STOPWORDS = frozenset("""
a an the of in on at to for from by with and or but not no nor is are was were be been being
am as that this these those it its into than then there their they them which who whom whose
what when where why how does do did doing has have had having can could may might will would
should shall must such also both either neither more most less least very via per vs versus
between among about after before during under over within without upon through against i we
you he she our your his her if so
""".split())


# A long query ("find more like this" with a pasted passage) is judged on its first
# JUDGE_QUERY_TOKENS tokens, and at most MAX_SCORED_TOKENS of those carry the score: what a
# pair costs the judge (context tokens, and logit rows of the whole vocabulary) is then
# bounded whatever the query's length. Ordinary queries (SciFact claims: 19 tokens, 9
# content words on average, 26 at most; Cranfield's: 10 and 25) are below both, so their
# scores do not change. Each scored position keeps a shortlist of head rows (about 11 MB for
# Gemma), which is what MAX_SCORED_TOKENS bounds (bench.query_memory).
JUDGE_QUERY_TOKENS = 128
MAX_SCORED_TOKENS = 32


def judged_query(query: str, count_tokens: Callable[[str], int],
                 limit: int = JUDGE_QUERY_TOKENS) -> str:
    """The query cut to at most ``limit`` tokens: at a word boundary, or for text without
    spaces (CJK) or a first word over the limit, at a character."""
    if count_tokens(query) <= limit:
        return query
    words = query.split()
    fits = _longest(len(words), lambda n: count_tokens(" ".join(words[:n])) <= limit)
    if fits:
        return " ".join(words[:fits])
    return query[:_longest(len(query), lambda n: count_tokens(query[:n]) <= limit)]


def _longest(n: int, ok: Callable[[int], bool]) -> int:
    """The largest m in 0..n with ok(m), for ok true up to some point and false after it."""
    low, high = 0, n
    while low < high:
        mid = (low + high + 1) // 2
        if ok(mid):
            low = mid
        else:
            high = mid - 1
    return low


def words(pieces: Sequence[str]) -> list[tuple[int, str]]:
    """(index of its first token, the word lower-cased) for each word the tokens spell."""
    starts = [i == 0 or p[:1].isspace() or not p[:1].isalnum() or not pieces[i - 1][-1:].isalnum()
              for i, p in enumerate(pieces)]
    out = []
    for i, start in enumerate(starts):
        if not start or not any(ch.isalnum() for ch in pieces[i]):
            continue
        end = next((k for k in range(i + 1, len(pieces)) if starts[k]), len(pieces))
        out.append((i, "".join(pieces[i:end]).strip().lower()))
    return out


def content_tokens(pieces: Sequence[str]) -> list[bool]:
    """The query tokens that carry a query-likelihood score: the first token of each word
    that is not a stopword. A word's later tokens follow almost surely from its first, and
    stopwords and punctuation say little about the candidate, so their logits are not
    computed. Measured on 80 SciFact train queries (bench/README.md): half the scored
    positions, the same nDCG@10. A query of stopwords only keeps all its tokens."""
    flags = [False] * len(pieces)
    for i, word in words(pieces):
        flags[i] = word not in STOPWORDS
    if not any(flags):
        flags = [True] * len(pieces)
    return _first(flags, MAX_SCORED_TOKENS)


def _first(flags: list[bool], n: int) -> list[bool]:
    """Only the first ``n`` set flags stay set."""
    out, kept = [], 0
    for flag in flags:
        out.append(flag and kept < n)
        kept += flag
    return out


def ql_request(candidate: str, query: str, template: str = QL_TEMPLATE,
               tokens: str = "content") -> ScoreRequest:
    """Query likelihood: the context is the template around the candidate; the query follows.
    The template's text before ``{candidate}`` is the prefix every request shares. ``tokens``
    is ``content`` (score the query's content words, :func:`content_tokens`) or ``all``."""
    prefix = template.split("{candidate}", 1)[0].rstrip(" ")
    select = content_tokens if tokens == "content" else None
    return ScoreRequest(template.format(candidate=candidate), " " + query.strip(), prefix, select)


def relevance_request(candidate: str, query: str) -> ScoreRequest:
    """The trained judge's pair: log p(" yes") after the template, computed exactly."""
    query = " ".join(query.split())
    return ScoreRequest(RELEVANCE_TEMPLATE.format(query=query, candidate=candidate),
                        RELEVANCE_YES, RELEVANCE_PREFIX.format(query=query), exact=True)


def relevance_score(token_logprobs: list[float]) -> float:
    """The log-odds of relevance from log p(" yes"): log p - log(1 - p)."""
    if len(token_logprobs) != 1:
        raise BackendError("the trained judge expects one log-probability a pair")
    lp = min(token_logprobs[0], -1e-9)
    return lp - math.log(-math.expm1(lp))


def relevance_probability(score: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, score))))


# Verdicts of the trained judge: a calibrated probability that the pair is relevant, from
# the judge's log-odds and the pair's own prefilter evidence (cosine, and the RRF prior over
# the query's full lists: neither depends on how many candidates are judged), by logistic
# regression on held-out labeled queries. `glossdb train` fits it for each version it trains
# (a sidecar ``.calibration.json`` beside the adapter); these are the fit for the SciFact
# adapter on 162 held-out SciFact train queries (python -m bench.judge_train calibrate: ECE
# 0.020 on SciFact test). A pair judged outside a search (SQL, a chunk that is no candidate)
# has only the judge's log-odds: the "alone" fit. Same pair, same verdict, whatever the
# other candidates. Thresholds on the held-out queries: "match or better" at the best F1
# (precision 0.69, recall 0.71), "strong match" at precision 0.85, "weak match" at recall 0.85.
CALIBRATION = {"judge": 0.8926, "cosine": -0.8377, "prior": 54.0309, "bias": -7.9777,
               "alone_judge": 1.0577, "alone_bias": -1.1501}
RELEVANCE_STRONG, RELEVANCE_MATCH, RELEVANCE_WEAK = 0.6, 0.35, 0.15


def relevance_calibrated(score: float, cosine: float | None = None,
                         prior: float | None = None,
                         weights: dict[str, float] | None = None) -> float:
    """The calibrated probability of relevance of one judged pair."""
    w = weights or CALIBRATION
    if prior is None:
        return relevance_probability(w["alone_judge"] * score + w["alone_bias"])
    return relevance_probability(w["judge"] * score + w["cosine"] * (cosine or 0.0)
                                 + w["prior"] * prior + w["bias"])


def relevance_verdict(probability: float) -> str:
    """Words for the trained judge's calibrated probability of relevance."""
    return ("strong match" if probability >= RELEVANCE_STRONG else
            "match" if probability >= RELEVANCE_MATCH else
            "weak match" if probability >= RELEVANCE_WEAK else "no match")


def ql_score(token_logprobs: list[float]) -> float:
    """Mean log-probability per query token (higher is better; 0 is certainty)."""
    if not token_logprobs:
        raise BackendError("the backend returned no log-probabilities for the query")
    return sum(token_logprobs) / len(token_logprobs)


def yesno_score(answer: str) -> float:
    return 1.0 if answer.strip().lower().startswith("yes") else 0.0


def verdict(lift: float, method: str, fused: float | None = None) -> str:
    """Words for a judgment. For query likelihood ``lift`` is the score minus the query's
    likelihood after an empty passage: how much the candidate made the query more expected
    (nats per token). ``fused`` is the score that ranked it in a search; without one (a
    chunk judged alone, as in SQL) the lift decides."""
    if method == "generate":
        return "match" if lift >= 0.5 else "no match"
    if fused is not None:
        if lift < WEAK_LIFT or fused < WEAK_FUSED:
            return "no match"
        return ("strong match" if fused >= STRONG_FUSED else
                "match" if fused >= MATCH_FUSED else "weak match")
    if lift >= STRONG_LIFT:
        return "strong match"
    if lift >= MATCH_LIFT:
        return "match"
    return "weak match" if lift >= WEAK_LIFT else "no match"


METHODS = ("query-likelihood", "relevance", "generate")


@dataclass(frozen=True)
class JudgeSpec:
    method: str = "query-likelihood"
    reads: str = "gloss"  # gloss | text
    max_candidate_chars: int = 1500
    lead_chars: int = 240  # an unglossed chunk is judged on its text's lead, about a gloss long
    ql_template: str = QL_TEMPLATE
    ql_tokens: str = "content"  # content | all: which query tokens the score reads

    def template(self) -> str:
        if self.method == "relevance":
            return RELEVANCE_TEMPLATE
        return self.ql_template if self.method == "query-likelihood" else YESNO_SYSTEM + YESNO_USER

    def version_name(self, model: Model, adapter: str | None = None) -> str:
        """The version's name; ``adapter`` names another form of the model's adapter (the
        one applied at run time, say, while its merged twin is loaded)."""
        adapter = model.adapter if adapter is None else adapter
        parts = [model.model_id, self.method, self.reads, self.template(),
                 self.max_candidate_chars]
        if self.reads == "gloss":
            parts.append(f"lead-{self.lead_chars}")
        if self.method == "query-likelihood" and self.ql_tokens != "all":
            parts.append(self.ql_tokens)
        if self.method == "query-likelihood" and model.scoring_variant():
            parts.append(model.scoring_variant())
        if adapter:
            parts.append(f"adapter-{adapter}")
        payload = json.dumps(parts)
        return f"judge-{hashlib.sha256(payload.encode()).hexdigest()[:10]}"

    def candidate_text(self, chunk: Chunk, gloss: str | None) -> str:
        """What the judge reads: the gloss under its heading; a chunk still waiting for its
        gloss is read as the lead of its text, cut to about a gloss's length, so glossed and
        unglossed candidates compete on inputs of the same size. No model needed (training
        pairs are built from it)."""
        if self.reads == "gloss":
            if gloss:
                head = chunk.heading or chunk.title
                return f"{head}. {gloss}" if head else gloss
            return passage_text(chunk, self.lead_chars)
        return passage_text(chunk, self.max_candidate_chars)


class Judge:
    def __init__(self, store: Store, model: Model, spec: JudgeSpec | None = None,
                 explainer: Model | Callable[[], Model] | None = None):
        """``explainer`` writes explanations: a model, or a function that loads it the
        first time one is asked for (a search without ``explain`` never loads it)."""
        self.store = store
        self.model = model
        self._explainer = explainer or model
        spec = spec or JudgeSpec()
        if spec.method == "query-likelihood" and not model.probe_logprobs():
            spec = replace(spec, method="generate")
        if spec.method == "relevance" and not model.probe_logprobs():
            raise BackendError("the trained judge (judge_method = 'relevance') needs a backend "
                               "that returns log-probabilities, such as llamacpp")
        if spec.method not in METHODS:
            raise BackendError(f"unknown judge method {spec.method!r}: use one of "
                               f"{', '.join(METHODS)}")
        if spec.ql_tokens not in ("content", "all"):
            raise ConfigError(f"unknown judge_tokens {spec.ql_tokens!r}: use content or all")
        self.spec = spec
        self._version: JudgeVersion | None = None
        self._baselines: dict[str, float] = {}  # per query, read once (every verdict asks)

    def explainer(self) -> Model:
        if not isinstance(self._explainer, Model):
            self._explainer = self._explainer()
        return self._explainer

    def baseline(self, query: str) -> float:
        """The query's score after an empty passage: what a candidate must beat to help."""
        if self.spec.method != "query-likelihood":  # relevance: log-odds stand on their own
            return 0.0
        if query in self._baselines:
            return self._baselines[query]
        judge_id = self.version().id
        stored = self.store.baseline(query, judge_id)
        if stored is None:
            stored = self.score_uncached(query, [""])[0]
            self.store.put_baseline(query, judge_id, stored)
        self._baselines[query] = stored
        return stored

    def lift(self, query: str, score: float) -> float:
        return score - self.baseline(query)

    def verdict(self, query: str, score: float, fused: float | None = None,
                candidate: "Candidate | None" = None) -> str:
        """Words for a judgment; ``candidate``: the pair's prefilter evidence in a search."""
        if self.spec.method == "relevance":
            w = self.model.calibration or None
            p = (relevance_calibrated(score, candidate.vector_score, candidate.prefilter_score, w)
                 if candidate is not None else relevance_calibrated(score, weights=w))
            return relevance_verdict(p)
        return verdict(self.lift(query, score), self.spec.method, fused)

    def version(self) -> JudgeVersion:
        """This judge's version row, created on first use and remembered."""
        if self._version is None:
            self._version = self.store.ensure_judge(
                self.spec.version_name(self.model), self.model.model_id, self.spec.method,
                self.spec.template(),
            )
        return self._version

    def candidate_text(self, chunk: Chunk, gloss: str | None) -> str:
        return self.spec.candidate_text(chunk, gloss)

    def score_uncached(self, query: str, texts: list[str],
                       progress: Callable[[int], None] | None = None) -> list[float]:
        query = judged_query(query, self.model.count_tokens)
        if self.spec.method == "relevance":
            answers = self.model.logprobs([relevance_request(t, query) for t in texts], progress)
            return [relevance_score(a) for a in answers]
        if self.spec.method == "query-likelihood":
            answers = self.model.logprobs(
                [ql_request(t, query, self.spec.ql_template, self.spec.ql_tokens) for t in texts],
                progress)
            return [ql_score(a) for a in answers]
        answers = self.model.generate(
            [GenerateRequest(YESNO_USER.format(query=query, candidate=t), 3, ("\n",),
                             system=YESNO_SYSTEM) for t in texts],
            progress,
        )
        return [yesno_score(a) for a in answers]

    def judge(self, query: str, chunks: list[Chunk], rep: Representation,
              progress: Callable[[int], None] | None = None) -> dict[int, Judgment]:
        """Score every chunk, reusing stored judgments; store the new ones. A chunk still
        waiting for its gloss is judged on its text's lead and stored under the hash of that
        lead: the judgment stands until the gloss comes (then the gloss is judged)."""
        version = self.version()
        done = self.store.judgments(query, [c.id for c in chunks], rep.id, version.id)
        unsure = [c for c in chunks if c.id not in done or done[c.id].on_lead]
        glosses = self.store.glosses(rep.id, [c.id for c in unsure]) if unsure else {}
        texts = {c.id: self.candidate_text(c, glosses.get(c.id)) for c in unsure}
        for c in unsure:  # a lead judgment whose chunk has a gloss now, or reads otherwise
            if c.id in done and done[c.id].read_hash != self.read_hash(c.id, texts, glosses):
                del done[c.id]
        todo = [c for c in chunks if c.id not in done]
        if todo:
            scores = self.score_uncached(query, [texts[c.id] for c in todo], progress)
            fresh = [Judgment(c.id, s, read_hash=self.read_hash(c.id, texts, glosses))
                     for c, s in zip(todo, scores)]
            self.store.put_judgments(query, rep.id, version.id, fresh,
                                     {c.id: c.content_hash for c in todo})
            done.update({j.chunk_id: j for j in fresh})
        return done

    def read_hash(self, chunk_id: int, texts: dict[int, str],
                  glosses: dict[int, str]) -> str | None:
        """The key of what the judge read when that was not the gloss (None when it was)."""
        if self.spec.reads != "gloss" or chunk_id in glosses:
            return None
        return content_hash(texts[chunk_id])[:16]

    def explain(self, query: str, items: list[tuple[Chunk, str | None, float, str]],
                rep: Representation, similar: Similarity | None = None) -> list[str]:
        """Citing explanations (:mod:`glossdb.explain`) of (chunk, gloss, score, verdict),
        generated in one batch and stored with the judgment."""
        reasons = explain.explain(self.explainer(), query, [
            (passage_text(chunk, None, with_heading=False), v,  # the whole chunk
             ". ".join(dict.fromkeys(h for h in (chunk.title, chunk.heading) if h)))
            for chunk, _, _, v in items], similar)
        texts = {chunk.id: self.candidate_text(chunk, gloss) for chunk, gloss, *_ in items}
        glosses = {chunk.id: gloss for chunk, gloss, *_ in items if gloss}
        self.store.put_judgments(query, rep.id, self.version().id, [  # keyed as judge() keys
            Judgment(chunk.id, score, reason, read_hash=self.read_hash(chunk.id, texts, glosses))
            for (chunk, _, score, _), reason in zip(items, reasons)
        ], {chunk.id: chunk.content_hash for chunk, *_ in items})
        return reasons


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if not text or text[-1] in ".!?" else text + "."
