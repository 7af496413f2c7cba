"""``glossdb filter``, ``glossdb top-k`` and ``glossdb join``: the semantic operators
(:mod:`glossdb.semantic_verbs`), thin adapters over :class:`Index`."""

from __future__ import annotations

import click

from .cli_base import echo_json, index_option, json_option, model_options, model_settings, open_index
from .cli_format import format_hit
from .results import validate_query

_recall = click.option("--recall", "recall_target", type=click.FloatRange(0, 1, min_open=True),
                       default=0.9, show_default=True,
                       help="Recall relative to the judge judging every row.")
_sample = click.option("--sample", type=click.IntRange(min=1), default=20, show_default=True,
                       help="Rows the judge reads to choose the threshold.")


@click.command("filter")
@click.argument("condition")
@index_option
@click.option("--candidates", type=click.IntRange(min=1), default=100, show_default=True,
              help="Rows: the prefilter's best N chunks for the condition.")
@_recall
@click.option("--delta", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.1, show_default=True, help="Failure probability of the guarantee.")
@_sample
@click.option("--precision", "precision_target", type=click.FloatRange(0, 1, min_open=True),
              default=None, help="Also keep, unjudged, the rows where the sample puts the "
              "judge's positives at this share or more (fewer rows judged).")
@click.option("--explain", is_flag=True,
              help="Why each kept row was kept: the judge's verdict and a citing reason.")
@click.option("--sql", "show_sql", is_flag=True, help="Print the SQL that picks the rows and stop.")
@model_options
@json_option
def filter_command(condition, index_path, candidates, recall_target, delta, sample,
                   precision_target, explain, show_sql, model, gloss_model, backend, base_url,
                   as_json) -> None:
    """Chunks that satisfy CONDITION, by a cascade at a recall target.

    The prefilter's score rejects the clear cases; the judge reads a sample, then every row
    above the threshold the sample supports (with --precision, rows high enough that the
    sample says they satisfy it are kept unjudged); the cost of each stage is printed.

    \b
    Examples:
      glossdb filter "reports a randomised controlled trial" --recall 0.9
      glossdb filter "vitamin D lowers fracture risk" --candidates 200 --json
      glossdb filter "vitamin D lowers fracture risk" --explain
      glossdb filter "mentions a randomised trial" --recall 0.9 --precision 0.9
    """
    settings = model_settings(model, gloss_model, backend, base_url)
    with open_index(index_path, **settings) as ix:
        if show_sql:
            click.echo(ix.prefilter.sql(validate_query(condition), candidates))
            return
        result = ix.filter(condition, candidates=candidates, recall_target=recall_target,
                           delta=delta, sample=sample, explain=explain,
                           precision_target=precision_target)
    if as_json:
        echo_json(result.to_dict())
        return
    click.echo(f"{len(result.kept)} of {result.rows} rows satisfy it: "
               f"{', '.join(map(str, result.kept)) or '(none)'}")
    if result.judged >= result.rows:
        click.echo(f"cost: the judge read all {result.rows} rows ({result.sampled} sampled "
                   "first), so this is what judging every row gives")
    else:
        click.echo(f"cost: the judge read {result.judged} rows ({result.expensive_share:.0%};"
                   f" {result.sampled} sampled), "
                   f"{result.rows - result.judged - len(result.kept_unjudged)} rejected by "
                   f"the prefilter below {result.threshold:.4f}; recall >= "
                   f"{result.recall_target} with probability about {1 - result.delta:.2f} "
                   f"(estimate {result.recall_estimate:.2f})")
    if result.kept_unjudged:
        click.echo(f"{len(result.kept_unjudged)} of them kept unjudged, at or above {result.accept_threshold:.4f}"
                   f", where the sample put the judge's positives at >= "
                   f"{result.precision_target} of the rows")
    for note in result.notes:
        click.echo(f"note: {note}")
    for cid in result.kept if explain else ():
        click.echo(f"\n[{cid}] {result.decision(cid)}\n  why: {result.explanations.get(cid, '')}")


@click.command("top-k")
@click.argument("query")
@click.argument("ids_sql")
@index_option
@click.option("-k", default=10, show_default=True, help="Hits to return.")
@model_options
@json_option
def top_k_command(query, ids_sql, index_path, k, model, gloss_model, backend, base_url,
                  as_json) -> None:
    """The K chunks that best match QUERY among those IDS_SQL selects (a SELECT of chunk
    ids), judged in one batch whatever the prefilter would have proposed.

    \b
    Examples:
      glossdb top-k "vitamin D fractures" "SELECT c.id FROM chunks c JOIN documents d
        ON d.id = c.document_id WHERE json_extract(d.metadata, '$.year') >= 2020" -k 5
    """
    with open_index(index_path, **model_settings(model, gloss_model, backend, base_url)) as ix:
        hits = ix.top_k(query, ix.chunk_ids_of(ids_sql), k)
    if as_json:
        echo_json([h.to_dict() for h in hits])
    elif not hits:
        click.echo("The SELECT returned no chunk ids.")
    else:
        click.echo("\n\n".join(format_hit(h, False) for h in hits))


@click.command("join")
@click.argument("condition")
@click.argument("left_sql")
@click.argument("right_sql")
@index_option
@_recall
@_sample
@model_options
@json_option
def join_command(condition, left_sql, right_sql, index_path, recall_target, sample, model,
                 gloss_model, backend, base_url, as_json) -> None:
    """Pairs of chunks (left, right), from two SELECTs of chunk ids, where the right chunk
    satisfies CONDITION written with {left} (the left chunk's gloss): one cascade filter at
    the recall target per left chunk.

    \b
    Examples:
      glossdb join "evidence that {left}" "SELECT id FROM chunks LIMIT 3" \\
        "SELECT id FROM chunks"
    """
    with open_index(index_path, **model_settings(model, gloss_model, backend, base_url)) as ix:
        result = ix.join(ix.chunk_ids_of(left_sql), ix.chunk_ids_of(right_sql), condition,
                         recall_target=recall_target, sample=sample)
    if as_json:
        echo_json(result.to_dict())
        return
    n = len(result.pairs)
    click.echo(f"{n} pair{'' if n == 1 else 's'} of {result.left} x {result.right} satisfy it; "
               f"the judge read {result.judged} pairs ({result.expensive_share:.0%})")
    for left, right in result.pairs:
        click.echo(f"{left}\t{right}")


def register(group: click.Group) -> None:
    for command in (filter_command, top_k_command, join_command):
        group.add_command(command)
