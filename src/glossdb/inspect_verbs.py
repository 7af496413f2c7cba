"""The index's inspection verbs: versions, ``diff``, ``check``, ``show``, ``stats`` (a mixin of
Index). They read what ingest and search wrote; only ``check`` calls the judge."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from . import faithfulness
from .backends import backend_class
from .config import save_setting
from .describe import gloss_rate, passage_text
from .errors import UnknownRepresentation
from .results import ChunkView, GlossView, IndexStats, JudgmentView, validate_query
from .store import Representation, querylog
from .store.feedback import count_feedback, feedback_rows
from .store.questions import chunk_questions, count_questions
from .versions import GlossDiff, QueryCheck, diff_glosses, regression_check

if TYPE_CHECKING:
    pass


class InspectVerbs:
    """Versions and their diffs, one chunk's rows, and the index's counts and settings."""

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

    def use(self, name: str | None) -> str:
        """Make search read version ``name`` (None: the configured writer's own) and save
        the choice in the index's settings file; returns the version now read."""
        if name is not None:
            self.versions(name, name)  # an unknown name fails here, with the known ones
        save_setting(self.path, "representation", name or "")
        self.config = replace(self.config, representation=name or "")
        return self.representation().name

    def diff(self, old: str | None = None, new: str | None = None, limit: int = 20) -> GlossDiff:
        """How the glosses of version ``new`` differ from ``old``, chunk by chunk."""
        return diff_glosses(self.store, *self.versions(old, new), limit=limit)

    def check(self, old: str | None = None, new: str | None = None,
              queries: list[str] | None = None, recent: int = 20, k: int = 10
              ) -> list[QueryCheck]:
        """Regression check: re-rank logged (or given) queries under both versions."""
        old_rep, new_rep = self.versions(old, new)
        queries = self._queries_or_recent(queries, recent)
        depth = max(self.cutoff().depth, 3 * k)  # deeper than k, or the top k cannot move
        return regression_check(self.pipeline(old_rep), self.pipeline(new_rep), queries, k,
                                depth)

    def check_judge(self, adapter: str, queries: list[str] | None = None, recent: int = 20,
                    k: int = 10) -> list[QueryCheck]:
        """Regression check of a trained judge version (its adapter) against the judge in
        force: logged (or given) queries ranked by both, over the same candidates."""
        queries = self._queries_or_recent(queries, recent)
        depth = max(self.cutoff().depth, 3 * k)
        other = self.with_settings(judge_method="relevance", judge_adapter=adapter)
        return regression_check(self.pipeline(), other.pipeline(), queries, k, depth)

    def _queries_or_recent(self, queries: list[str] | None, recent: int) -> list[str]:
        """The given queries, validated, or the latest ``recent`` distinct logged ones."""
        if queries:
            return [validate_query(q) for q in queries]
        return querylog.recent_queries(self.store, recent)

    def documents(self) -> list[dict[str, Any]]:
        """Every document: uri, title, chunks, and chunks glossed by any version."""
        return self.store.documents()

    def show(self, chunk_id: int) -> ChunkView:
        chunk = self.store.get_chunk(chunk_id)
        passage = passage_text(chunk)
        return ChunkView(
            chunk,
            [GlossView(n, t, faithfulness.unsupported(t, passage))
             for n, t in self.store.glosses_for_chunk(chunk_id)],
            [JudgmentView(q, s, e, r, j, at)
             for q, s, e, r, j, at in self.store.judgments_for_chunk(chunk_id)],
            feedback_rows(self.store, chunk_id, limit=20),
            chunk_questions(self.store, chunk),
        )

    def _representation_status(self, rep, glosses: int, chunks: int) -> dict[str, Any]:
        """A version's glossed share, and the time the rest takes at its measured rate."""
        rate = gloss_rate(self.store, rep.name)
        pending = chunks - glosses
        return {"name": rep.name, "model": rep.model_id, "glosses": glosses, "chunks": chunks,
                "pending": pending, "params": rep.params, "seconds_per_gloss": rate,
                "eta_seconds": round(pending * rate) if rate is not None else None}

    def stats(self) -> IndexStats:
        counts = self.store.counts()
        cls = backend_class(self.config.backend)
        method = self.config.judge_method
        if method == "query-likelihood" and not cls.can_score_logprobs:
            method = "generate (backend has no log-probabilities)"
        reps = [self._representation_status(r, n, counts["chunks"])
                for r, n in self.store.representations()]
        pinned = self.config.representation or None
        if pinned:
            self.representation()  # a pin to a missing version fails here, with the fix
        return IndexStats(
            path=self.store.location, **counts, representations=reps, pinned_representation=pinned,
            judges=self.store.judges_used(), searches=querylog.query_log_summary(self.store),
            backend=self.config.backend, model=self.config.model,
            gloss_model=self.config.writer_model(), judge_method=method,
            judge_reads=self.config.judge_reads, judge_tokens=self.config.judge_tokens,
            judge_shortlist=self.config.judge_shortlist, candidates=self.cutoff().to_dict(),
            embedder=self.config.embedder,
            vectors=[{"name": e.name, "model": e.model_id, "dim": e.dim, "vectors": n}
                     for e, n in self.vector_store.embedders()],
            servers=self._server_stats(), judge_adapter=self._adapter_status(),
            feedback=count_feedback(self.store), questions=count_questions(self.store),
        )

    def _adapter_status(self) -> str:
        if not self.config.judge_adapter:
            return ""
        from .train.export import file_hash

        path = self.adapter_path(self.config.judge_adapter)
        try:
            return f"{path} (sha256 {file_hash(path)[:12]})"
        except OSError:
            return f"{path} (missing: train one with `glossdb train` or unset judge_adapter)"

    def _server_stats(self) -> list[dict[str, Any]]:
        """Per-server counters of the loaded models that talk to a pool of servers."""
        seen, out = set(), []
        for model in self._models.values():
            pool = getattr(model, "pool", None)
            if pool is not None and id(pool) not in seen:
                seen.add(id(pool))
                out += [{"model": model.model_id, **s} for s in pool.stats()]
        return out

