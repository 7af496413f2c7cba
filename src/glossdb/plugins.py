"""Built-ins and installed plugins in one table per seam, the way ``llm`` registers its own.

A seam names its built-ins as ``{"name": "module:Class"}`` and an entry-point group; a
third-party package adds to it by exposing a class under that group.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points

from .errors import ConfigError


def table(builtin: dict[str, str], group: str) -> dict[str, str]:
    """Name -> 'module:Class', built-ins first, then installed plugins."""
    out = dict(builtin)
    for ep in entry_points(group=group):
        out.setdefault(ep.name, ep.value)
    return out


def load(builtin: dict[str, str], group: str, name: str, kind: str, extra: str = "") -> type:
    """The class registered as ``name``; a ConfigError that lists the choices otherwise."""
    known = table(builtin, group)
    if name not in known:
        raise ConfigError(f"unknown {kind} {name!r}; choose one of: "
                          f"{', '.join(sorted(known))}{extra}")
    module, _, attr = known[name].partition(":")
    return getattr(import_module(module), attr)
