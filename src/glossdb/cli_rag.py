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




@click.command()
@click.argument("question")
@index_option
@click.option("-k", default=4, show_default=True, help="Hits to retrieve and answer from.")
@click.option("--answer-model", default=None,
              help="Model that answers (default: the writer); a model name on the server "
                   "given by --answer-base-url, or a GGUF name/path in-process.")
@click.option("--answer-base-url", default=None,
              help="OpenAI-compatible server for --answer-model (default: in-process).")
@model_options
@json_option
def ask(question, index_path, k, answer_model, answer_base_url, model, gloss_model, backend,
        base_url, as_json) -> None:
    """Answer QUESTION from the indexed chunks only, citing chunk ids in brackets.

    Says "Not found in the index." when no retrieved chunk is judged a match.

    \b
    Examples:
      glossdb ask "Do vitamin D supplements prevent fractures?"
      glossdb ask "what does WAL mode change?" --json | jq .citations
      glossdb ask "..." --answer-model gpt-4o-mini --answer-base-url https://api.openai.com/v1
    """
    question = validate_query(question)
    settings = model_settings(model, gloss_model, backend, base_url)
    settings.update(answer_model=answer_model, answer_base_url=answer_base_url)
    with open_index(index_path, **settings) as ix:
        with progress_bars() as bars:
            result = ix.ask(question, k=k, progress=bars)
    if as_json:
        echo_json(result.to_dict())
        return
    click.echo(result.answer)
    quotes = {s.chunk_id: s.quote for s in result.support}
    for h in result.hits:
        if h.chunk_id in result.citations:
            click.echo(f"[{h.chunk_id}] {h.title or h.uri} ({h.verdict}) {h.uri}")
            click.echo(f'      "{quotes[h.chunk_id]}"')


def register(group: click.Group) -> None:
    group.add_command(ask)
    group.add_command(mcp)
