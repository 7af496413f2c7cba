"""``glossdb search`` and ``glossdb why``: thin adapters over :class:`Index`."""

from __future__ import annotations

import click

from . import where
from .cli_base import (echo_json, index_option, json_option, model_options, model_settings,
                       open_index, progress_bars)
from .cli_format import format_hit, format_trace
from .index import validate_query


@click.command()
@click.argument("query")
@index_option
@click.option("-k", default=10, show_default=True, help="Hits to return.")
@click.option("--explain", is_flag=True, help="Add a one- or two-sentence reason per hit.")
@click.option("--candidates", type=click.IntRange(min=1), default=None,
              help="Prefilter candidates to judge (default: the adaptive cut-off).")
@click.option("--min-verdict", type=click.Choice(["weak match", "match", "strong match"]),
              default=None, help="Only hits judged at least this (possibly fewer than k).")
@click.option("--text", "show_text", is_flag=True, help="Print the start of each chunk's text.")
@click.option("--sql", "show_sql", is_flag=True, help="Print the prefilter SQL and stop.")
@click.option("--where", "where_text", default=None, metavar="FILTER",
              help="Only chunks of documents whose metadata matches, e.g. 'year >= 2015 and "
                   "lab == \"x\"' or a JSON object in Chroma's where shape.")
@click.option("--filter", "filter_pairs", multiple=True, metavar="FIELD=VALUE",
              help="Only documents whose metadata field equals VALUE (repeatable; with "
                   "--where, all must hold).")
@model_options
@json_option
def search(query, index_path, k, explain, candidates, min_verdict, show_text, show_sql,
           where_text, filter_pairs, model, gloss_model, backend, base_url, as_json) -> None:
    """Search: prefilter candidates, judge each with the LLM, rank by the judgment.

    The verdict comes from the score that ranks. On 400 SciFact train queries "match or
    better" had precision 0.70 and recall 0.69 over the candidates, "strong match" precision
    0.80, "weak match or better" recall 0.90 (python -m bench.calibration).

    \b
    Examples:
      glossdb search "how are glosses versioned?" -k 5 --explain
      glossdb search "wal durability" --json | jq '.[0].gloss'
      glossdb search "wal durability" --sql      # what the prefilter runs
      glossdb search "wal durability" --min-verdict match   # only matches, maybe fewer
      glossdb search "vitamin D fractures" --where 'year >= 2015' --filter lab=north
    """
    query = validate_query(query)
    filt = where.merge(where.parse(where_text), where.equality(list(filter_pairs)))
    settings = model_settings(model, gloss_model, backend, base_url)
    with open_index(index_path, **settings) as ix:
        if show_sql:
            click.echo(ix.prefilter.sql(query, candidates or ix.cutoff().depth, filt))
            return
        with progress_bars() as bars:
            hits = ix.search(query, k=k, explain=explain, candidates=candidates, progress=bars,
                             min_verdict=min_verdict, where=filt)
    if as_json:
        echo_json([h.to_dict() for h in hits])
    elif not hits and min_verdict:
        click.echo(f"No hit was judged {min_verdict} or better.")
    elif not hits and filt:
        click.echo("No chunk of a document matching the filter is a candidate.")
    elif not hits:
        click.echo("No candidates: no chunk shares a word with the query.")
    else:
        click.echo("\n\n".join(format_hit(h, show_text, explain) for h in hits))
        if explain:
            click.echo("\n" + format_trace(ix.last_trace))


@click.command()
@click.argument("query")
@click.argument("chunk_id", type=int)
@index_option
@model_options
@json_option
def why(query, chunk_id, index_path, model, gloss_model, backend, base_url, as_json) -> None:
    """Explain why chunk CHUNK_ID does or does not match QUERY, and where search ranks it.

    \b
    Examples:
      glossdb why "how are glosses versioned?" 42
    """
    query = validate_query(query)
    with open_index(index_path, **model_settings(model, gloss_model, backend, base_url)) as ix:
        with progress_bars() as bars:
            result = ix.why(query, chunk_id, progress=bars)
    if as_json:
        echo_json(result.to_dict())
        return
    if result.rank is None:
        place = f"not among the {result.candidates} prefilter candidates, so search never shows it"
    else:
        place = (f"prefilter rank {result.prefilter_rank}, search rank {result.rank} "
                 f"of {result.candidates} candidates")
    click.echo(f"chunk {chunk_id}: score={result.score:.3f} ({result.verdict}; judge "
               f"{result.judge_score:.3f}, lift {result.lift:+.2f}); {place}\n"
               f"gloss: {result.gloss or '(none yet)'}\nwhy:   {result.explanation}")


def register(group: click.Group) -> None:
    group.add_command(search)
    group.add_command(why)
