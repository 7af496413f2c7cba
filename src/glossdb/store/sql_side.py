"""SQLite statements with glossdb's table function, run on a read-only ``apsw`` side
connection to the index file (Python's sqlite3 has no virtual tables).

``glossdb_search`` becomes an eponymous table-valued function (``apsw.ext``'s virtual
module: its parameters are hidden columns, so ``glossdb_search('q', 5)`` and a join that
feeds it a column both work). The judge's scalar functions are registered too; with a
:class:`~glossdb.sql_verbs.BatchedJudge` the statement runs twice: a collecting pass, one
batch of judging per query, then the answering pass. The connection is read-only: a
statement that writes raises :class:`WritingStatement` before it changed anything, and
the caller runs it on the index's own connection instead (without the table, row by row).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from ..errors import InvalidQuery
from .db import calls

Table = tuple[Sequence[str], Callable[..., list[tuple]]]


class WritingStatement(Exception):
    """The statement writes: it cannot run on the read-only side connection."""


def run(path: Path, statement: str, params: Sequence[Any],
        functions: dict[str, tuple[int, Callable]], tables: dict[str, Table],
        batch: Any = None) -> tuple[list[str], list[tuple]]:
    import apsw

    db = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)
    try:
        db.set_busy_timeout(30_000)
        for name, (columns, fn) in tables.items():
            db.create_module(name, _Module(columns, fn), use_bestindex_object=True,
                             eponymous=True, eponymous_only=True, read_only=True)
        for name, (arity, fn) in functions.items():
            db.create_scalar_function(name, fn, arity)
        if batch is not None and any(calls(statement, n) for n in batch.FUNCTIONS):
            batch.collecting = True
            _execute(db, statement, params)
            batch.judge_collected()
        return _execute(db, statement, params)
    finally:
        if batch is not None:
            batch.collecting = False
        db.close()


def _execute(db: Any, statement: str, params: Sequence[Any]) -> tuple[list[str], list[tuple]]:
    import apsw

    try:
        cursor = db.execute(statement, tuple(params))
        columns = _columns(cursor)
        rows = [tuple(r) for r in cursor]
    except apsw.ReadOnlyError:
        raise WritingStatement from None
    except apsw.Error as exc:
        if "readonly" in str(exc).lower() or "read-only" in str(exc).lower():
            raise WritingStatement from None
        raise InvalidQuery(f"SQL error: {exc}") from None
    return columns, rows


def _columns(cursor: Any) -> list[str]:
    import apsw

    try:
        return [d[0] for d in cursor.description]
    except apsw.ExecutionCompleteError:  # a statement without rows (or columns)
        return []


class _Module:
    """An eponymous table-valued function: ``fn``'s parameters are hidden columns (the
    first, without a default, required). A plan that cannot give it the required one is
    refused (SQLITE_CONSTRAINT), so in ``FROM asks a, glossdb_search(a.q, 2)`` SQLite reads
    ``asks`` first and calls ``fn`` once per row (apsw.ext's generic module allows a plan
    without it, and then ``fn`` is called without its query)."""

    def __init__(self, columns: Sequence[str], fn: Callable[..., list[tuple]]):
        import inspect

        self.columns, self.fn = tuple(columns), fn
        params = inspect.signature(fn).parameters.values()
        self.params = [p.name for p in params]
        self.required = [p.name for p in params if p.default is inspect.Parameter.empty]
        hidden = ", ".join(f'"{p}" HIDDEN' for p in self.params)
        self.schema = f"CREATE TABLE x({', '.join(self.columns)}, {hidden})"

    def Connect(self, db, modulename, dbname, tablename, *args):  # noqa: N802 (apsw's names)
        return self.schema, _Table(self)

    Create = Connect


class _Table:
    def __init__(self, module: _Module):
        self.module = module

    def BestIndexObject(self, o) -> bool:  # noqa: N802
        import apsw

        names: list[str] = []
        first = len(self.module.columns)
        for c in range(o.nConstraint):
            col = o.get_aConstraint_iColumn(c)
            if col < first or not o.get_aConstraint_usable(c):
                continue
            name = self.module.params[col - first]
            if o.get_aConstraint_op(c) != apsw.SQLITE_INDEX_CONSTRAINT_EQ or name in names:
                continue
            o.set_aConstraintUsage_argvIndex(c, len(names) + 1)
            o.set_aConstraintUsage_omit(c, True)
            names.append(name)
        if any(r not in names for r in self.module.required):
            return False  # SQLITE_CONSTRAINT: not this plan
        o.idxStr = ",".join(names)
        o.estimatedCost, o.estimatedRows = 1000.0, 10
        return True

    def Open(self) -> "_Cursor":  # noqa: N802
        return _Cursor(self.module)

    def Disconnect(self) -> None:  # noqa: N802
        pass

    Destroy = Disconnect


class _Cursor:
    def __init__(self, module: _Module):
        self.module, self.rows, self.at = module, [], 0

    def Filter(self, idx_num, idx_str, args) -> None:  # noqa: N802
        self.rows = list(self.module.fn(**dict(zip(idx_str.split(","), args))))
        self.at = 0

    def Eof(self) -> bool:  # noqa: N802
        return self.at >= len(self.rows)

    def Rowid(self) -> int:  # noqa: N802
        return self.at

    def Column(self, n: int):  # noqa: N802
        if n == -1:
            return self.at
        return self.rows[self.at][n] if n < len(self.module.columns) else None

    def Next(self) -> None:  # noqa: N802
        self.at += 1

    def Close(self) -> None:  # noqa: N802
        pass
