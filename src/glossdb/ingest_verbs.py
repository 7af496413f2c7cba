"""Documents in and out: files (``add``'s per-file part), texts from Python
(``add_texts``, like Chroma's ``collection.add`` and LangChain's ``add_texts``), removal.
A mixin of :class:`~glossdb.index.Index`, like the other verb families."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from .describe import gloss_rate
from .errors import IngestError, InvalidQuery, UnknownDocument
from .ingest import chunk_text, load_with_problems
from .ingest.loaders import SourceDoc
from .results import AddReport
from .store import content_hash

if TYPE_CHECKING:
    from .index import Index, ProgressFactory

TEXT_SCHEME = "text:"  # the URI of a document added by add_texts: text:ID
LARGE_DOCUMENT_CHUNKS = 500  # one document above this many new chunks is worth a word
WRITER_S_PER_CHUNK = 4.7  # measured on two cores (bench/README.md), for the estimate only


def large_document_warning(chunks: int) -> str:
    hours = chunks * WRITER_S_PER_CHUNK / 3600
    return (f"one document became {chunks} chunks: glossing them takes about {hours:.1f} h "
            f"on two cores (Ctrl-C stops; finished glosses are kept and add continues)")


class IngestVerbs:
    """Adding and removing documents."""

    def add_texts(self: "Index", texts: Sequence[str],
                  metadatas: Sequence[Mapping[str, Any] | None] | None = None,
                  ids: Sequence[str] | None = None, *, gloss: bool = True,
                  progress: "ProgressFactory | None" = None) -> list[str]:
        """Add texts without files; returns their ids. Each text is a document with the URI
        ``text:ID``: ``ids`` name them (default: a hash of the text, so adding the same text
        again changes nothing), ``metadatas`` are their fields (filterable with ``where``;
        a ``title`` field is also the title). Re-adding an id replaces its text and fields.
        Embeds, then glosses these texts' chunks (``gloss=False``: left to ``gloss``)."""
        texts = list(texts)
        ids = [str(i) for i in ids] if ids is not None else [
            hashlib.sha256(t.encode("utf-8")).hexdigest()[:16] for t in texts]
        metadatas = list(metadatas) if metadatas is not None else [None] * len(texts)
        _check_texts(texts, metadatas, ids)
        if gloss:
            self.model("writer")  # a missing model fails here, before anything is written
        self.embedder()
        docs = [_text_doc(i, t, m) for i, t, m in zip(ids, texts, metadatas)]
        report = AddReport(uris=[d.uri for d in docs])
        self._put_documents(docs, report)
        self.embed(progress)
        if gloss:
            self.gloss(progress, uris=report.uris)
        return ids

    def gloss_estimate(self: "Index", uris: list[str] | None = None) -> tuple[int, float, bool]:
        """(chunks of ``uris``' documents (None: of the index) still waiting for a gloss,
        the seconds writing them should take, whether that rate was measured on this index
        by its writer; else it is the two-core figure of bench/README.md)."""
        describer = self.describer()
        pending = describer.pending(None if uris is None else self.store.document_ids(uris))
        rate = gloss_rate(self.store, describer.representation().name)
        return pending, pending * (rate or WRITER_S_PER_CHUNK), rate is not None

    def delete_texts(self: "Index", ids: Iterable[str]) -> int:
        """Remove documents added by :meth:`add_texts`; returns how many existed."""
        removed = 0
        for i in ids:
            uri = TEXT_SCHEME + str(i)
            if self.store.document_hash(uri) is not None:
                self.store.delete_document(uri)
                removed += 1
        return removed

    def _add_file(self: "Index", path: Path, report: AddReport) -> list[tuple[str, str]]:
        """Add one file's documents; returns the records inside it that were skipped."""
        docs, problems = load_with_problems(path.resolve())
        report.files += 1
        self._put_documents(docs, report)
        return problems

    def _put_documents(self: "Index", docs: Iterable[SourceDoc], report: AddReport) -> None:
        """Store documents (an unchanged one costs nothing; a changed one keeps its
        unchanged chunks), counted in ``report``."""
        for doc in docs:
            uri = doc.uri
            report.uris.append(uri)
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
            if added > LARGE_DOCUMENT_CHUNKS:
                report.warnings.append((uri, large_document_warning(added)))
            if old is None:
                report.documents_new += 1
            else:
                report.documents_changed += 1


    def remove(self: "Index", paths: Iterable[str | Path]) -> int:
        """Delete documents (a file, a folder, or a JSONL file's records) and all derived rows."""
        removed = 0
        for p in paths:
            uris = self._documents_at(str(p))
            for u in uris:
                self.store.delete_document(u)
            removed += len(uris)
        return removed

    def _documents_at(self: "Index", given: str) -> list[str]:
        """The documents a path names: the file (its records), or every file under a folder,
        as resolved from here; else, for a path added from another folder, the one document
        whose URI ends with it."""
        uri = str(Path(given).resolve())
        uris = [u for u in self.store.document_uris(uri)
                if u == uri or u.startswith(uri + "#") or u.startswith(uri + "/")]
        if uris:
            return uris
        tail = Path(given).as_posix()  # "./notes.md" is "notes.md"; "../x" matches nothing
        relative = not Path(given).is_absolute() and not tail.startswith("..") and tail != "."
        ending = self.store.document_uris_ending(tail) if relative else []
        files = sorted({u.split("#", 1)[0] for u in ending})
        if len(files) == 1:
            return ending
        if len(files) > 1:
            raise UnknownDocument(f"{given} matches {len(files)} documents ({', '.join(files[:3])}"
                                  f"{', …' if len(files) > 3 else ''}): give the full path")
        raise UnknownDocument(f"no document at {uri} in this index; `glossdb documents` lists "
                              "what it holds")


def _check_texts(texts: list, metadatas: list, ids: list[str]) -> None:
    if not (len(texts) == len(metadatas) == len(ids)):
        raise InvalidQuery(f"add_texts got {len(texts)} texts, {len(metadatas)} metadatas and "
                           f"{len(ids)} ids: give one of each per text")
    for n, (text, meta, i) in enumerate(zip(texts, metadatas, ids)):
        if not isinstance(text, str) or not text.strip():
            raise InvalidQuery(f"text {n} (id {i!r}) is empty or not a string")
        if meta is not None and not isinstance(meta, Mapping):
            raise InvalidQuery(f"metadata {n} (id {i!r}) is not a mapping")
        try:
            json.dumps(dict(meta or {}))
        except (TypeError, ValueError) as exc:
            raise InvalidQuery(f"metadata {n} (id {i!r}) is not JSON ({exc})") from None
    twice = [i for i, n in Counter(ids).items() if n > 1]
    if twice or any(not i for i in ids):
        raise InvalidQuery(f"ids must be non-empty and distinct, got {twice[0]!r} twice"
                           if twice else "ids must be non-empty")


def _text_doc(i: str, text: str, meta: Mapping[str, Any] | None) -> SourceDoc:
    meta = dict(meta or {})
    title = meta.get("title") if isinstance(meta.get("title"), str) else None
    return SourceDoc(TEXT_SCHEME + i, title, text, meta)
