"""Configuration in one place: defaults < the index's settings file (``docs.glossdb`` ->
``docs.toml``; the folder's ``glossdb.toml`` when it has none) < environment
(``GLOSSDB_*``) < explicit arguments. ``glossdb config`` prints the result and its sources."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .models import DEFAULT_MODEL, DEFAULT_WRITER
from .store.postgres import is_url


@dataclass(frozen=True)
class Config:
    backend: str = "llamacpp"
    model: str = DEFAULT_MODEL
    gloss_model: str = DEFAULT_WRITER  # writes glosses and explanations; "" = same as model
    base_url: str = ""
    answer_model: str = ""  # answers `ask`: "" = the writer (gloss_model)
    answer_base_url: str = ""  # an OpenAI-compatible server for answer_model ("" = in-process)
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = 60.0
    max_retries: int = 4
    concurrency: int = 4
    judge_method: str = "query-likelihood"
    judge_reads: str = "gloss"
    judge_adapter: str = ""  # a trained judge version's LoRA adapter (glossdb train); "": none
    judge_tokens: str = "content"  # query tokens the judge scores: content (words) | all
    judge_lead_chars: int = 240  # how much of an unglossed chunk's text the judge reads
    candidates: int = 10  # judged per search at first; adapts from usage unless set (cutoff.py)
    fusion_weight: float = 2.0  # BM25's weight beside the judge; tuned on train (bench/README.md)
    chunk_tokens: int = 400
    gloss_tokens: int = 48
    representation: str = ""  # the version search reads ("": the configured writer's own)
    n_ctx: int = 8192
    threads: int = 0  # CPU threads for in-process models (0: every core)
    kv_cache_mb: int = 0  # KV states of judged glosses kept for later queries (0: off)
    judge_shortlist: int = 4096  # softmax shortlist per query token (0: full softmax everywhere)
    embedder: str = "minilm-l6"  # internal vectors for the hybrid prefilter ("": lexical only)
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def writer_model(self) -> str:
        return self.gloss_model or self.model

    def public(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "sources"}


FOLDER_FILE = "glossdb.toml"  # the settings file of older versions: one per folder


def config_path(index_path: str | Path) -> Path:
    """The index's own settings file, beside it: ``docs.glossdb`` -> ``docs.toml``. A
    PostgreSQL index (a URL) has no folder: its settings are ``glossdb.toml`` where glossdb
    runs (or ``GLOSSDB_*`` variables), so each worker machine can carry its own."""
    if is_url(str(index_path)):
        return Path.cwd() / FOLDER_FILE
    path = Path(index_path).expanduser().resolve()
    if path.suffix == ".toml":
        return path.with_name(path.name + ".settings.toml")
    return path.with_suffix(".toml")


def settings_file(index_path: str | Path) -> Path | None:
    """The file whose settings are in force: the index's own, else (as before it had one)
    the folder's ``glossdb.toml``; None when neither exists."""
    own = config_path(index_path)
    folder = own.parent / FOLDER_FILE
    return own if own.exists() else folder if folder.exists() else None


def settings_stamp(index_path: str | Path) -> tuple | None:
    """Which settings file is in force and its (mtime, size): a change means re-read it."""
    path = settings_file(index_path)
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    return str(path), st.st_mtime_ns, st.st_size


def default_index(fallback: str) -> str:
    """The index the CLI opens when none is named: ``index = "…"`` in the folder's
    ``glossdb.toml`` (a path or a ``postgresql://`` URL), else ``fallback``."""
    path = Path.cwd() / FOLDER_FILE
    if not path.exists():
        return fallback
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix or remove it") from None
    value = data.get("glossdb", data).get("index", fallback)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{path}: index must be a file path or a postgresql:// URL")
    return value


# (lowest, highest) allowed for each numeric setting; None: unbounded on that side
RANGES: dict[str, tuple[float | None, float | None]] = {
    "timeout_s": (0.001, None), "max_retries": (0, 100), "concurrency": (1, 256),
    "candidates": (1, 1000), "fusion_weight": (0, 100), "chunk_tokens": (16, 8192),
    "gloss_tokens": (4, 1024), "n_ctx": (256, 1 << 20), "threads": (0, 1024),
    "kv_cache_mb": (0, 1 << 20), "judge_shortlist": (0, 1 << 20),
    "judge_lead_chars": (40, 20000),
}


def _coerce(name: str, value: Any, source: str = "") -> Any:
    """``value`` as the setting's type, in its range: a whole number for an int (never
    rounded: 1.5 threads is an error), any number for a float, text for a str."""
    kind = type(getattr(Config, name))
    where = f" (from {source})" if source else ""
    try:
        if isinstance(value, bool) and kind is not str:
            raise ValueError
        if kind is int and isinstance(value, float):
            if not value.is_integer():
                raise ValueError
            value = int(value)
        out = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"setting {name} must be {'a whole number' if kind is int else kind.__name__}"
                          f", got {value!r}{where}") from None
    low, high = RANGES.get(name, (None, None))
    if (low is not None and out < low) or (high is not None and out > high):
        span = (f"at least {low}" if high is None else f"between {low} and {high}")
        raise ConfigError(f"setting {name} must be {span}, got {value!r}{where}")
    return out


def load_config(index_path: str | Path, **overrides: Any) -> Config:
    known = {f.name for f in fields(Config)} - {"sources"}
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    path = settings_file(index_path)
    if path is not None:
        try:
            data = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid TOML ({exc}); fix or remove it") from None
        data = data.get("glossdb", data)
        for key, value in data.items():
            if key == "index":  # which index the CLI opens by default (cli_base), not a setting
                continue
            if key not in known:
                raise ConfigError(f"{path}: unknown setting {key!r}; known: {', '.join(sorted(known))}")
            values[key], sources[key] = _coerce(key, value, str(path)), str(path)
    for key in known:
        env = os.environ.get(f"GLOSSDB_{key.upper()}")
        if env is not None and env != "":
            values[key], sources[key] = (_coerce(key, env, f"GLOSSDB_{key.upper()}"),
                                         f"GLOSSDB_{key.upper()}")
    for key, value in overrides.items():
        if value is None:
            continue
        if key not in known:
            raise ConfigError(f"unknown setting {key!r}")
        values[key], sources[key] = _coerce(key, value), "argument"
    return replace(Config(), **values, sources=sources)


def save_setting(index_path: str | Path, key: str, value: int | float | str) -> Path:
    """Set one top-level ``key = value`` in the index's own settings file, keeping the file's
    other lines (and comments) as they are. An index that read the folder's ``glossdb.toml``
    gets its own file, starting as a copy of it (other indexes in the folder keep theirs)."""
    if key not in {f.name for f in fields(Config)} - {"sources"}:
        raise ConfigError(f"unknown setting {key!r}")
    path = config_path(index_path)
    source = settings_file(index_path)
    line = f"{key} = {value!r}" if isinstance(value, str) else f"{key} = {value}"
    lines = source.read_text().splitlines() if source is not None else []
    for i, old in enumerate(lines):
        if old.split("=", 1)[0].strip() == key and not old.lstrip().startswith("#"):
            lines[i] = line
            break
    else:
        lines.append(line)
    path.write_text("\n".join(lines) + "\n")
    load_config(index_path)
    return path
