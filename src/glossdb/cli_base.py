"""Plumbing every ``glossdb`` command shares: the group that translates errors (the one
place the CLI does), progress bars, common options, opening an index, JSON output."""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Any, Iterator

import click

from .config import default_index
from .errors import GlossdbError, translate
from .index import Index

DEFAULT_INDEX = "index.glossdb"


class GlossdbGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GlossdbError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except Exception as exc:
            known = translate(exc)
            if known is None:
                raise
            click.echo(f"Error: {known}", err=True)
            sys.exit(known.exit_code)
        except KeyboardInterrupt:
            click.echo("\nInterrupted. Work already committed is kept; run the command again "
                       "to continue where it stopped.", err=True)
            sys.exit(130)


@contextlib.contextmanager
def progress_bars() -> Iterator[Any]:
    """A factory of tqdm bars on stderr (hidden when stderr is not a terminal)."""
    from tqdm import tqdm

    bars: list[Any] = []

    def factory(label: str, total: int):
        bar = tqdm(total=total, desc=label, unit="chunk", file=sys.stderr, disable=None,
                   dynamic_ncols=True)
        bars.append(bar)
        return bar.update

    try:
        yield factory
    finally:
        for bar in bars:
            bar.close()


def _index_or_default(ctx: click.Context, param: click.Parameter, value: str | None) -> str:
    return value if value else default_index(DEFAULT_INDEX)


index_option = click.option(
    "--index", "-i", "index_path", default=None, envvar="GLOSSDB_INDEX",
    callback=_index_or_default, metavar="PATH|URL",
    help="Index: an SQLite file, or a postgresql:// URL. Default: $GLOSSDB_INDEX, else "
         "`index` in ./glossdb.toml, else index.glossdb.",
)
model_option = click.option("--model", "-m", default=None,
                            help="Embedded model name or path to a GGUF file (judge).")
gloss_model_option = click.option("--gloss-model", default=None,
                                  help="Model that writes glosses and explanations.")
backend_option = click.option(
    "--backend", default=None,
    help="Model backend: llamacpp (in-process, default), openai (any OpenAI-compatible "
         "server), fake (tests), or a plugin's name.")
base_url_option = click.option("--base-url", default=None, help="OpenAI-compatible server URL.")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def model_options(fn):
    """--model, --gloss-model, --backend, --base-url: which models answer."""
    for option in reversed((model_option, gloss_model_option, backend_option, base_url_option)):
        fn = option(fn)
    return fn


def open_index(index_path: str, create: bool = False, **settings: Any) -> Index:
    ix = Index(index_path, create=create, **settings)
    if sys.stderr.isatty():  # loading a model takes seconds: say so, as progress bars do
        ix.on_model_load = lambda name: click.echo(f"glossdb: loading {name}…", err=True)
    return ix


def model_settings(model, gloss_model, backend, base_url) -> dict[str, Any]:
    return {"model": model, "gloss_model": gloss_model, "backend": backend, "base_url": base_url}


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
