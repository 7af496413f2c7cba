"""The index's search verbs: ``search``, ``why`` and ``tune`` (a mixin of Index; ``sql``:
:mod:`glossdb.sql_verbs`).

A search asks the prefilter for candidates (lexical, fused with internal vectors when the
index has them), judges them in one batch, and ranks by the judge fused with the prefilter's
prior. How many candidates it reads adapts from usage (:mod:`glossdb.cutoff`).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, Mapping

from . import cutoff
from . import explain as explain_mod
from . import where as where_mod
from .errors import InvalidQuery
from .judge import Judge
from .prefilter import cutoff_recall, needed_cutoff
from .results import Hit, TuneReport, Why, validate_query
from .store import Chunk, Representation, querylog

if TYPE_CHECKING:
    from .index import Index, ProgressFactory

MATCH_VERDICTS = ("strong match", "match")
VERDICT_ORDER = ("no match", "weak match", "match", "strong match")  # for min_verdict


class SearchVerbs:
    """Search, explain, SQL matching and the cut-off that adapts to usage."""

    def cutoff(self: "Index") -> cutoff.Cutoff:
        """How many candidates a search judges, and the evidence behind the number."""
        if "candidates" in self.config.sources:
            return cutoff.Cutoff(self.config.candidates, "pinned")
        saved = self.store.get_setting("cutoff")
        if saved:
            return cutoff.Cutoff(**json.loads(saved))
        return cutoff.Cutoff(self.config.candidates, "default")

    def _adapt_cutoff(self: "Index", current: cutoff.Cutoff) -> None:
        samples = querylog.explored_match_ranks(self.store, cutoff.WINDOW)
        explored = max((d for d, _ in samples), default=2 * current.depth)
        new = cutoff.estimate([r for _, r in samples], explored, current.depth)
        self.store.set_setting("cutoff", json.dumps(new.to_dict()))

    def search(self: "Index", query: str, k: int = 10, explain: bool = False,
               candidates: int | None = None, progress: "ProgressFactory | None" = None,
               min_verdict: str | None = None,
               where: "str | Mapping[str, Any] | None" = None) -> list[Hit]:
        """The k best chunks for ``query``, best first. ``min_verdict`` ("weak match",
        "match", "strong match") drops hits judged below it, so fewer than k may return.
        ``where`` keeps the chunks of documents whose metadata matches it (Chroma's shape,
        ``{"year": {"$gte": 2015}}``, or text, ``"year >= 2015"``: :mod:`glossdb.where`),
        applied inside the prefilter."""
        query = validate_query(query)
        where = where_mod.parse(where)
        if k < 1:
            raise InvalidQuery("k must be at least 1")
        floor = _verdict_floor(min_verdict)
        if candidates is not None and candidates < 1:
            raise InvalidQuery("candidates must be at least 1")
        started = time.perf_counter()
        usage_before = self.model("judge").token_usage()
        current = self.cutoff()
        number = querylog.searches_logged(self.store) + 1
        explore = candidates is None and current.source != "pinned" and cutoff.explores(number)
        depth = candidates or (2 * current.depth if explore else current.depth)
        pipeline = self.pipeline()
        ranked = pipeline.rank(query, depth, progress=progress, where=where)
        shown = [cid for cid in ranked.order
                 if VERDICT_ORDER.index(ranked.verdicts[cid]) >= floor]
        hits = self._hits(ranked, pipeline, shown[:k], explain)
        if explain:
            self._explain(pipeline.judge, query, hits, ranked.chunks, pipeline.representation,
                          progress)
        matches = sorted(ranked.candidate(cid).prefilter_rank
                         for cid in ranked.order[:cutoff.TOP_MATCHES]
                         if ranked.verdicts[cid] in MATCH_VERDICTS)
        cached = sum(1 for j in ranked.judged.values() if j.cached)
        usage = self.model("judge").token_usage()
        querylog.log_query(self.store, query, k, len(ranked.candidates), len(ranked.judged) - cached,
                             cached, time.perf_counter() - started, [h.chunk_id for h in hits],
                             (usage[0] - usage_before[0], usage[1] - usage_before[1]),
                             match_ranks=matches, explore=explore)
        if current.source != "pinned" and cutoff.due(number):
            self._adapt_cutoff(current)
        self.last_trace = ranked.trace
        return hits

    def _hits(self: "Index", ranked, pipeline, best: list[int], explain: bool) -> list[Hit]:
        """The ranked chunk ids as hits: the score that ranked each and its signals, gloss,
        verdict, where each came from; a stored explanation only when one is asked for."""
        judge, query, judged = pipeline.judge, ranked.query, ranked.judged
        # the gloss the judge read: one written since (by another process) was not judged
        glosses = self.store.glosses(pipeline.representation.id,
                                     [c for c in best if not judged[c].on_lead])
        hits = []
        for place, cid in enumerate(best, start=1):
            c, chunk, verdict = ranked.candidate(cid), ranked.chunks[cid], ranked.verdicts[cid]
            hits.append(Hit(
                place, cid, round(ranked.fused[cid], 4), verdict, chunk.uri, chunk.title,
                chunk.heading, chunk.text, glosses.get(cid),
                _reusable(judged[cid], verdict) if explain else None, c.prefilter_rank,
                judged[cid].cached, c.lexical_rank, c.vector_rank, judged[cid].score,
                round(judge.lift(query, judged[cid].score), 4), ranked.parts[cid],
                chunk.metadata))
        return hits

    def _explain(self: "Index", judge: Judge, query: str, hits: list[Hit],
                 chunks: dict[int, Chunk], rep: Representation,
                 progress: "ProgressFactory | None" = None) -> None:
        """Write the missing explanations of these hits (a stage after judging)."""
        todo = [h for h in hits if not h.explanation]
        if not todo:
            return
        tick = progress("explaining", len(todo)) if progress else None
        reasons = judge.explain(query, [(chunks[h.chunk_id], h.gloss, h.judge_score, h.verdict)
                                        for h in todo], rep, self._similarity())
        for hit, reason in zip(todo, reasons):
            hit.explanation = reason
        if tick:
            tick(len(todo))

    def _similarity(self: "Index"):
        """Query-to-sentence similarity from the internal embedder (None without one): it
        picks which sentence an explanation quotes; no vector is ever shown."""
        embedder = self.embedder()
        if embedder is None:
            return None

        def similar(query: str, texts):
            vecs = embedder.embed([query, *texts])
            return (vecs[1:] @ vecs[0]).tolist()
        return similar

    def why(self, query: str, chunk_id: int, progress: "ProgressFactory | None" = None) -> Why:
        """Explain why one chunk does or does not match a query, and where search ranks it:
        the same pipeline as ``search``, with the chunk judged even when not a candidate."""
        query = validate_query(query)
        chunk = self.store.get_chunk(chunk_id)
        pipeline = self.pipeline()
        ranked = pipeline.rank(query, self.cutoff().depth, also=[chunk], progress=progress)
        judge, rep, mine = pipeline.judge, pipeline.representation, ranked.judged[chunk.id]
        fused = ranked.fused.get(chunk.id)
        verdict = judge.verdict(query, mine.score, fused, ranked.candidate(chunk.id))
        gloss = self.store.glosses(rep.id, [chunk.id]).get(chunk.id)
        explanation = _reusable(mine, verdict)
        if explanation is None:
            tick = progress("explaining", 1) if progress else None
            explanation = judge.explain(query, [(chunk, gloss, mine.score, verdict)], rep,
                                        self._similarity())[0]
            if tick:
                tick(1)
        score = round(fused, 4) if fused is not None else mine.score
        pre = ranked.candidate(chunk.id)
        return Why(query, chunk.id, score, verdict, ranked.place(chunk.id),
                   len(ranked.candidates), pre.prefilter_rank if pre else None, gloss,
                   explanation, mine.score, round(judge.lift(query, mine.score), 4),
                   ranked.parts.get(chunk.id, {}))

    def tune(self, queries: list[str] | None = None, recent: int = 20, deep: int = 50,
             k: int = 10, target: float = 0.95,
             progress: "ProgressFactory | None" = None) -> TuneReport:
        """Tune the prefilter cut-off from usage: judge logged (or given) queries over a deep
        candidate list, and find the fewest candidates that keep ``target`` of its top k."""
        if not 0.0 < target <= 1.0 or deep < 1 or k < 1:
            raise InvalidQuery("tune needs 0 < target <= 1, deep >= 1 and k >= 1")
        queries = self._queries_or_recent(queries, recent)
        if not queries:
            raise InvalidQuery("no logged queries to tune on: run some searches first, "
                               "or pass queries explicitly")
        pipeline = self.pipeline()
        tick = progress("judging", len(queries)) if progress else None
        top_ranks = []
        for query in queries:
            ranked = pipeline.rank(query, deep)
            top_ranks.append([ranked.candidate(cid).prefilter_rank
                              for cid in ranked.order[:k]])
            if tick:
                tick(1)
        curve = [(n, round(cutoff_recall(top_ranks, n), 4))
                 for n in sorted({1, 3, 5, 10, 15, 20, 30, 40, 50, deep}) if n <= deep]
        return TuneReport(len(queries), deep, k, target, self.cutoff().depth,
                          needed_cutoff(top_ranks, target, deep), curve)


def _reusable(judged, verdict: str) -> str | None:
    """A stored explanation, when it was built for the verdict this judgment has now."""
    text = judged.explanation
    return text if explain_mod.agrees(text, verdict) else None


def _verdict_floor(min_verdict: str | None) -> int:
    if min_verdict is None:
        return 0
    if min_verdict not in VERDICT_ORDER:
        choices = ", ".join(VERDICT_ORDER[1:])
        raise InvalidQuery(f"unknown min_verdict {min_verdict!r}: use one of {choices}")
    return VERDICT_ORDER.index(min_verdict)
