"""One retrieval pipeline that every verb runs: candidates -> judge -> fuse -> verdict.

    candidates  the prefilter's best ``depth`` chunks (FTS5 BM25, fused with the internal
                vectors when the index has them)                       glossdb.prefilter
    judge       the LLM scores each candidate against the query, stored judgments reused
                                                                           glossdb.judge
    fuse        a weighted sum of signals' z-scores over the candidates  glossdb.signals
    verdict     words for each fused score (with a floor on the judge's lift)
    explain     (on request, for the hits shown) a cited reason          glossdb.explain

``search``, ``why``, ``tune``, ``diff --check``, ``ask``, the integrations and the bench
run :meth:`Pipeline.rank`; each stage's trace (what it did, how long) is on the result, and
``search --explain``/the page show each hit's signals. A new signal is a
:class:`~glossdb.signals.Signal` and a registration; a judge stage is a
:class:`~glossdb.judge.Judge`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from .signals import Signal, fuse

if TYPE_CHECKING:
    from .judge import Judge
    from .prefilter import Candidate, Prefilter
    from .store import Chunk, Judgment, Representation, Store
    from .where import Where


@dataclass
class StageTrace:
    stage: str
    seconds: float
    detail: dict = field(default_factory=dict)


@dataclass
class Ranked:
    """One query through the pipeline: the candidates in prefilter order, their chunks and
    judgments, the fused score and signal parts of each, the ranking and the verdicts."""

    query: str
    candidates: list["Candidate"]
    chunks: dict[int, "Chunk"]
    judged: dict[int, "Judgment"]
    fused: dict[int, float]
    parts: dict[int, dict[str, float]]
    order: list[int]
    verdicts: dict[int, str]
    trace: list[StageTrace] = field(default_factory=list)

    def candidate(self, chunk_id: int) -> "Candidate | None":
        return self._by_id.get(chunk_id)

    def __post_init__(self) -> None:
        self._by_id = {c.chunk_id: c for c in self.candidates}

    def place(self, chunk_id: int) -> int | None:
        """1-based rank of a chunk among the candidates (None: not a candidate)."""
        return self.order.index(chunk_id) + 1 if chunk_id in self.fused else None


class Pipeline:
    """The stages composed for one index, representation version and judge."""

    def __init__(self, store: "Store", prefilter: "Prefilter", judge: "Judge",
                 representation: "Representation", signals: Sequence[Signal]):
        self.store, self.prefilter, self.judge = store, prefilter, judge
        self.representation, self.signals = representation, list(signals)

    def rank(self, query: str, depth: int, also: Iterable["Chunk"] = (),
             progress: Callable[[str, int], Callable[[int], None]] | None = None,
             candidates: list["Candidate"] | None = None, where: "Where | None" = None
             ) -> Ranked:
        """Run the stages for ``query`` over the best ``depth`` candidates (or the given
        ``candidates``), among the chunks of documents matching ``where`` (a metadata
        filter) when given. ``also``: chunks judged besides them (``why`` asks about one
        that may not be a candidate); they are not ranked."""
        trace: list[StageTrace] = []
        started = time.perf_counter()
        found = (candidates if candidates is not None
                 else self.prefilter.candidates(query, depth, where))
        chunks = self.store.get_chunks(c.chunk_id for c in found)
        trace.append(StageTrace("candidates", time.perf_counter() - started,
                                {"depth": depth, "found": len(found),
                                 **({"where": where} if where else {})}))
        pool = [chunks[c.chunk_id] for c in found]
        for extra in also:
            if extra.id not in chunks:
                chunks[extra.id] = extra
                pool.append(extra)
        started = time.perf_counter()
        tick = progress("judging", len(pool)) if progress and pool else None
        judged = self.judge.judge(query, pool, self.representation, tick)
        cached = sum(1 for j in judged.values() if j.cached)
        trace.append(StageTrace("judge", time.perf_counter() - started,
                                {"judged": len(judged) - cached, "cached": cached,
                                 "version": self.judge.version().name}))
        return self._fuse_and_verdict(query, found, chunks, judged, trace)

    def _fuse_and_verdict(self, query, found, chunks, judged, trace) -> Ranked:
        started = time.perf_counter()
        scores, parts = fuse(self.signals, found, judged, chunks)
        fused = {c.chunk_id: s for c, s in zip(found, scores)}
        by_part = {c.chunk_id: p for c, p in zip(found, parts)}
        order = [c.chunk_id for _, c in sorted(zip(scores, found),
                                               key=lambda x: (-x[0], x[1].prefilter_rank))]
        applied = set(parts[0]) if parts else set()  # the signals that had values here
        trace.append(StageTrace("fuse", time.perf_counter() - started,
                                {"signals": {s.name: s.weight for s in self.signals
                                             if s.name in applied}}))
        started = time.perf_counter()
        by_id = {c.chunk_id: c for c in found}
        verdicts = {cid: self.judge.verdict(query, judged[cid].score, fused[cid], by_id[cid])
                    for cid in order}
        trace.append(StageTrace("verdict", time.perf_counter() - started))
        return Ranked(query, found, chunks, judged, fused, by_part, order, verdicts, trace)
