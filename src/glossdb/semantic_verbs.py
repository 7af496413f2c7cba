"""``Index.filter``: the chunks that satisfy a condition, at a recall target, by a cascade
(:mod:`glossdb.semantic`): the prefilter's score decides the clear rejections, the judge
the rest; what each stage cost is reported beside the result. ``Index.top_k``: the best k
of any set of chunks. A mixin of Index."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from . import semantic
from .explain import agrees
from .errors import InvalidQuery
from .prefilter import Candidate
from .results import Hit, validate_query

if TYPE_CHECKING:
    from .index import Index
    from .store import Judgment

POSITIVE = ("match", "strong match")


@dataclass
class FilterResult:
    condition: str
    kept: list[int]  # the judge's positives and rows kept unjudged, best proxy first
    rows: int
    judged: int  # pairs the expensive stage (the judge) read, the sample included
    sampled: int
    threshold: float  # rows with a proxy score below it were rejected unjudged
    recall_target: float
    delta: float
    recall_estimate: float
    recall_bound: float
    notes: list[str] = field(default_factory=list)
    verdicts: dict[int, str] = field(default_factory=dict)  # every row the judge read
    proxies: dict[int, float] = field(default_factory=dict)  # every row's prefilter score
    explanations: dict[int, str] = field(default_factory=dict)  # kept rows, with explain=True
    precision_target: float | None = None
    accept_threshold: float | None = None  # rows at or above it were kept unjudged

    @property
    def expensive_share(self) -> float:
        return self.judged / self.rows if self.rows else 0.0

    @property
    def kept_unjudged(self) -> list[int]:
        """Rows kept without the judge (at or above the precision target's threshold)."""
        return [cid for cid in self.kept if cid not in self.verdicts]

    def decision(self, chunk_id: int) -> str:
        """How the cascade decided one row, in words."""
        if chunk_id in self.verdicts:
            verdict = self.verdicts[chunk_id]
            return f"{'kept' if verdict in POSITIVE else 'left out'}: the judge said {verdict}"
        if chunk_id in self.proxies and self.accept_threshold is not None \
                and self.proxies[chunk_id] >= self.accept_threshold:
            return (f"kept unjudged: its prefilter score {self.proxies[chunk_id]:.4f} is at or "
                    f"above the threshold {self.accept_threshold:.4f} where the sample put the "
                    f"judge's positives at {self.precision_target} or more of the rows")
        if chunk_id in self.proxies:
            return (f"left out unjudged: its prefilter score {self.proxies[chunk_id]:.4f} is "
                    f"below the threshold {self.threshold:.4f} the sample chose")
        return "not a row of this filter"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["decisions"] = {cid: self.decision(cid) for cid in self.proxies}
        del out["proxies"]
        return {**out, "expensive_share": round(self.expensive_share, 4),
                "kept_unjudged": self.kept_unjudged}


@dataclass
class JoinResult:
    condition: str
    pairs: list[tuple[int, int]]  # (left chunk, right chunk) the judge says satisfy it
    left: int
    right: int
    judged: int  # pairs the judge read, over every left row's filter
    per_left: list[dict[str, Any]] = field(default_factory=list)

    @property
    def expensive_share(self) -> float:
        total = self.left * self.right
        return self.judged / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "expensive_share": round(self.expensive_share, 4)}


