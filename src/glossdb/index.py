"""``Index``: the one object a user holds. It wires store, ingest, glosses, prefilter and judge.

    >>> from glossdb import Index
    >>> ix = Index("docs.glossdb")
    >>> ix.add(["notes/"])
    >>> for hit in ix.search("how are glosses versioned?", k=5, explain=True):
    ...     print(hit.score, hit.gloss, hit.explanation)
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from .backends import Model, backend_class
from .config import Config, load_config
from .describe import Describer, GlossSpec
from .errors import (GlossdbError, IngestError, InvalidQuery, UnknownDocument,
                     UnknownRepresentation)
from .ingest import chunk_text, load, walk
from .judge import Judge, JudgeSpec
from .prefilter import Prefilter, cutoff_recall, needed_cutoff
from .ranking import rank
from .store import Chunk, Representation, Store, content_hash
from .versions import GlossDiff, QueryCheck, diff_glosses, regression_check

ProgressFactory = Callable[[str, int], Callable[[int], None]]


@dataclass
class Hit:
    rank: int
    chunk_id: int
    score: float
    verdict: str
    uri: str
    title: str | None
    heading: str | None
    text: str
    gloss: str | None
    explanation: str | None = None
    prefilter_rank: int | None = None
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class AddReport:
    files: int = 0
    documents_new: int = 0
    documents_changed: int = 0
    documents_unchanged: int = 0
    chunks_added: int = 0
    chunks_kept: int = 0
    glosses_written: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Why:
    query: str
    chunk_id: int
    score: float
    verdict: str
    rank: int | None
    candidates: int
    prefilter_rank: int | None
    gloss: str | None
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TuneReport:
    queries: int
    deep: int
    k: int
    target: float
    current: int
    recommended: int
    curve: list[tuple[int, float]]  # (cut-off, recall of the deep top k)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def validate_query(query: str) -> str:
    if not isinstance(query, str) or not query.strip():
        raise InvalidQuery("the query is empty: pass some words to search for")
    return " ".join(query.split())


class Index:
    """A gloss database in one SQLite file."""

    def __init__(self, path: str | Path, *, create: bool = True, config: Config | None = None,
                 models: dict[str, Model] | None = None, tracer=None, **settings: Any):
        self.path = Path(path)
        self.config = config or load_config(self.path, **settings)
        self._create, self._tracer = create, tracer
        self._store: Store | None = None
        if not create or self.path.exists():
            self._store = Store(self.path, create=create, tracer=tracer)
        self._models: dict[str, Model] = dict(models or {})

    @property
    def store(self) -> Store:
        """The SQLite store; a new index file is only created on first use."""
        if self._store is None:
            self._store = Store(self.path, create=self._create, tracer=self._tracer)
        return self._store

    @property
    def prefilter(self) -> Prefilter:
        return Prefilter(self.store)

    # models ------------------------------------------------------------------------------
    def model(self, role: str = "judge") -> Model:
        """The model for ``judge`` or ``writer`` (glosses, explanations), loaded once."""
        spec = self.config.model if role == "judge" else self.config.writer_model()
        key = f"{self.config.backend}:{spec}"
        if role in self._models:
            return self._models[role]
        if key not in self._models:
            cls = backend_class(self.config.backend)
            self._models[key] = cls(model=spec, base_url=self.config.base_url,
                                    api_key_env=self.config.api_key_env,
                                    timeout_s=self.config.timeout_s,
                                    max_retries=self.config.max_retries,
                                    concurrency=self.config.concurrency,
                                    n_ctx=self.config.n_ctx,
                                    kv_cache_mb=self.config.kv_cache_mb,
                                    shortlist=self.config.judge_shortlist)
        return self._models[key]

    def describer(self) -> Describer:
        return Describer(self.store, self.model("writer"), GlossSpec(self.config.gloss_tokens))

    def judge(self) -> Judge:
        spec = JudgeSpec(self.config.judge_method, self.config.judge_reads,
                         ql_tokens=self.config.judge_tokens)
        return Judge(self.store, self.model("judge"), spec, explainer=self.model("writer"))

    def representation(self) -> Representation:
        return self.describer().representation()

    # ingest ------------------------------------------------------------------------------
    def add(self, paths: Iterable[str | Path], progress: ProgressFactory | None = None,
            on_skip: Callable[[str, str], None] | None = None, gloss: bool = True) -> AddReport:
        """Index files and folders, then gloss every chunk that lacks a gloss.

        Unchanged documents cost nothing; a changed one keeps the glosses of its unchanged
        chunks. Glosses are committed batch by batch: after an interruption, ``add`` again
        continues where it stopped.
        """
        self.model("writer")  # a missing model fails here, before anything is written
        report = AddReport()
        for path, reason in walk([Path(p) for p in paths]):
            if reason is None:
                try:
                    self._add_file(path, report)
                    continue
                except IngestError as exc:
                    reason = str(exc)
            report.skipped.append((str(path), reason))
            if on_skip is not None:
                on_skip(str(path), reason)
        if gloss:
            report.glosses_written = self.gloss(progress)
        return report

    def gloss(self, progress: ProgressFactory | None = None) -> int:
        """Write the glosses still missing for the active representation version."""
        describer = self.describer()
        pending = describer.pending()
        tick = progress("glossing", pending) if progress and pending else None
        return describer.run(progress=tick)

    def export_glosses(self) -> list[dict[str, str]]:
        """The active version's glosses keyed by chunk content hash: portable, diffable text."""
        rep = self.representation()
        chunks = self.store.get_chunks(self.store.chunk_ids())
        glosses = self.store.glosses(rep.id, chunks)
        rows = {chunks[cid].content_hash: text for cid, text in glosses.items()}
        return [{"representation": rep.name, "content_hash": h, "gloss": rows[h]}
                for h in sorted(rows)]

    def import_glosses(self, rows: Iterable[dict[str, str]], searchable: bool = True) -> int:
        """Attach exported glosses of the active version to chunks with the same text.

        ``searchable=False`` keeps them out of the prefilter's full-text index."""
        rep = self.representation()
        by_hash = self.store.chunk_ids_by_hash()
        pairs = [(cid, r["gloss"]) for r in rows if r.get("representation") == rep.name
                 for cid in by_hash.get(r["content_hash"], [])]
        self.store.put_glosses(rep.id, pairs, searchable=searchable)
        return len(pairs)

    def _add_file(self, path: Path, report: AddReport) -> None:
        docs = load(path.resolve())
        report.files += 1
        for doc in docs:
            uri = doc.uri
            chash = content_hash(f"{doc.title}\n{doc.text}\n{self.config.chunk_tokens}")
            old = self.store.document_hash(uri)
            if old == chash:
                report.documents_unchanged += 1
                continue
            drafts = chunk_text(doc.text, self.config.chunk_tokens, doc.title)
            if not drafts:
                raise IngestError("no text to index")
            with self.store.transaction():
                doc_id = self.store.upsert_document(uri, doc.title, chash, doc.metadata)
                kept, added = self.store.replace_chunks(doc_id, drafts)
            report.chunks_kept += kept
            report.chunks_added += added
            if old is None:
                report.documents_new += 1
            else:
                report.documents_changed += 1

    def remove(self, paths: Iterable[str | Path]) -> int:
        """Delete documents (a file, a folder, or a JSONL file's records) and all derived rows."""
        removed = 0
        for p in paths:
            uri = str(Path(p).resolve())
            uris = [u for u in self.store.document_uris(uri)
                    if u == uri or u.startswith(uri + "#") or u.startswith(uri + "/")]
            if not uris:
                raise UnknownDocument(f"no document at {uri} in this index; `glossdb stats` lists counts")
            for u in uris:
                self.store.delete_document(u)
            removed += len(uris)
        return removed

    # search ------------------------------------------------------------------------------
    def search(self, query: str, k: int = 10, explain: bool = False,
               candidates: int | None = None,
               progress: ProgressFactory | None = None) -> list[Hit]:
        query = validate_query(query)
        if k < 1:
            raise InvalidQuery("k must be at least 1")
        started = time.perf_counter()
        usage_before = self.model("judge").token_usage()
        found = self.prefilter.candidates(query, candidates or self.config.candidates)
        chunks = self.store.get_chunks(c.chunk_id for c in found)
        judge = self.judge()
        rep = self.representation()
        ordered = [chunks[c.chunk_id] for c in found]
        tick = progress("judging", len(ordered)) if progress and ordered else None
        judged = judge.judge(query, ordered, rep, tick)
        pre_rank = {c.chunk_id: c.prefilter_rank for c in found}
        order = rank(found, {cid: j.score for cid, j in judged.items()}, self.config.fusion_weight)
        best = [chunks[cid] for cid in order[:k]]
        glosses = self.store.glosses(rep.id, [c.id for c in best])
        hits = [
            Hit(rank, c.id, judged[c.id].score, judge.verdict(query, judged[c.id].score),
                c.uri, c.title, c.heading, c.text, glosses.get(c.id), judged[c.id].explanation,
                pre_rank[c.id], judged[c.id].cached)
            for rank, c in enumerate(best, start=1)
        ]
        if explain:
            self._explain(judge, query, hits, chunks, rep)
        cached = sum(1 for j in judged.values() if j.cached)
        usage = self.model("judge").token_usage()
        self.store.log_query(query, k, len(found), len(judged) - cached, cached,
                             time.perf_counter() - started, [h.chunk_id for h in hits],
                             (usage[0] - usage_before[0], usage[1] - usage_before[1]))
        return hits

    def _explain(self, judge: Judge, query: str, hits: list[Hit], chunks: dict[int, Chunk],
                 rep: Representation) -> None:
        todo = [h for h in hits if not h.explanation]
        if not todo:
            return
        reasons = judge.explain(query, [(chunks[h.chunk_id], h.gloss, h.score) for h in todo], rep)
        for hit, reason in zip(todo, reasons):
            hit.explanation = reason

    def why(self, query: str, chunk_id: int) -> Why:
        """Explain why one chunk does or does not match a query, and where it ranks."""
        query = validate_query(query)
        chunk = self.store.get_chunk(chunk_id)
        found = self.prefilter.candidates(query, self.config.candidates)
        judge = self.judge()
        rep = self.representation()
        pool = self.store.get_chunks(c.chunk_id for c in found)
        pool[chunk.id] = chunk
        judged = judge.judge(query, list(pool.values()), rep)
        mine = judged[chunk.id]
        ordered = sorted(judged.values(), key=lambda j: -j.score)
        pre = next((c.prefilter_rank for c in found if c.chunk_id == chunk.id), None)
        rank = 1 + sum(1 for j in ordered if j.score > mine.score) if pre is not None else None
        gloss = self.store.glosses(rep.id, [chunk.id]).get(chunk.id)
        explanation = mine.explanation or judge.explain(query, [(chunk, gloss, mine.score)], rep)[0]
        return Why(query, chunk.id, mine.score, judge.verdict(query, mine.score), rank,
                   len(found), pre, gloss, explanation)

    # SQL ---------------------------------------------------------------------------------
    def sql(self, statement: str, params: Iterable[Any] = ()) -> tuple[list[str], list[tuple]]:
        """Run SQL against the index with LLM matching available as SQL functions:

        * ``glossdb_match(query, chunk_id)``: the judge's score (cached like any judgment),
        * ``glossdb_verdict(query, chunk_id)``: its verdict in words,
        * ``glossdb_gloss(chunk_id)``: the chunk's gloss of the active version.
        """
        import sqlite3

        judge, rep = self.judge(), self.representation()

        def match(query: str, chunk_id: int) -> float:
            chunk = self.store.get_chunk(int(chunk_id))
            return judge.judge(validate_query(query), [chunk], rep)[chunk.id].score

        def verdict_of(query: str, chunk_id: int) -> str:
            return judge.verdict(validate_query(query), match(query, chunk_id))

        db = self.store.db
        db.create_function("glossdb_match", 2, match)
        db.create_function("glossdb_verdict", 2, verdict_of)
        db.create_function("glossdb_gloss", 1,
                           lambda cid: self.store.glosses(rep.id, [int(cid)]).get(int(cid)))
        try:
            cursor = db.execute(statement, tuple(params))
            rows = cursor.fetchall()
        except sqlite3.Error as exc:
            raise InvalidQuery(f"SQL error: {exc}") from None
        columns = [d[0] for d in cursor.description or []]
        return columns, rows

    # versions ----------------------------------------------------------------------------
    def versions(self, old: str | None = None, new: str | None = None
                 ) -> tuple[Representation, Representation]:
        """Two representation versions by name; by default the two latest that have glosses."""
        every = self.store.representations()
        reps = [r for r, n in every if n]
        known = {r.name: r for r, _ in every}
        for name in (old, new):
            if name is not None and name not in known:
                raise UnknownRepresentation(
                    f"no representation version {name!r}; known: {', '.join(known) or 'none'} "
                    "(glossdb stats lists them)")
        if (old is None or new is None) and len(reps) < 2:
            raise UnknownRepresentation(
                "the index has fewer than two representation versions with glosses: write "
                "glosses with another model or prompt first (glossdb add PATH --gloss-model M)")
        new_rep = known[new] if new else reps[-1]
        old_rep = known[old] if old else next(r for r in reversed(reps) if r.id != new_rep.id)
        return old_rep, new_rep

    def diff(self, old: str | None = None, new: str | None = None, limit: int = 20) -> GlossDiff:
        """How the glosses of version ``new`` differ from ``old``, chunk by chunk."""
        return diff_glosses(self.store, *self.versions(old, new), limit=limit)

    def check(self, old: str | None = None, new: str | None = None,
              queries: list[str] | None = None, recent: int = 20, k: int = 10
              ) -> list[QueryCheck]:
        """Regression check: re-rank logged (or given) queries under both versions."""
        old_rep, new_rep = self.versions(old, new)
        queries = self._queries_or_recent(queries, recent)
        return regression_check(self.store, self.prefilter, self.judge(), old_rep, new_rep,
                                queries, k, self.config.candidates, self.config.fusion_weight)

    def _queries_or_recent(self, queries: list[str] | None, recent: int) -> list[str]:
        """The given queries, validated, or the latest ``recent`` distinct logged ones."""
        if queries:
            return [validate_query(q) for q in queries]
        return self.store.recent_queries(recent)

    # tuning ------------------------------------------------------------------------------
    def tune(self, queries: list[str] | None = None, recent: int = 20, deep: int = 50,
             k: int = 10, target: float = 0.95,
             progress: ProgressFactory | None = None) -> TuneReport:
        """Tune the prefilter cut-off from usage: judge logged (or given) queries over a deep
        candidate list, and find the fewest candidates that keep ``target`` of its top k."""
        if not 0.0 < target <= 1.0 or deep < 1 or k < 1:
            raise InvalidQuery("tune needs 0 < target <= 1, deep >= 1 and k >= 1")
        queries = self._queries_or_recent(queries, recent)
        if not queries:
            raise InvalidQuery("no logged queries to tune on: run some searches first, "
                               "or pass queries explicitly")
        judge, rep = self.judge(), self.representation()
        tick = progress("judging", len(queries)) if progress else None
        top_ranks = []
        for query in queries:
            found = self.prefilter.candidates(query, deep)
            chunks = self.store.get_chunks(c.chunk_id for c in found)
            judged = judge.judge(query, [chunks[c.chunk_id] for c in found], rep)
            order = rank(found, {cid: j.score for cid, j in judged.items()},
                         self.config.fusion_weight)
            pre = {c.chunk_id: c.prefilter_rank for c in found}
            top_ranks.append([pre[cid] for cid in order[:k]])
            if tick:
                tick(1)
        curve = [(n, round(cutoff_recall(top_ranks, n), 4))
                 for n in sorted({1, 3, 5, 10, 15, 20, 30, 40, 50, deep}) if n <= deep]
        return TuneReport(len(queries), deep, k, target, self.config.candidates,
                          needed_cutoff(top_ranks, target, deep), curve)

    # inspection --------------------------------------------------------------------------
    def show(self, chunk_id: int) -> dict[str, Any]:
        chunk = self.store.get_chunk(chunk_id)
        return {
            "chunk": asdict(chunk),
            "glosses": [{"representation": n, "text": t}
                        for n, t in self.store.glosses_for_chunk(chunk_id)],
            "judgments": [
                {"query": q, "score": s, "explanation": e, "representation": r, "judge": j,
                 "at": at}
                for q, s, e, r, j, at in self.store.judgments_for_chunk(chunk_id)
            ],
        }

    def stats(self) -> dict[str, Any]:
        counts = self.store.counts()
        cls = backend_class(self.config.backend)
        method = self.config.judge_method
        if method == "query-likelihood" and not cls.can_score_logprobs:
            method = "generate (backend has no log-probabilities)"
        reps = [{"name": r.name, "model": r.model_id, "glosses": n, "params": r.params}
                for r, n in self.store.representations()]
        return {
            "path": str(self.path),
            **counts,
            "representations": reps,
            "judges": self.store.judges_used(),
            "searches": self.store.query_log_summary(),
            "backend": self.config.backend,
            "model": self.config.model,
            "gloss_model": self.config.writer_model(),
            "judge_method": method,
            "judge_reads": self.config.judge_reads,
            "judge_tokens": self.config.judge_tokens,
            "judge_shortlist": self.config.judge_shortlist,
            "candidates": self.config.candidates,
        }

    def close(self) -> None:
        for model in {id(m): m for m in self._models.values()}.values():
            model.close()
        if self._store is not None:
            self._store.close()

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["AddReport", "GlossdbError", "Hit", "Index", "Why"]
