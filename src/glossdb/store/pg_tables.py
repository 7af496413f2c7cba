"""glossdb's table functions on PostgreSQL: run first, read as temporary tables.

A PostgreSQL function cannot call back into glossdb's process (the judge runs here), so a
set-returning ``glossdb_search(...)`` cannot exist in the database. The documented nearest
equivalent: each call whose arguments are literals (strings, numbers, NULL) is run before
the statement, its rows are written to a temporary table of this session, and the call is
replaced by that table's name; the tables are dropped after the statement. A call whose
arguments come from columns is refused with that explanation.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import InvalidQuery
from .db import SQLTables, calls

_ARG = r"\s*('(?:[^']|'')*'|-?\d+(?:\.\d+)?|NULL)\s*"
_ONE = re.compile(_ARG, re.I)


def _type(column: str) -> str:
    if column.endswith("_id"):
        return "bigint"
    if column.endswith("rank"):
        return "integer"
    return "double precision" if column.endswith("score") else "text"


def _value(token: str) -> Any:
    token = token.strip()
    if token.upper() == "NULL":
        return None
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    return float(token) if "." in token else int(token)


def materialize(store: Any, statement: str, tables: SQLTables) -> tuple[str, list[str]]:
    """``statement`` with each literal call of a table function replaced by a temporary
    table holding its rows, and the names of the tables made."""
    made: list[str] = []
    for name, (columns, fn) in tables.items():
        call = re.compile(rf"\b{name}\s*\(((?:{_ARG},)*{_ARG})?\)", re.I)

        def run(m: re.Match, name=name, columns=columns, fn=fn) -> str:
            args = [_value(a) for a in _ONE.findall(m.group(1) or "")]
            table = f"{name}_{len(made)}"
            made.append(table)
            store.db.execute(f"DROP TABLE IF EXISTS pg_temp.{table}")
            store.db.execute(f"CREATE TEMP TABLE {table} ("
                             + ", ".join(f"{c} {_type(c)}" for c in columns) + ")")
            store.db.executemany(f"INSERT INTO {table} VALUES ("
                                 + ", ".join("?" * len(columns)) + ")", fn(*args))
            return table

        statement = call.sub(run, statement)
        if calls(statement, name):
            drop(store, made)
            raise InvalidQuery(f"on a PostgreSQL index {name} takes literal arguments only "
                               f"({name}('query', 10)): PostgreSQL cannot call back into "
                               "glossdb to run it per row; an SQLite index can")
    return statement, made


def drop(store: Any, tables: list[str]) -> None:
    for table in tables:
        store.db.execute(f"DROP TABLE IF EXISTS pg_temp.{table}")
