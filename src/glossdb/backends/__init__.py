"""Model backends, registered by name the same way a plugin registers its own.

A third-party package adds a backend by exposing a :class:`Model` subclass under the
``glossdb.backends`` entry-point group; built-ins are registered through the same table.
"""

from __future__ import annotations

from .. import plugins
from .base import GenerateRequest, Model, ScoreRequest

_BUILTIN = {
    "llamacpp": "glossdb.backends.llamacpp:LlamaCppModel",
    "openai": "glossdb.backends.openai_compat:OpenAICompatModel",
    "fake": "glossdb.backends.fake:FakeModel",
}


def available() -> dict[str, str]:
    """Backend name -> 'module:Class', built-ins first, then installed plugins."""
    return plugins.table(_BUILTIN, "glossdb.backends")


def backend_class(name: str) -> type[Model]:
    return plugins.load(_BUILTIN, "glossdb.backends", name, "backend")


__all__ = ["GenerateRequest", "Model", "ScoreRequest", "available", "backend_class"]
