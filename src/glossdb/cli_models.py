"""``glossdb models``: which models glossdb can use here, and what each one does."""

from __future__ import annotations

import click

from .cli_base import echo_json, index_option, json_option
from .config import load_config
from .models import EMBEDDED, embedded_status


@click.command()
@index_option
@json_option
def models(index_path, as_json) -> None:
    """List the embedded models: installed or not, their size, and the role each has in the
    index's settings (judge, writer). Any GGUF path works as --model too.

    \b
    Examples:
      glossdb models
      glossdb models --json
    """
    config = load_config(index_path)
    roles = {config.model: ["judge"]}
    roles.setdefault(config.writer_model(), []).append("writer")
    rows = [{**embedded_status(name), "roles": roles.get(name, [])} for name in EMBEDDED]
    rows.append({"name": config.embedder or "(none)", "installed": True, "install": "",
                 "bytes": None, "roles": ["embedder (prefilter vectors)"]})
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        size = f"{r['bytes'] / 1e6:.0f} MB" if r["bytes"] else "-"
        state = "installed" if r["installed"] else f"not installed ({r['install']})"
        click.echo(f"{r['name']:20} {', '.join(r['roles']) or '-':30} {size:>8}  {state}")


def register(group: click.Group) -> None:
    group.add_command(models)
