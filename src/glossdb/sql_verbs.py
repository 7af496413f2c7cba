"""``Index.sql``: SQL over the index with LLM matching as native primitives (a mixin).

* ``glossdb_search(query, k, where)``, a table: the same pipeline as ``search`` (one batch,
  cached judgments), one row per hit with the columns of :data:`SEARCH_COLUMNS`, usable in
  joins, CTEs and subqueries. On SQLite it is a table-valued function (an ``apsw`` virtual
  table on a read-only side connection, so its arguments may come from other tables); on
  PostgreSQL, whose functions cannot call back into this process, each call with literal
  arguments is run first and read as a temporary table.
* ``glossdb_filter(condition, candidates, recall, precision)``, a table: the chunks
  :meth:`~glossdb.index.Index.filter` keeps at that recall target (and precision target,
  when given: a row kept without the judge has a NULL verdict), with its cost.
* ``glossdb_top_k(query, k, ids_sql)``, a table: the best k of the chunks a SELECT of ids
  returns (:meth:`~glossdb.index.Index.top_k`), in the search table's columns.
* ``glossdb_join(condition, left_sql, right_sql, recall)``, a table: the pairs
  :meth:`~glossdb.index.Index.join` keeps.
* ``glossdb_match(query, chunk_id)`` (the judge's score), ``glossdb_verdict(query,
  chunk_id)``, ``glossdb_why(query, chunk_id)`` (the verdict's citing explanation: why a
  row was kept) and ``glossdb_gloss(chunk_id)``, scalars. A read-only statement that calls
  the first three is run twice on SQLite: once to collect the (query, chunk) pairs it asks
  about, which are then judged in one batch per query, and once to answer from them
  (:class:`BatchedJudge`, whose ``glossdb_why`` explains a query's pairs in one batch); a
  pair the first pass did not reach is judged when asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from .errors import InvalidQuery
from .results import validate_query
from .store import Representation

if TYPE_CHECKING:
    from .index import Index
    from .judge import Judge
    from .store import Judgment

SEARCH_COLUMNS = ("rank", "chunk_id", "score", "verdict", "judge_score", "prefilter_rank",
                  "lexical_rank", "vector_rank", "gloss", "uri", "title")
FILTER_COLUMNS = ("chunk_id", "verdict", "judged", "rows")  # a kept chunk, the cascade's cost
JOIN_COLUMNS = ("left_id", "right_id", "judged")  # a kept pair, and what the join cost


class BatchedJudge:
    """The scalar judge functions of one statement. ``collecting``: answer a placeholder
    and remember the pair; :meth:`judge_collected` judges the pairs, one batch per query;
    then answers come from those judgments (a pair not collected is judged on its own), and
    the explanations ``glossdb_why`` asks for are written in one batch per query."""

    FUNCTIONS = ("glossdb_match", "glossdb_verdict", "glossdb_why")  # collected, then batched

    def __init__(self, index: "Index", rep: Representation):
        self.index, self.rep = index, rep
        self._judge_obj: "Judge | None" = None
        self.collecting = False
        self.storing = True  # False inside a writing statement: new scores are not stored
        self.pairs: dict[str, dict[int, None]] = {}
        self.scores: dict[tuple[str, int], float] = {}
        self.judgments: dict[tuple[str, int], "Judgment"] = {}
        self.wanted: dict[str, dict[int, None]] = {}  # pairs glossdb_why asks about
        self.explanations: dict[tuple[str, int], str] = {}
        self.calls = {"collected": 0, "batches": 0, "single": 0}

    def match(self, query: str, chunk_id: int) -> float:
        query, chunk_id = validate_query(query), int(chunk_id)
        if self.collecting:
            self.pairs.setdefault(query, {})[chunk_id] = None
            return 0.0
        if (query, chunk_id) not in self.scores:
            self.calls["single"] += 1
            self._judge(query, [chunk_id])
        return self.scores[(query, chunk_id)]

    def verdict(self, query: str, chunk_id: int) -> str | None:
        score = self.match(query, chunk_id)
        return None if self.collecting else self.judge.verdict(validate_query(query), score)

    def why(self, query: str, chunk_id: int) -> str | None:
        """The judge's verdict on the pair and its citing explanation, as the semantic
        operators decide (:meth:`~glossdb.index.Index.explain_pair`): why a row was kept."""
        query, chunk_id = validate_query(query), int(chunk_id)
        if self.collecting:
            self.wanted.setdefault(query, {})[chunk_id] = None
            self.match(query, chunk_id)  # its judgment joins the query's batch
            return None
        if not self.storing:
            raise InvalidQuery("glossdb_why stores the explanation it writes, so a statement "
                               "that writes cannot call it: SELECT the explanations first")
        if (query, chunk_id) not in self.explanations:
            ids = {c: None for c in self.wanted.get(query, {})
                   if (query, c) not in self.explanations} | {chunk_id: None}
            judged = {c: (self.judge.verdict(query, self.match(query, c)),
                          self.judgments[(query, c)]) for c in ids}
            made = self.index.explain_judgments(query, judged)
            self.explanations.update({(query, c): made[c] or judged[c][0] for c in ids})
        return self.explanations[(query, chunk_id)]

    @property
    def judge(self) -> "Judge":
        """The index's judge, loaded the first time a pair is judged (a statement without
        the judge's functions loads no model)."""
        if self._judge_obj is None:
            self._judge_obj = self.index.judge()
        return self._judge_obj

    def judge_collected(self) -> None:
        self.collecting = False
        for query, ids in self.pairs.items():
            self.calls["collected"] += len(ids)
            self.calls["batches"] += 1
            self._judge(query, list(ids))

    def _judge(self, query: str, chunk_ids: list[int]) -> None:
        chunks = self.index.store.get_chunks(chunk_ids)
        missing = [c for c in chunk_ids if c not in chunks]
        if missing:
            self.index.store.get_chunk(missing[0])  # UnknownChunk, with its fix
        if not self.storing:
            glosses = self.index.store.glosses(self.rep.id, chunk_ids)
            texts = [self.judge.candidate_text(chunks[c], glosses.get(c)) for c in chunk_ids]
            scores = self.judge.score_uncached(query, texts)
            self.scores.update({(query, c): s for c, s in zip(chunk_ids, scores)})
            return
        judged = self.judge.judge(query, [chunks[c] for c in chunk_ids], self.rep)
        self.scores.update({(query, c): j.score for c, j in judged.items()})
        self.judgments.update({(query, c): j for c, j in judged.items()})


