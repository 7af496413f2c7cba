"""Internal embeddings: the vectors behind the hybrid prefilter. Never shown to a user.

An embedder is registered by name like a model backend: built-ins in ``_BUILTIN``, third
parties under the ``glossdb.embedders`` entry-point group. ``embedder = ""`` in the settings
turns vectors off (the prefilter is then lexical only).
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points

from ..errors import ConfigError
from .base import Embedder

_BUILTIN = {
    "minilm-l6": "glossdb.embeddings.minilm:MiniLMEmbedder",
    "hashing": "glossdb.embeddings.hashing:HashingEmbedder",
}


def available() -> dict[str, str]:
    """Embedder name -> 'module:Class', built-ins first, then installed plugins."""
    table = dict(_BUILTIN)
    for ep in entry_points(group="glossdb.embedders"):
        table.setdefault(ep.name, ep.value)
    return table


def embedder_class(name: str) -> type[Embedder]:
    table = available()
    if name not in table:
        raise ConfigError(
            f"unknown embedder {name!r}; choose one of: {', '.join(sorted(table))}, "
            "or \"\" for none"
        )
    module, _, attr = table[name].partition(":")
    return getattr(import_module(module), attr)


__all__ = ["Embedder", "available", "embedder_class"]
