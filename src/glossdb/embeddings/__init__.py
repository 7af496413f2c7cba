"""Internal embeddings: the vectors behind the hybrid prefilter. Never shown to a user.

An embedder is registered by name like a model backend: built-ins in ``_BUILTIN``, third
parties under the ``glossdb.embedders`` entry-point group. ``embedder = ""`` in the settings
turns vectors off (the prefilter is then lexical only).
"""

from __future__ import annotations

from .. import plugins
from .base import Embedder

_BUILTIN = {
    "minilm-l6": "glossdb.embeddings.minilm:MiniLMEmbedder",
    "hashing": "glossdb.embeddings.hashing:HashingEmbedder",
}


def available() -> dict[str, str]:
    """Embedder name -> 'module:Class', built-ins first, then installed plugins."""
    return plugins.table(_BUILTIN, "glossdb.embedders")


def embedder_class(name: str) -> type[Embedder]:
    return plugins.load(_BUILTIN, "glossdb.embedders", name, "embedder", ', or "" for none')


__all__ = ["Embedder", "available", "embedder_class"]
