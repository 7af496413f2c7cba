"""Metadata filters (:mod:`glossdb.where`) as SQL over ``documents.metadata`` (JSON text).

:func:`condition` compiles a checked filter into a boolean SQL expression on the documents
row ``d`` with ``?`` parameters, for SQLite's JSON1 functions or PostgreSQL's ``jsonb``. A
field's value is compared only with values of its own type (a CASE yields NULL otherwise),
so text never sorts above numbers by the database's type order, and a missing field, a
null, a list or an object satisfies no condition.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..where import Where, kind

__all__ = ["Where", "condition", "chunk_ids_sql", "inline"]

_SQL_OPS = {"$eq": "=", "$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


class _SQLite:
    def typeof(self, field: str) -> tuple[str, list]:
        return "json_type(d.metadata, ?)", [f'$."{field}"']

    def typed(self, field: str, k: str) -> tuple[str, list]:
        path = f'$."{field}"'
        if k == "bool":
            return ("CASE WHEN json_type(d.metadata, ?) IN ('true', 'false')"
                    " THEN json_type(d.metadata, ?) END", [path, path])
        types = "'integer', 'real'" if k == "number" else "'text'"
        return (f"CASE WHEN json_type(d.metadata, ?) IN ({types})"
                " THEN json_extract(d.metadata, ?) END", [path, path])

    scalar = "('integer', 'real', 'text', 'true', 'false')"
    false = "0"


class _Postgres:
    def typeof(self, field: str) -> tuple[str, list]:
        return "jsonb_typeof(d.metadata::jsonb -> ?)", [field]

    def typed(self, field: str, k: str) -> tuple[str, list]:
        if k == "number":
            return ("CASE WHEN jsonb_typeof(d.metadata::jsonb -> ?) = 'number'"
                    " THEN (d.metadata::jsonb ->> ?)::numeric END", [field, field])
        name = "boolean" if k == "bool" else "string"
        return (f"CASE WHEN jsonb_typeof(d.metadata::jsonb -> ?) = '{name}'"
                " THEN d.metadata::jsonb ->> ? END", [field, field])

    scalar = "('number', 'string', 'boolean')"
    false = "false"


DIALECTS = {"sqlite": _SQLite(), "postgresql": _Postgres()}


def condition(where: Where, dialect: str) -> tuple[str, list[Any]]:
    """(SQL boolean expression on ``d.metadata``, its parameters) for a checked filter."""
    return _node(where, DIALECTS[dialect])


def _node(where: Mapping[str, Any], d) -> tuple[str, list[Any]]:
    parts, params = [], []
    for key, value in where.items():
        if key in ("$and", "$or"):
            subs = [_node(p, d) for p in value]
            glue = " AND " if key == "$and" else " OR "
            sql, ps = "(" + glue.join(s for s, _ in subs) + ")", [p for _, q in subs for p in q]
        else:
            ops = value if isinstance(value, Mapping) else {"$eq": value}
            subs = [_field(key, op, v, d) for op, v in ops.items()]
            sql, ps = " AND ".join(s for s, _ in subs), [p for _, q in subs for p in q]
        parts.append(sql)
        params += ps
    return "(" + " AND ".join(parts) + ")", params


def _value(v: Any) -> Any:
    return ("true" if v else "false") if isinstance(v, bool) else v


def _field(field: str, op: str, value: Any, d) -> tuple[str, list[Any]]:
    typeof, tp = d.typeof(field)
    present = f"{typeof} IN {d.scalar}"
    if op in ("$in", "$nin"):
        inside, params = _in(field, value, d)
        if op == "$in":
            return inside, params
        return f"({present} AND NOT coalesce({inside}, {d.false}))", tp + params
    typed, params = d.typed(field, kind(value))
    if op == "$ne":
        return (f"({present} AND NOT coalesce({typed} = ?, {d.false}))",
                tp + params + [_value(value)])
    return f"{typed} {_SQL_OPS[op]} ?", params + [_value(value)]


def _in(field: str, values: list, d) -> tuple[str, list[Any]]:
    by_kind: dict[str, list] = {}
    for v in values:
        by_kind.setdefault(kind(v), []).append(_value(v))
    parts, params = [], []
    for k, vs in by_kind.items():
        typed, tp = d.typed(field, k)
        parts.append(f"{typed} IN ({', '.join('?' * len(vs))})")
        params += tp + vs
    return "(" + " OR ".join(parts) + ")", params


def chunk_ids_sql(where: Where, dialect: str) -> tuple[str, list[Any]]:
    """A SELECT of the ids of chunks whose document matches ``where``, and its parameters."""
    cond, params = condition(where, dialect)
    return ("SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id"
            f" WHERE {cond}", params)


def inline(statement: str, params: list[Any]) -> str:
    """``statement`` with each ``?`` replaced by its parameter as an SQL literal (shown by
    ``--sql``; never executed)."""
    pieces = statement.split("?")
    if len(pieces) != len(params) + 1:
        return statement
    out = [pieces[0]]
    for value, piece in zip(params, pieces[1:]):
        text = str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
            else "'" + str(value).replace("'", "''") + "'"
        out += [text, piece]
    return "".join(out)
