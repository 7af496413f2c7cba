"""Plugins: other packages extend glossdb's seams, the way ``llm`` and Datasette do.

Two mechanisms. A seam that picks one class by name (backends, embedders) names its
built-ins as ``{"name": "module:Class"}`` and an entry-point group (``glossdb.backends``,
``glossdb.embedders``); a package adds to it by exposing a class under that group
(:func:`table`, :func:`load`). A seam that gathers from every plugin (signals) is a pluggy
hook: a plugin is a module or object with functions marked ``@glossdb.plugins.hookimpl``, found
through the ``glossdb`` entry-point group or registered with :func:`register`::

    from glossdb.plugins import hookimpl
    from glossdb.signals import Signal

    class Recency(Signal):
        name, weight = "recency", 0.5
        def values(self, candidates, judged, chunks):
            return [float(c.chunk_id) for c in candidates]

    @hookimpl
    def glossdb_signals(config):
        return [Recency()]

Hooks: ``glossdb_signals(config)`` (signals fused into every ranking, :mod:`glossdb.signals`).
Entry points are read once, the first time a hook is called.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

import pluggy

from .errors import ConfigError

if TYPE_CHECKING:
    from .config import Config
    from .signals import Signal

hookspec = pluggy.HookspecMarker("glossdb")
hookimpl = pluggy.HookimplMarker("glossdb")


class Specs:
    @hookspec
    def glossdb_signals(self, config: "Config") -> "list[Signal]":
        """Signals to fuse into every ranking (each with its own weight)."""


_manager: pluggy.PluginManager | None = None


def manager() -> pluggy.PluginManager:
    global _manager
    if _manager is None:
        pm = pluggy.PluginManager("glossdb")
        pm.add_hookspecs(Specs)
        pm.load_setuptools_entrypoints("glossdb")
        _manager = pm
    return _manager


def register(plugin: Any, name: str | None = None) -> None:
    manager().register(plugin, name=name)


def unregister(plugin: Any) -> None:
    manager().unregister(plugin)


def plugin_signals(config: "Config") -> "list[Signal]":
    return [s for group in manager().hook.glossdb_signals(config=config) for s in group or []]


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
