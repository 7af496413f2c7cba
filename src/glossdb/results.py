"""What the index's verbs take and return: plain records, each with ``to_dict``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import InvalidQuery
from .store import Chunk


@dataclass
class Hit:
    """One ranked chunk. ``score`` is the number that ranked it (the judge's z-score plus the
    weighted prefilter evidence, over this search's candidates); ``judge_score`` is the
    judge's own (mean log-probability per query word) and ``lift`` how much the chunk raised
    it over an empty passage. The verdict is read off ``score``, with a floor on ``lift``."""

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
    lexical_rank: int | None = None
    vector_rank: int | None = None
    judge_score: float = 0.0
    lift: float = 0.0
    signals: dict[str, float] = field(default_factory=dict)  # each fused signal's part
    metadata: dict[str, Any] = field(default_factory=dict)  # its document's fields

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
    vectors_written: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    uris: list[str] = field(default_factory=list, repr=False)  # the documents of the paths

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("uris")  # one per record of a JSONL file: not for the report
        return out


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
    judge_score: float = 0.0
    lift: float = 0.0
    signals: dict[str, float] = field(default_factory=dict)  # each fused signal's part

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


# A pasted passage is a normal "find more like this" query: 16,000 characters hold 2,000
# tokens of any script (CJK: about one character a token; English: about four). What a long
# query costs is bounded where the cost is, by tokens: the judge reads its first
# judge.JUDGE_QUERY_TOKENS and scores at most judge.MAX_SCORED_TOKENS of them.
MAX_QUERY_CHARS = 16_000


def validate_query(query: str) -> str:
    """The query with whitespace folded; an empty, control-character-only or over-long one
    is an InvalidQuery, and so is one over MAX_QUERY_CHARS."""
    if not isinstance(query, str):
        raise InvalidQuery("the query must be text")
    query = "".join(ch if ch.isprintable() or ch.isspace() else " " for ch in query)
    query = " ".join(query.split())
    if not query:
        raise InvalidQuery("the query is empty: pass some words to search for")
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidQuery(
            f"the query is too long ({len(query):,} characters; at most {MAX_QUERY_CHARS:,}): "
            "search with a question or a passage, not a whole document")
    return query


@dataclass
class GlossView:
    """One gloss of a chunk. ``unsupported``: content words of the gloss that its passage
    does not contain (stems compared), what a reader should check."""

    representation: str
    text: str
    unsupported: list[str]


@dataclass
class JudgmentView:
    query: str
    score: float
    explanation: str | None
    representation: str
    judge: str
    at: str


@dataclass
class ChunkView:
    """``Index.show``: one chunk, its glosses by version and its stored judgments."""

    chunk: Chunk
    glosses: list[GlossView]
    judgments: list[JudgmentView]
    feedback: list[dict[str, Any]] = field(default_factory=list)  # marks: glossdb feedback
    # what the writer asked of the chunk's text, for training (glossdb train --questions)
    questions: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class IndexStats:
    """``Index.stats``: counts, versions with glossing progress, judges, searches, settings.
    ``to_dict`` is the JSON shape of ``glossdb stats --json`` and ``/api/stats``."""

    path: str
    documents: int
    chunks: int
    glosses: int
    judgments: int
    query_log: int
    representations: list[dict[str, Any]]
    pinned_representation: str | None  # None: search reads the writer's own version
    judges: list[dict[str, Any]]
    searches: dict[str, Any]
    backend: str
    model: str
    gloss_model: str
    judge_method: str
    judge_reads: str
    judge_tokens: str
    judge_shortlist: int
    candidates: dict[str, Any]
    embedder: str
    vectors: list[dict[str, Any]]
    servers: list[dict[str, Any]] = field(default_factory=list)  # a pool's, once loaded
    judge_adapter: str = ""  # a trained judge version's adapter: "path (sha256 …)"
    feedback: int = 0  # standing marks on hits (glossdb feedback)
    questions: int = 0  # questions the writer asked of chunks (glossdb train --questions)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