class SQLVerbs:
    """The SQL verb of :class:`Index`."""

    def sql(self: "Index", statement: str, params: Iterable[Any] = (), batched: bool = True
            ) -> tuple[list[str], list[tuple]]:
        """Run SQL against the index with LLM matching available as SQL functions and the
        table ``glossdb_search(query, k, where)`` (see :mod:`glossdb.sql_verbs`). Returns
        (columns, rows); the last statement's judging is in ``last_sql_calls``.
        ``batched=False`` judges row by row, as SQLite calls the functions (bench.sql)."""
        rep = self.representation()
        batch, batched = batched, BatchedJudge(self, rep)

        def gloss_of(chunk_id: int) -> str | None:
            return self.store.glosses(rep.id, [int(chunk_id)]).get(int(chunk_id))

        def search(query: str, k: int = 10, where: str | None = None) -> list[tuple]:
            return search_rows(self, query, k, where)

        def top_k(query: str, k: int = 10, ids_sql: str = "SELECT id FROM chunks"
                  ) -> list[tuple]:
            return hit_rows(self.top_k(str(query), self.chunk_ids_of(ids_sql), int(k)))

        def semantic_join(condition: str, left_sql: str, right_sql: str,
                          recall: float = 0.9) -> list[tuple]:
            result = self.join(self.chunk_ids_of(left_sql), self.chunk_ids_of(right_sql),
                               str(condition), recall_target=float(recall))
            return [(lc, rc, result.judged) for lc, rc in result.pairs]

        def semantic_filter(condition: str, candidates: int = 100, recall: float = 0.9,
                            precision: float | None = None) -> list[tuple]:
            result = self.filter(str(condition), candidates=int(candidates),
                                 recall_target=float(recall), precision_target=None
                                 if precision is None else float(precision))
            return [(cid, result.verdicts.get(cid), result.judged, result.rows)
                    for cid in result.kept]

        functions = {"glossdb_match": (2, batched.match),
                     "glossdb_verdict": (2, batched.verdict), "glossdb_why": (2, batched.why),
                     "glossdb_gloss": (1, gloss_of)}
        out = self.store.run_sql(statement, tuple(params), functions, rep.id,
                                 tables={"glossdb_search": (SEARCH_COLUMNS, search),
                                         "glossdb_filter": (FILTER_COLUMNS, semantic_filter),
                                         "glossdb_top_k": (SEARCH_COLUMNS, top_k),
                                         "glossdb_join": (JOIN_COLUMNS, semantic_join)},
                                 batch=batched if batch else None)
        self.last_sql_calls = dict(batched.calls)
        return out


def search_rows(ix: "Index", query: str, k: int = 10, where: str | None = None
                ) -> list[tuple]:
    """``glossdb_search``'s rows: the hits of ``ix.search`` as :data:`SEARCH_COLUMNS`."""
    return hit_rows(ix.search(validate_query(str(query)), k=int(k), where=where or None))


def hit_rows(hits) -> list[tuple]:
    """Hits as rows of :data:`SEARCH_COLUMNS`."""
    return [(h.rank, h.chunk_id, h.score, h.verdict, h.judge_score, h.prefilter_rank,
             h.lexical_rank, h.vector_rank, h.gloss, h.uri, h.title) for h in hits]
