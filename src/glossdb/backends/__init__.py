"""Model backends, registered by name the same way a plugin registers its own.

A third-party package adds a backend by exposing a :class:`Model` subclass under the
``glossdb.backends`` entry-point group; built-ins are registered through the same table.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points

from ..errors import ConfigError
from .base import GenerateRequest, Model, ScoreRequest

_BUILTIN = {
    "llamacpp": "glossdb.backends.llamacpp:LlamaCppModel",
    "openai": "glossdb.backends.openai_compat:OpenAICompatModel",
    "fake": "glossdb.backends.fake:FakeModel",
}


def available() -> dict[str, str]:
    """Backend name -> 'module:Class', built-ins first, then installed plugins."""
    table = dict(_BUILTIN)
    for ep in entry_points(group="glossdb.backends"):
        table.setdefault(ep.name, ep.value)
    return table


def backend_class(name: str) -> type[Model]:
    table = available()
    if name not in table:
        raise ConfigError(
            f"unknown backend {name!r}; choose one of: {', '.join(sorted(table))}"
        )
    module, _, attr = table[name].partition(":")
    return getattr(import_module(module), attr)


__all__ = ["GenerateRequest", "Model", "ScoreRequest", "available", "backend_class"]
