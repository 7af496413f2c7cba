"""Metadata filters: which documents a search may return, Chroma's ``where`` shape.

A filter is a dict over the fields of a document's metadata (a JSONL record's fields, a
PDF's or HTML page's own): ``{"year": 2015}``, ``{"year": {"$gte": 2015}}``,
``{"$and": [{"year": {"$gte": 2015}}, {"lab": {"$in": ["a", "b"]}}]}``. Operators:
``$eq $ne $gt $gte $lt $lte $in $nin`` on a field, ``$and $or`` over filters. Values are
numbers, strings or booleans, compared by type: a field holding ``"2015"`` (text) does not
match ``{"year": 2015}`` (and does match ``{"year": {"$ne": 2015}}``); a document without
the field, or with null, a list or an object there, matches no condition on it.

Written as text (``glossdb search --where``, ``?where=`` of the HTTP API) a filter is a
Python-style comparison, read with :mod:`ast`: ``year >= 2015 and lab in ("a", "b")``,
``2010 <= year < 2020``, ``lab != "x" or year == 2019``; ``--filter year=2015`` is one
equality. :func:`parse` turns any of these into the dict; the store turns the dict into SQL
(:mod:`glossdb.store.filters`), applied inside the prefilter, so a filter never empties
the top k while k matching chunks exist.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any, Mapping

from .errors import InvalidQuery

Where = dict[str, Any]
FIELD_OPS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin")
LOGICAL = ("$and", "$or")
FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")
_AST_OPS = {ast.Eq: "$eq", ast.NotEq: "$ne", ast.Gt: "$gt", ast.GtE: "$gte", ast.Lt: "$lt",
            ast.LtE: "$lte", ast.In: "$in", ast.NotIn: "$nin"}
_FLIP = {"$gt": "$lt", "$gte": "$lte", "$lt": "$gt", "$lte": "$gte", "$eq": "$eq",
         "$ne": "$ne"}
HINT = ("write a filter like 'year >= 2015 and lab == \"x\"' or a JSON object like "
        "{\"year\": {\"$gte\": 2015}}")


def parse(where: str | Mapping[str, Any] | None) -> Where | None:
    """The filter as a checked dict (None or empty: no filter). Text that starts with
    ``{`` is read as JSON, other text as an expression."""
    if where is None:
        return None
    if isinstance(where, str):
        text = where.strip()
        if not text:
            return None
        where = _json(text) if text.startswith("{") else from_expression(text)
    return check(dict(where)) or None


def _json(text: str) -> Where:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidQuery(f"the filter is not valid JSON ({exc.msg}): {HINT}") from None
    if not isinstance(value, dict):
        raise InvalidQuery(f"a JSON filter is an object: {HINT}")
    return value


def equality(pairs: list[str]) -> Where | None:
    """``--filter year=2015`` (repeatable): each ``FIELD=VALUE`` an equality, all of them
    required; the value is a JSON number, boolean or string when it reads as one, else
    the text as written."""
    conditions = []
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidQuery(f"--filter takes FIELD=VALUE, got {pair!r}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        if not isinstance(value, (str, int, float, bool)):
            value = raw
        conditions.append({name.strip(): value})
    return merge(*conditions)


def merge(*filters: Where | None) -> Where | None:
    """All of ``filters`` required (None ones skipped)."""
    given = [f for f in filters if f]
    if not given:
        return None
    return given[0] if len(given) == 1 else {"$and": given}


def from_expression(text: str) -> Where:
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise InvalidQuery(f"cannot read the filter {text!r} ({exc.msg}): {HINT}") from None
    return _node(tree, text)


def _node(node: ast.AST, text: str) -> Where:
    if isinstance(node, ast.BoolOp):
        op = "$and" if isinstance(node.op, ast.And) else "$or"
        return {op: [_node(v, text) for v in node.values]}
    if isinstance(node, ast.Compare):
        parts = [_compare(left, op, right, text) for left, op, right in
                 zip([node.left, *node.comparators], node.ops, node.comparators)]
        return parts[0] if len(parts) == 1 else {"$and": parts}
    raise InvalidQuery(f"cannot read the filter {text!r}: {HINT}")


def _compare(left: ast.AST, op: ast.cmpop, right: ast.AST, text: str) -> Where:
    name = _op_name(op, text)
    if isinstance(left, ast.Name) and not isinstance(right, ast.Name):
        return {left.id: {name: _literal(right, text)}}
    if isinstance(right, ast.Name) and name in _FLIP and not isinstance(left, ast.Name):
        return {right.id: {_FLIP[name]: _literal(left, text)}}
    raise InvalidQuery(f"each comparison of {text!r} needs one field and one value: {HINT}")


def _op_name(op: ast.cmpop, text: str) -> str:
    name = _AST_OPS.get(type(op))
    if name is None:
        raise InvalidQuery(f"the filter {text!r} uses an operator filters do not have "
                           "(use == != < <= > >= in, not in)")
    return name


def _literal(node: ast.AST, text: str) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise InvalidQuery(f"a value in {text!r} is not a number, string or boolean "
                           "(quote text: lab == \"x\")") from None


def check(where: Mapping[str, Any]) -> Where:
    """``where`` itself when well formed, else InvalidQuery saying what is wrong."""
    for key, value in where.items():
        if key in LOGICAL:
            if not isinstance(value, list) or not value:
                raise InvalidQuery(f"{key} takes a non-empty list of filters")
            for part in value:
                if not isinstance(part, Mapping):
                    raise InvalidQuery(f"{key} takes a list of filters (objects)")
                check(part)
        elif key.startswith("$"):
            raise InvalidQuery(f"unknown filter operator {key}: use one of "
                               f"{', '.join(FIELD_OPS + LOGICAL)}")
        else:
            _check_field(key, value)
    return dict(where)


def _check_field(name: str, condition: Any) -> None:
    if not FIELD.fullmatch(name):
        raise InvalidQuery(f"a filter field is a metadata key of letters, digits, _ or -, "
                           f"got {name!r}")
    ops = condition if isinstance(condition, Mapping) else {"$eq": condition}
    if not ops:
        raise InvalidQuery(f"the condition on {name} is empty")
    for op, value in ops.items():
        if op not in FIELD_OPS:
            raise InvalidQuery(f"unknown operator {op} on {name}: use one of "
                               f"{', '.join(FIELD_OPS)}")
        values = value if op in ("$in", "$nin") else [value]
        if op in ("$in", "$nin") and (not isinstance(value, (list, tuple)) or not value):
            raise InvalidQuery(f"{op} on {name} takes a non-empty list of values")
        for v in values:
            if not isinstance(v, (str, int, float, bool)):
                raise InvalidQuery(f"{name} is compared with numbers, strings or booleans, "
                                   f"got {v!r}")
        if op in ("$gt", "$gte", "$lt", "$lte") and isinstance(value, bool):
            raise InvalidQuery(f"{op} on {name} compares numbers or strings, not booleans")


def matches(where: Where | None, metadata: Mapping[str, Any]) -> bool:
    """Whether a document's metadata satisfies ``where``: the reference the stores' SQL
    is tested against."""
    if not where:
        return True
    for key, value in where.items():
        if key == "$and" and not all(matches(p, metadata) for p in value):
            return False
        if key == "$or" and not any(matches(p, metadata) for p in value):
            return False
        if key in LOGICAL:
            continue
        ops = value if isinstance(value, Mapping) else {"$eq": value}
        if key not in metadata or not all(_holds(metadata[key], op, v) for op, v in ops.items()):
            return False
    return True


def kind(value: Any) -> str:
    """How a value compares: "bool", "number" or "text" (anything else: "other")."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return "text" if isinstance(value, str) else "other"


def _holds(have: Any, op: str, want: Any) -> bool:
    if kind(have) == "other":  # null, a list or an object: no condition holds
        return False
    if op in ("$in", "$nin"):
        inside = any(kind(have) == kind(w) and have == w for w in want)
        return inside if op == "$in" else not inside
    same = kind(have) == kind(want)
    if op in ("$eq", "$ne"):
        return (same and have == want) == (op == "$eq")
    return same and {"$gt": have > want, "$gte": have >= want, "$lt": have < want,
                     "$lte": have <= want}[op]