class SemanticVerbs:
    """Semantic operators of :class:`Index`."""

    def filter(self: "Index", condition: str, chunk_ids: Iterable[int] | None = None,
               candidates: int = 100, recall_target: float = 0.9, delta: float = 0.1,
               sample: int = 20, seed: int = 0, explain: bool = False,
               precision_target: float | None = None) -> FilterResult:
        """The chunks (``chunk_ids``, else the prefilter's best ``candidates`` for the
        condition) whose judge verdict is "match" or better, with recall of at least
        ``recall_target`` relative to judging every row, with probability about
        ``1 - delta``; ``sample`` rows are judged to choose the threshold. With
        ``precision_target``, rows whose prefilter score is where the sample puts the
        judge's positives at that share or more are kept without the judge (fewer rows
        judged; a kept row may then be one the judge would refuse). Every row's decision
        is in the result (:meth:`FilterResult.decision`); with ``explain``, each kept row's
        citing explanation too (judged then, for a row kept unjudged)."""
        condition = validate_query(condition)
        if not 0 < recall_target <= 1 or not 0 < delta < 1 or sample < 1 or not (
                precision_target is None or 0 < precision_target <= 1):
            raise InvalidQuery("filter needs 0 < recall_target <= 1, 0 < precision_target <= 1,"
                               " 0 < delta < 1, sample >= 1")
        ids, proxy = self._proxy(condition, chunk_ids, candidates)
        if not ids:
            return FilterResult(condition, [], 0, 0, 0, 0.0, recall_target, delta, 1.0, 1.0,
                                precision_target=precision_target)
        picks, probs = semantic.draw(proxy, min(sample, 4 * len(ids)), seed)
        judged = self._judged(condition, [ids[i] for i in sorted(set(picks))])
        positive = {i: ids[i] in judged and judged[ids[i]][0] in POSITIVE
                    for i in range(len(ids))}
        p = semantic.plan(proxy, picks, probs, positive, recall_target, delta)
        accept = (semantic.accept_threshold(proxy, picks, probs, positive, precision_target,
                                            delta) if precision_target else None)
        judged.update(self._judged(condition, [
            ids[i] for i in range(len(ids)) if p.threshold <= proxy[i] and ids[i] not in judged
            and (accept is None or proxy[i] < accept)]))
        verdicts = {cid: verdict for cid, (verdict, _) in judged.items()}
        kept = [cid for cid, x in zip(ids, proxy) if verdicts.get(cid) in POSITIVE or (
            cid not in verdicts and accept is not None and x >= accept)]
        result = FilterResult(condition, kept, len(ids), len(verdicts), len(set(picks)),
                              p.threshold, recall_target, delta, round(p.recall_estimate, 4),
                              round(p.recall_bound, 4), p.notes, verdicts, dict(zip(ids, proxy)),
                              precision_target=precision_target, accept_threshold=accept)
        if explain:  # the judgments that decided (rows kept unjudged are judged now)
            judged.update(self._judged(condition, [c for c in kept if c not in judged]))
            result.explanations = self.explain_judgments(condition, {c: judged[c] for c in kept})
        return result

    def explain_pair(self: "Index", condition: str, chunk_id: int) -> tuple[str, str]:
        """(verdict, citing explanation) of one chunk for a condition, as the semantic
        operators judge it: the judge alone, without a search's fusion (stored judgments and
        explanations reused)."""
        condition = validate_query(condition)
        self.store.get_chunk(int(chunk_id))  # UnknownChunk, with its fix
        judged = self._judged(condition, [int(chunk_id)])
        return judged[int(chunk_id)][0], self.explain_judgments(condition, judged)[int(chunk_id)]

    def explain_judgments(self: "Index", condition: str, judged: dict[int, tuple[str, "Judgment"]]
                 ) -> dict[int, str]:
        """Citing explanations of (verdict, judgment) per chunk, the missing ones generated
        in one batch (the writer model) and stored with the judgments."""
        judge, rep = self.judge(), self.representation()
        chunks = self.store.get_chunks(list(judged))
        glosses = self.store.glosses(rep.id, list(judged))
        out, asked = {}, []
        for cid, (verdict, j) in judged.items():
            if agrees(j.explanation, verdict):
                out[cid] = j.explanation
            else:
                asked.append((chunks[cid], glosses.get(cid), j.score, verdict))
        made = judge.explain(condition, asked, rep, self._similarity()) if asked else []
        out.update({chunk.id: text for (chunk, *_), text in zip(asked, made)})
        return out

    def join(self: "Index", left_ids: Iterable[int], right_ids: Iterable[int],
             condition: str = "{left}", recall_target: float = 0.9, delta: float = 0.1,
             sample: int = 20, precision_target: float | None = None) -> JoinResult:
        """Pairs (left, right) that satisfy ``condition``, a query written with ``{left}``
        (the left chunk's gloss, or the lead of its text while it has none): for each left
        chunk, :meth:`filter` over the right chunks at ``recall_target`` (and
        ``precision_target``)."""
        if "{left}" not in condition:
            raise InvalidQuery("a join condition names the left row as {left}, e.g. "
                               "\"{left}\" or \"evidence that {left}\"")
        lefts = list(dict.fromkeys(int(c) for c in left_ids))
        rights = list(dict.fromkeys(int(c) for c in right_ids))
        chunks = self.store.get_chunks(lefts)
        glosses = self.store.glosses(self.representation().id, lefts)
        spec = self.judge_spec()
        pairs, judged, per_left = [], 0, []
        for cid in lefts:
            if cid not in chunks:
                self.store.get_chunk(cid)  # UnknownChunk, with its fix
            text = spec.candidate_text(chunks[cid], glosses.get(cid))
            result = self.filter(condition.replace("{left}", text)[:2000], rights,
                                 recall_target=recall_target, delta=delta, sample=sample,
                                 precision_target=precision_target)
            pairs += [(cid, r) for r in result.kept]
            judged += result.judged
            per_left.append({"left": cid, "kept": len(result.kept), "judged": result.judged})
        return JoinResult(condition, pairs, len(lefts), len(rights), judged, per_left)

    def top_k(self: "Index", query: str, chunk_ids: Iterable[int], k: int = 10) -> list[Hit]:
        """The ``k`` best of any set of chunks for ``query``: the search pipeline with
        those chunks as its candidates (judged in one batch, fused with the prefilter's
        evidence where the prefilter ranks them), whatever the prefilter would propose."""
        query = validate_query(query)
        if k < 1:
            raise InvalidQuery("k must be at least 1")
        ids = list(dict.fromkeys(int(c) for c in chunk_ids))
        known = self.store.get_chunks(ids)
        missing = [c for c in ids if c not in known]
        if missing:
            self.store.get_chunk(missing[0])  # UnknownChunk, with its fix
        ranked_by, floor = self._ranked(query, max(len(ids), 100))
        cands = [ranked_by.get(cid) or Candidate(cid, floor, len(ranked_by) + n + 1)
                 for n, cid in enumerate(ids)]
        pipeline = self.pipeline()
        ranked = pipeline.rank(query, len(cands), candidates=cands)
        return self._hits(ranked, pipeline, ranked.order[:k], False)

    def chunk_ids_of(self: "Index", statement: str) -> list[int]:
        """The chunk ids a SELECT over the index's tables returns in its first column (the
        sets ``top_k`` and ``join`` take from SQL)."""
        _, rows = self.store.run_sql(str(statement), (), {}, self.representation().id)
        bad = next((r[0] for r in rows if not isinstance(r[0], int)), None)
        if bad is not None:
            raise InvalidQuery(f"the SELECT must return chunk ids (integers) in its first "
                               f"column, e.g. SELECT id FROM chunks WHERE …; it returned {bad!r}")
        return [r[0] for r in rows]

    def _proxy(self: "Index", condition: str, chunk_ids, candidates: int
               ) -> tuple[list[int], list[float]]:
        """Rows and their cheap score: the prefilter's fused prior for its own candidates;
        for given chunks, the prior where the prefilter ranks them, else below all."""
        if chunk_ids is None:
            found = self.prefilter.candidates(condition, candidates)
            return [c.chunk_id for c in found], [c.prefilter_score for c in found]
        ids = list(dict.fromkeys(int(c) for c in chunk_ids))
        ranked, floor = self._ranked(condition, max(len(ids), candidates))
        return ids, [ranked[c].prefilter_score if c in ranked else floor for c in ids]

    def _ranked(self: "Index", query: str, limit: int) -> tuple[dict[int, Candidate], float]:
        """The prefilter's candidates by chunk id, and a prior below all of them (for a
        chunk it does not rank)."""
        ranked = {c.chunk_id: c for c in self.prefilter.candidates(query, limit)}
        return ranked, min((c.prefilter_score for c in ranked.values()), default=0.0) - 1.0

    def _judged(self: "Index", condition: str, chunk_ids: list[int]
                ) -> dict[int, tuple[str, "Judgment"]]:
        """The judge's (verdict, judgment) of each chunk (one batch; stored judgments
        reused)."""
        if not chunk_ids:
            return {}
        judge, rep = self.judge(), self.representation()
        chunks = self.store.get_chunks(chunk_ids)
        judged = judge.judge(condition, [chunks[c] for c in chunk_ids if c in chunks], rep)
        return {cid: (judge.verdict(condition, j.score), j) for cid, j in judged.items()}

    def _verdicts(self: "Index", condition: str, chunk_ids: list[int]) -> dict[int, str]:
        """The judge's verdict on each chunk (one batch; stored judgments reused)."""
        return {cid: v for cid, (v, _) in self._judged(condition, chunk_ids).items()}
