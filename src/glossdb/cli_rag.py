"""``glossdb ask`` and ``glossdb mcp``: where RAG users meet the index (thin adapters)."""

from __future__ import annotations

import click

from .cli_base import echo_json, index_option, json_option, model_options, model_settings, \
    open_index, progress_bars
from .index import validate_query


@click.command()
@index_option
@click.option("--allow-add", is_flag=True, help="Offer the 'add' tool (off by default).")
@model_options
def mcp(index_path, allow_add, model, gloss_model, backend, base_url) -> None:
    """Serve the index to an agent over MCP (stdio): tools search, why, show (and add).

    \b
    Examples:
      glossdb mcp --index docs.glossdb
      claude mcp add docs -- glossdb mcp --index /path/to/docs.glossdb
    """
    try:
        from .integrations.mcp import serve_stdio
    except ImportError as exc:
        raise click.ClickException(f"the MCP server needs the mcp package ({exc}): "
                                   "pip install 'glossdb[mcp]'") from exc
    ix = open_index(index_path, **model_settings(model, gloss_model, backend, base_url))
    ix.store  # a missing index fails here, before the client connects
    serve_stdio(ix, allow_add=allow_add)


def register(group: click.Group) -> None:
    group.add_command(mcp)
