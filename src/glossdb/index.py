"""``Index``: the one object a user holds. It wires store, ingest, glosses, prefilter and judge.

    >>> from glossdb import Index
    >>> ix = Index("docs.glossdb")
    >>> ix.add(["notes/"])
    >>> for hit in ix.search("how are glosses versioned?", k=5, explain=True):
    ...     print(hit.score, hit.gloss, hit.explanation)
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterable

from .backends import Model, backend_class
from .config import Config, load_config, settings_stamp
from .describe import Describer, GlossSpec
from .embeddings import Embedder, embedder_class
from .errors import (GlossdbError, IndexCorrupt, IngestError, InvalidQuery, UnknownRepresentation)
from .ingest import walk
from .ask_verbs import AskVerbs
from .ingest_verbs import IngestVerbs
from .inspect_verbs import InspectVerbs
from .judge import Judge, JudgeSpec
from .pipeline import Pipeline
from .prefilter import Prefilter
from .results import AddReport, Hit, TuneReport, Why, validate_query
from .search_verbs import SearchVerbs
from .semantic_verbs import SemanticVerbs
from .sql_verbs import SQLVerbs
from .signals import Signal, signals_for
from .store import Representation, Store, content_hash, is_url, open_store
from .store.vectors import VectorStore

ProgressFactory = Callable[[str, int], Callable[[int], None]]
EMBED_BATCH = 256  # chunks embedded and committed at a time
class Index(IngestVerbs, SearchVerbs, SQLVerbs, SemanticVerbs, AskVerbs, InspectVerbs):
    """A gloss database: one SQLite file, or a PostgreSQL database given by a
    ``postgresql://`` URL. Verbs by family: adding files, embedding and glossing here,
    documents from Python and removal in :mod:`glossdb.ingest_verbs`, search in
    :mod:`glossdb.search_verbs`, versions and inspection in :mod:`glossdb.inspect_verbs`."""

    def __init__(self, path: str | Path, *, create: bool = True, config: Config | None = None,
                 models: dict[str, Model] | None = None, tracer=None, **settings: Any):
        self.path: Path | str = str(path) if is_url(path) else Path(path)
        self._settings, self._fixed_config = settings, config is not None
        self._config_stamp = settings_stamp(self.path)
        self._config = config or load_config(self.path, **settings)
        self._create, self._tracer = create, tracer
        self._store: Store | None = None
        if not create or is_url(path) or Path(path).exists():
            self._store = open_store(self.path, create=create, tracer=tracer)
        self._models: dict[str, Model] = dict(models or {})
        self._embedder: Embedder | None = None
        self._embedder_cls: type[Embedder] | None = None
        self._vectors: VectorStore | None = None
        self._owns_models = True
        self._loading = threading.RLock()  # one thread loads a model; forks share it
        self.on_model_load: Callable[[str], None] | None = None  # told before a model loads
        self.signals: list[Signal] = []  # fused beside the built-ins (glossdb.signals)
        self.last_trace: list = []  # the pipeline stages of the last search
        self.last_sql_calls: dict[str, int] = {}  # how the last sql statement judged

    @property
    def config(self) -> Config:
        """The settings in force, re-read when the settings file changes: a long-running
        ``serve`` sees what ``glossdb use`` or ``tune`` in another process saved."""
        if not self._fixed_config:
            stamp = settings_stamp(self.path)
            if stamp != self._config_stamp:
                self._config = load_config(self.path, **self._settings)
                self._config_stamp = stamp
        return self._config

    @config.setter
    def config(self, value: Config) -> None:
        self._config, self._config_stamp = value, settings_stamp(self.path)

    @property
    def store(self) -> Store:
        """The store; a new index file is only created on first use."""
        if self._store is None:
            self._store = open_store(self.path, create=self._create, tracer=self._tracer)
        return self._store

    @classmethod
    def open(cls, path: str | Path, **kwargs: Any) -> "Index":
        """An existing index; a mistyped path is a NoSuchIndex error, never a new file."""
        return cls(path, create=False, **kwargs)

    def fork(self) -> "Index":
        """Another handle on the same index file for another thread: its own SQLite
        connection, the same loaded models and embedder (each model serialises its own
        calls). The fork closes its connection only; the models stay with this index."""
        self.store  # create the file first if needed
        twin = Index(self.path, create=False, tracer=self._tracer,
                     **({"config": self.config} if self._fixed_config else self._settings))
        twin._embedder = self.embedder() if self.config.embedder else None
        twin._models, twin._loading, twin._owns_models = self._models, self._loading, False
        return twin

    def feedback(self, query: str, chunk_id: int, relevant: bool = True,
                 source: str = "python") -> dict[str, Any]:
        """Mark a hit relevant (or not) to a query; ``glossdb train`` learns from marks."""
        from .store.feedback import put_feedback

        return put_feedback(self.store, validate_query(query), chunk_id, relevant, source)

    def train(self, labels=None, **options: Any):
        """Train a judge version and adopt it unless it loses (:mod:`glossdb.training`)."""
        from .training import train_judge

        return train_judge(self, labels, **options)

    def with_settings(self, **overrides: Any) -> "Index":
        """Another handle on this index with some settings changed (a candidate judge
        version, say), sharing this one's loaded models and embedder."""
        twin = self.fork()
        twin._config, twin._fixed_config = replace(self.config, **overrides), True
        return twin

    def adapter_path(self, value: str) -> str:
        """A ``judge_adapter`` setting as a path: relative ones are beside the index."""
        path = Path(value).expanduser()
        if not path.is_absolute() and not is_url(self.path):
            path = Path(self.path).resolve().parent / path
        return str(path)

    @property
    def vector_store(self) -> VectorStore:
        if self._vectors is None:
            self._vectors = VectorStore(self.store)
        return self._vectors

    @property
    def prefilter(self) -> Prefilter:
        """Hybrid (lexical + vectors) when the configured embedder has vectors here."""
        if not self.config.embedder:
            return Prefilter(self.store)
        version = self.vector_store.version_with_vectors(self._embedder_class().model_id)
        if version is None:
            return Prefilter(self.store)
        return Prefilter(self.store, self.vector_store, self.embedder(), version)

    def _embedder_class(self) -> type[Embedder]:
        if self._embedder_cls is None:
            self._embedder_cls = embedder_class(self.config.embedder)
        return self._embedder_cls

    def embedder(self) -> Embedder | None:
        """The internal embedding model, loaded once; None when ``embedder = ""``."""
        if self._embedder is None and self.config.embedder:
            with self._loading:
                self._embedder = self._embedder or self._embedder_class()()
        return self._embedder

    # models ------------------------------------------------------------------------------
    def model(self, role: str = "judge") -> Model:
        """The model for ``judge``, ``writer`` (glosses, explanations) or ``answer`` (ask),
        loaded once. The answering model defaults to the writer; with ``answer_base_url`` it
        is any OpenAI-compatible chat model (``answer_model``)."""
        if role in self._models:
            return self._models[role]
        if role == "answer" and not (self.config.answer_model or self.config.answer_base_url):
            return self.model("writer")
        backend, base_url = self.config.backend, self.config.base_url
        if role == "judge":
            spec = self.config.model
        elif role == "answer" and self.config.answer_base_url:
            spec, backend, base_url = self.config.answer_model, "openai", self.config.answer_base_url
        elif role == "answer":
            spec = self.config.answer_model
        else:
            spec = self.config.writer_model()
        extra = backend_class(backend).judge_settings if role == "judge" else {}
        extra = {kw: getattr(self.config, field) for kw, field in extra.items()}
        if extra.get("lora_path"):
            extra["lora_path"] = self.adapter_path(extra["lora_path"])
        key = f"{backend}:{base_url}:{spec}:{sorted(extra.items())}"
        with self._loading:
            return self._models.get(key) or self._load_model(key, spec, backend, base_url, extra)

    def _load_model(self, key: str, spec: str, backend: str, base_url: str,
                    extra: dict[str, Any]) -> Model:
        if key not in self._models:
            if self.on_model_load is not None:
                self.on_model_load(f"{spec} ({backend})")
            cls = backend_class(backend)
            kwargs = {kw: getattr(self.config, field) for kw, field in cls.settings.items()}
            kwargs.update(extra)
            if "base_url" in cls.settings:
                kwargs["base_url"] = base_url  # the answering model's own server, say
            if kwargs.get("n_threads") == 0:
                kwargs["n_threads"] = None  # every core
            self._models[key] = cls(model=spec, **kwargs)
        return self._models[key]

    def describer(self) -> Describer:
        return Describer(self.store, self.model("writer"), GlossSpec(self.config.gloss_tokens))

    def _remember_writer(self, rep: Representation) -> None:
        """Glossing registered the writer's version: remember its name for searches."""
        key = self._writer_key()
        if "writer" not in self._models and rep.id >= 0 and self.store.get_setting(key) != rep.name:
            self.store.set_setting(key, rep.name)

    def _writer_key(self) -> str:
        """Settings key of the configured writer's version: everything that shapes it."""
        shape = [self.config.backend, self.config.base_url, self.config.writer_model(),
                 repr(GlossSpec(self.config.gloss_tokens))]
        return "writer_version:" + content_hash(json.dumps(shape))[:16]

    def judge_spec(self) -> JudgeSpec:
        """How the configured judge reads and scores (no model loaded)."""
        return JudgeSpec(self.config.judge_method, self.config.judge_reads,
                         lead_chars=self.config.judge_lead_chars,
                         ql_tokens=self.config.judge_tokens)

    def judge(self) -> Judge:
        return Judge(self.store, self.model("judge"), self.judge_spec(),
                     explainer=lambda: self.model("writer"))

    def pipeline(self, representation: Representation | None = None) -> Pipeline:
        """The retrieval pipeline (:mod:`glossdb.pipeline`) over the version search reads
        (or ``representation``), with the configured judge and signals."""
        return Pipeline(self.store, self.prefilter, self.judge(),
                        representation or self.representation(),
                        signals_for(self.config, self.signals))

    def representation(self) -> Representation:
        """The version search reads: the one pinned by ``representation`` (``glossdb use``),
        else the configured writer's own. Glosses are always written by the writer under its
        own version; pinning chooses what search reads."""
        pinned = self.config.representation
        if not pinned:
            return self._writers_representation()
        try:
            return self.store.representation(pinned)  # one indexed lookup: every search asks
        except IndexCorrupt:
            known = [r.name for r, _ in self.store.representations()]
            raise UnknownRepresentation(
                f"the settings pin representation {pinned!r}, which {self.store.location} does "
                f"not have (known: {', '.join(known) or 'none'}); `glossdb use --writer` unpins it"
            ) from None

    def _writers_representation(self) -> Representation:
        """The configured writer's own version. Its name needs the writer's capabilities,
        so the first call loads the writer and remembers the name in the index under a key
        of everything that shapes it (backend, model, gloss spec); later ones (every search)
        read it back without loading the writer."""
        if "writer" in self._models:  # given by the caller: nothing to load, nothing to cache
            return self.describer().known_representation()
        name = self.store.get_setting(self._writer_key())
        if name:
            try:
                return self.store.representation(name)
            except IndexCorrupt:
                pass
        return self.describer().known_representation()  # a search registers nothing

    # ingest ------------------------------------------------------------------------------
    def add(self, paths: Iterable[str | Path], progress: ProgressFactory | None = None,
            on_skip: Callable[[str, str], None] | None = None, gloss: bool = True,
            on_warn: Callable[[str, str], None] | None = None) -> AddReport:
        """Index files and folders, embed new chunks, then gloss those files' chunks that lack
        a gloss (other chunks waiting in the index are left to :meth:`gloss`).

        Unchanged documents cost nothing; a changed one keeps the glosses of its unchanged
        chunks. Glosses are committed batch by batch: after an interruption, ``add`` again
        continues where it stopped.
        """
        if isinstance(paths, (str, Path)):
            paths = [paths]  # one path, not the characters of one
        roots = [Path(p) for p in paths]
        missing = [str(p) for p in roots if not p.exists() and not p.is_symlink()]
        if missing:
            raise IngestError(f"no such file or directory: {', '.join(missing)}; "
                              "nothing was added (check the path)")
        if gloss:
            self.model("writer")  # a missing model fails here, before anything is written
        self.embedder()
        report = AddReport()

        def skip(where: str, reason: str) -> None:
            report.skipped.append((where, reason))
            if on_skip is not None:
                on_skip(where, reason)

        own = self._own_files()
        for path, reason in walk(roots):
            if reason is None and os.path.realpath(path) in own:
                reason = "the index's own file (never read as a document)"
            if reason is None:
                try:
                    warned = len(report.warnings)
                    for where, why in self._add_file(path, report):
                        skip(where, why)
                    for where, why in report.warnings[warned:] if on_warn else ():
                        on_warn(where, why)
                    continue
                except IngestError as exc:
                    reason = str(exc)
            skip(str(path), reason)
        report.vectors_written = self.embed(progress)
        if gloss:  # these paths' chunks only: the rest of the backlog is `gloss`'s work
            report.glosses_written = self.gloss(progress, uris=report.uris)
        return report

    def _own_files(self) -> set[str]:
        """The index file and its WAL and shared memory: opening one of them outside SQLite
        would drop this process's locks on the index (see :mod:`glossdb.store.sqlite`)."""
        if is_url(self.path):
            return set()
        base = os.path.realpath(self.path)
        return {base, base + "-wal", base + "-shm", base + "-journal"}

    def embed(self, progress: ProgressFactory | None = None) -> int:
        """Write the internal vectors still missing for the configured embedder, committed
        batch by batch (interrupted, the next call goes on). Returns vectors written."""
        embedder = self.embedder()
        if embedder is None:
            return 0
        vectors = self.vector_store
        version = vectors.ensure_embedder(embedder.model_id, embedder.dim)
        pending = vectors.count_without_vector(version.id)
        tick = progress("embedding", pending) if progress and pending else None
        written = 0
        while batch := vectors.chunks_without_vector(version.id, EMBED_BATCH):
            texts = [embed_text(c.title, c.heading, c.text) for c in batch]
            vectors.put(version.id, [c.id for c in batch], embedder.embed(texts, tick))
            written += len(batch)
        return written

    def gloss(self, progress: ProgressFactory | None = None, limit: int | None = None,
              minutes: float | None = None, uris: list[str] | None = None) -> int:
        """Write glosses still missing for the active representation version, in usage order
        (chunks that logged searches returned first, most recent and most frequent first; then
        the rest in document order), at most ``limit`` of them or for about ``minutes``.
        Resumable at any point: each batch is committed. Returns glosses written. ``uris``:
        only the chunks of these documents (what ``add`` glosses)."""
        if (limit is not None and limit < 1) or (minutes is not None and minutes <= 0):
            raise InvalidQuery("--limit and --minutes must be positive")
        describer = self.describer()
        self._remember_writer(describer.representation())
        ids = None if uris is None else self.store.document_ids(uris)
        pending = describer.pending(ids)
        total = min(pending, limit) if limit else pending
        tick = progress("glossing", total) if progress and total else None
        deadline = time.monotonic() + 60 * minutes if minutes else None
        return describer.run(progress=tick, limit=limit, deadline=deadline, document_ids=ids)

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
        if rep.id < 0:  # a version this index has no glosses of yet: register it now
            rep = self.describer().representation()
        by_hash = self.store.chunk_ids_by_hash()
        pairs = [(cid, r["gloss"]) for r in rows if r.get("representation") == rep.name
                 for cid in by_hash.get(r["content_hash"], [])]
        self.store.put_glosses(rep.id, pairs, searchable=searchable)
        return len(pairs)

    def close(self) -> None:
        if self._owns_models:
            for model in {id(m): m for m in self._models.values()}.values():
                model.close()
            if self._embedder is not None:
                self._embedder.close()
        if self._store is not None:
            self._store.close()

    def __repr__(self) -> str:
        where = self._store.location if self._store else str(self.path)
        return f"Index({where!r})"

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def embed_text(title: str | None, heading: str | None, text: str) -> str:
    """What a chunk's vector is computed from: its title and heading lead the text."""
    head = " ".join(dict.fromkeys(p for p in (title, heading) if p))
    return f"{head}. {text}" if head else text


__all__ = ["AddReport", "GlossdbError", "Hit", "Index", "TuneReport", "Why", "validate_query"]
