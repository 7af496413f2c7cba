"""The ``glossdb`` command: thin adapters that parse, call :class:`Index`, and format.

Errors are translated to one line and an exit code in exactly one place:
:meth:`glossdb.cli_base.GlossdbGroup.invoke`. ``search``, ``why``: :mod:`glossdb.cli_search`;
``ask``, ``mcp``: :mod:`glossdb.cli_rag`; ``train``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import cli_models, cli_rag, cli_search, cli_semantic, cli_train
from .cli_base import (GlossdbGroup, echo_json, index_option, json_option,
                       model_options, model_settings, open_index, progress_bars)
from .cli_format import describe_cutoff, format_diff, format_rows, format_stats
from .config import config_path, load_config, save_setting, settings_file
from .errors import InvalidQuery, RegressionFound
from .index import Index
from .store import is_url


@click.group(cls=GlossdbGroup)
@click.version_option(package_name="glossdb")
def cli() -> None:
    """glossdb: search documents through readable glosses judged by an LLM."""


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@index_option
@model_options
@json_option
@click.option("--gloss", "when", type=click.Choice(["now", "later", "all"]), default="now",
              show_default=True,
              help="now: gloss these paths' chunks; all: every chunk still waiting in the "
                   "index; later: none (`glossdb gloss` does it).")
def add(paths, index_path, model, gloss_model, backend, base_url, as_json, when) -> None:
    """Add files and folders (.txt .md .html .pdf .jsonl .docx), embed and gloss their chunks.

    Search works as soon as the files are loaded: a chunk still waiting for its gloss is
    judged on its text. Ctrl-C while glossing is a normal stop; `glossdb gloss` continues.

    \b
    Only the chunks of the paths given are glossed; an unchanged file costs no model call.

    \b
    Examples:
      glossdb add docs/ notes.md
      glossdb add papers.jsonl --gloss later   # return at once; gloss later
      glossdb add notes.md --gloss all         # and the whole backlog of the index
    """
    settings = model_settings(model, gloss_model, backend, base_url)
    with open_index(index_path, create=True, **settings) as ix, progress_bars() as bars:
        if when != "later":
            ix.model("writer")  # a missing model fails here, before anything is written
        report = ix.add(paths, progress=bars, gloss=False,
                        on_skip=lambda p, why: click.echo(f"Warning: skipped {p}: {why}", err=True),
                        on_warn=lambda p, why: click.echo(f"Warning: {p}: {why}", err=True))
        if when != "later":
            scope = report.uris if when == "now" else None
            warn_long_glossing(ix, scope, paths)
            report.glosses_written = gloss_until_interrupted(ix, bars, uris=scope)
        waiting = ix.describer().pending() if when != "later" else None
    if as_json:
        echo_json(report.to_dict())
        return
    click.echo(
        f"{report.files} files: {report.documents_new} new, {report.documents_changed} changed, "
        f"{report.documents_unchanged} unchanged documents; {report.chunks_added} chunks added, "
        f"{report.chunks_kept} kept; {report.vectors_written} vectors and "
        f"{report.glosses_written} glosses written; "
        f"{len(report.skipped)} skipped."
    )
    if when == "later" or waiting:
        what = ("Chunks" if waiting is None else
                f"{waiting}{' other' if when == 'now' else ''} chunks of the index")
        click.echo(f"{what} still wait for a gloss: search works now; run `glossdb gloss` "
                   "to write them (usage order, resumable).")


LONG_GLOSSING_S = 600  # an add whose glossing should take longer says so before it starts


def warn_long_glossing(ix: Index, uris: list[str] | None, paths) -> None:
    """Before hours of glossing: how many chunks, how long, and how to return at once."""
    chunks, seconds, measured = ix.gloss_estimate(uris)
    if seconds < LONG_GLOSSING_S:
        return
    rate = "measured on this index" if measured else "on two cores, bench/README.md"
    click.echo(f"Glossing {chunks} chunks takes about {seconds / 3600:.1f} h "
               f"({seconds / max(chunks, 1):.1f} s a chunk, {rate}). Search works meanwhile; "
               "Ctrl-C stops and keeps every finished gloss. To return at once: glossdb add "
               f"{' '.join(map(str, paths))} --gloss later, then `glossdb gloss`.", err=True)


def gloss_until_interrupted(ix: Index, bars, limit: int | None = None,
                            minutes: float | None = None, uris: list[str] | None = None) -> int:
    """Gloss; Ctrl-C stops cleanly (every finished batch is kept) and returns the count."""
    before = ix.describer().pending()
    try:
        return ix.gloss(bars, limit=limit, minutes=minutes, uris=uris)
    except KeyboardInterrupt:
        click.echo("\nGlossing interrupted; finished glosses are kept.", err=True)
        return before - ix.describer().pending()


@cli.command()
@index_option
@model_options
@json_option
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Gloss at most N chunks.")
@click.option("--minutes", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Stop after about M minutes (the batch under way finishes).")
def gloss(index_path, model, gloss_model, backend, base_url, as_json, limit, minutes) -> None:
    """Write missing glosses in usage order: chunks that searches returned first (most recent,
    then most frequent), then the rest in document order. Resumable at any point.

    \b
    Examples:
      glossdb gloss                 # everything that still waits
      glossdb gloss --minutes 30    # half an hour's worth, most useful first
    """
    with open_index(index_path, **model_settings(model, gloss_model, backend, base_url)) as ix, \
            progress_bars() as bars:
        written = gloss_until_interrupted(ix, bars, limit, minutes)
        waiting = ix.describer().pending()
    if as_json:
        echo_json({"glosses_written": written, "pending": waiting})
        return
    hint = f"; {waiting} still wait (run `glossdb gloss` again)" if waiting else "; all glossed"
    click.echo(f"{written} glosses written{hint}.")


@cli.command()
@index_option
@json_option
def documents(index_path, as_json) -> None:
    """List the documents in the index with their chunks and glosses.

    \b
    Examples:
      glossdb documents
      glossdb documents --json | jq '.[].uri'
    """
    with open_index(index_path) as ix:
        docs = ix.documents()
    if as_json:
        echo_json(docs)
        return
    for d in docs:
        click.echo(f"{d['uri']}  ({d['chunks']} chunk{'s' if d['chunks'] != 1 else ''}, "
                   f"{d['glossed']} glossed)"
                   + (f"  {d['title']}" if d["title"] else ""))
    if not docs:
        click.echo("No documents yet: add some with `glossdb add PATH`.")


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@index_option
@json_option
def remove(paths, index_path, as_json) -> None:
    """Remove documents and everything derived from them.

    \b
    Examples:
      glossdb remove notes.md
      glossdb remove papers.jsonl     # every record of the file
    """
    with open_index(index_path) as ix:
        n = ix.remove(paths)
    if as_json:
        echo_json({"removed": n})
        return
    click.echo(f"Removed {n} document{'s' if n != 1 else ''}.")


@cli.command()
@click.argument("chunk_id", type=int)
@index_option
@json_option
def show(chunk_id, index_path, as_json) -> None:
    """Show a chunk: its text, glosses by version, and stored judgments.

    \b
    Examples:
      glossdb show 42
      glossdb show 42 --json
    """
    with open_index(index_path) as ix:
        data = ix.show(chunk_id).to_dict()
    if as_json:
        echo_json(data)
        return
    c = data["chunk"]
    click.echo(f"chunk {c['id']} of {c['uri']} (#{c['ordinal']}, chars {c['start_char']}-"
               f"{c['end_char']})\nheading: {c['heading'] or '-'}\n\n{c['text']}\n")
    for g in data["glosses"]:
        click.echo(f"gloss [{g['representation']}]: {g['text']}")
        if g["unsupported"]:
            click.echo(f"  not in the passage: {', '.join(g['unsupported'])}")
    for j in data["judgments"]:
        extra = f" — {j['explanation']}" if j["explanation"] else ""
        click.echo(f"judged {j['score']:.3f} for {j['query']!r} [{j['judge']}]{extra}")
    for f in data["feedback"]:
        mark = "relevant" if f["relevant"] else "not relevant"
        click.echo(f"marked {mark} to {f['query']!r} ({f['source']}, {f['created_at']})")
    for q in data.get("questions", []):
        click.echo(f"asked by the writer ({q['writer']}): {q['question']}")
    if not data["glosses"]:
        click.echo("No gloss yet: searches judge this chunk on its text's lead and keep no "
                   "judgment until it has one (`glossdb gloss` writes it; `glossdb why "
                   f"\"QUERY\" {c['id']}` judges it now).")


@cli.command()
@index_option
@json_option
def stats(index_path, as_json) -> None:
    """Counts, representation versions with glossing progress, judges, searches.

    \b
    Examples:
      glossdb stats
      glossdb stats --json
    """
    with open_index(index_path) as ix:
        data = ix.stats().to_dict()
    if as_json:
        echo_json(data)
        return
    click.echo("\n".join(format_stats(data)))


@cli.command("sql")
@click.argument("statement")
@index_option
@model_options
@json_option
@click.option("--csv", "fmt", flag_value="csv", help="Comma-separated, with a header row.")
@click.option("--tsv", "fmt", flag_value="tsv", help="Tab-separated, with a header row.")
@click.option("--table", "fmt", flag_value="simple", help="An aligned table.")
@click.option("--fmt", "fmt", default=None, metavar="NAME",
              help="A table in one of tabulate's formats: github, grid, psql, rst, html, …")
def sql_command(statement, index_path, model, gloss_model, backend, base_url, as_json,
                fmt) -> None:
    """Run SQL with glossdb's tables and functions.

    Tables: glossdb_search(query, k, where), glossdb_top_k(query, k, ids_sql),
    glossdb_filter(condition, candidates, recall, precision), glossdb_join(condition, left_sql,
    right_sql, recall). Functions: glossdb_match(query, chunk_id), glossdb_verdict,
    glossdb_gloss (judged in one batch per query). Rows print tab-separated (with --csv,
    --tsv, --table or --fmt as sqlite-utils does).

    \b
    Examples:
      glossdb sql "SELECT id, glossdb_gloss(id) FROM chunks LIMIT 5" --table
      glossdb sql "SELECT id FROM chunks ORDER BY glossdb_match('wal', id) DESC LIMIT 3"
      glossdb sql "SELECT uri, title FROM documents" --csv > documents.csv
      glossdb sql "SELECT s.rank, d.title FROM glossdb_search('wal', 5) s JOIN chunks c
        ON c.id = s.chunk_id JOIN documents d ON d.id = c.document_id" --table
    """
    with open_index(index_path, **model_settings(model, gloss_model, backend, base_url)) as ix:
        before = ix.store.changes()
        if sys.stderr.isatty() and ("glossdb_" in statement):
            click.echo("glossdb: collecting the rows' pairs, then judging them in one batch "
                       "per query with the LLM (stored judgments are reused)…", err=True)
        columns, rows = ix.sql(statement)
        changed = ix.store.changes() - before
        calls = ix.last_sql_calls
        if sys.stderr.isatty() and calls.get("collected", 0) + calls.get("single", 0):
            click.echo(f"glossdb: {calls['collected']} pairs judged in {calls['batches']} "
                       f"batches, {calls['single']} alone", err=True)
    if as_json:
        echo_json([dict(zip(columns, r)) for r in rows] if columns else {"changed": changed})
        return
    if not columns:
        click.echo(f"{changed} row{'s' if changed != 1 else ''} changed.")
        return
    click.echo(format_rows(columns, rows, fmt), nl=False)


@cli.command()
@index_option
@json_option
def config(index_path, as_json) -> None:
    """Show the configuration in force and where each value comes from.

    \b
    Examples:
      glossdb config
      GLOSSDB_CANDIDATES=20 glossdb config --json
    """
    cfg = load_config(index_path)
    data = cfg.public()
    if as_json:
        echo_json({"file": str(settings_file(index_path) or config_path(index_path)),
                   "settings": data,
                   "sources": {k: cfg.sources.get(k, "default") for k in data}})
        return
    in_force = settings_file(index_path)
    click.echo(f"# file: {in_force}" if in_force else
               f"# file: {config_path(index_path)} (does not exist yet: defaults in force)")
    for key, value in data.items():
        click.echo(f"{key} = {value!r}  # {cfg.sources.get(key, 'default')}")
    if is_url(index_path) or Path(index_path).exists():
        with open_index(index_path) as ix:
            click.echo(f"# candidates in force: {describe_cutoff(ix.cutoff().to_dict())}")


@cli.command()
@click.argument("version", required=False)
@index_option
@click.option("--writer", "writer", is_flag=True,
              help="Unpin: search reads the configured writer's own version again.")
def use(version, index_path, writer) -> None:
    """Choose the representation version search reads (saved in the index's settings).

    Glosses are always written by the configured writer under its own version; `use`
    pins what search, why and the judge read, e.g. an older version while a new one is
    checked with `glossdb diff --check`. `glossdb stats` shows the choice.

    \b
    Examples:
      glossdb use gloss-f445bb9b2b
      glossdb use --writer
    """
    if bool(version) == writer:
        raise click.UsageError("give a VERSION (glossdb stats lists them) or --writer")
    with open_index(index_path) as ix:
        name = ix.use(None if writer else version)
    click.echo(f"search reads {name}" + ("" if writer else
               f" (pinned in {config_path(index_path)})"))


@cli.command()
@click.argument("old", required=False)
@click.argument("new", required=False)
@index_option
@click.option("--limit", default=20, show_default=True, help="Changed glosses to print.")
@click.option("--check", is_flag=True,
              help="Also re-rank the latest logged queries under both versions.")
@click.option("--min-overlap", default=0.7, show_default=True, type=click.FloatRange(0, 1),
              help="With --check: fail (exit 9) when the mean top-k overlap is below this.")
@click.option("--queries", "recent", default=20, show_default=True,
              help="How many logged queries --check re-ranks.")
@click.option("--judge", default=None, metavar="ADAPTER",
              help="Check the judge in force against this trained one (implies --check).")
@model_options
@json_option
def diff(old, new, index_path, limit, check, min_overlap, recent, judge, model, gloss_model,
         backend, base_url, as_json) -> None:
    """Diff the glosses of two representation versions (default: the two latest); --judge.

    \b
    Examples:
      glossdb diff
      glossdb diff --check --queries 50     # and re-rank logged queries under both
      glossdb diff --check --judge docs.judges/judge-1a2b3c4d5e6f.gguf   # two judge versions
    """
    with open_index(index_path, **model_settings(model, gloss_model, backend, base_url)) as ix:
        result = None if judge else ix.diff(old, new, limit)  # --judge: two judges, one version
        checks = (ix.check_judge(judge, recent=recent) if judge else
                  ix.check(result.old, result.new, recent=recent) if check else [])
        if check and not checks:
            raise InvalidQuery("diff --check needs logged queries and the log is empty: run "
                               "some searches first (glossdb search \"…\"); each is logged")
    if as_json:
        echo_json({**(result.to_dict() if result else {"judge": judge}), "checks": [c.to_dict() for c in checks]})
    else:
        click.echo(format_diff(result, checks))
    kept = sum(c.overlap for c in checks) / len(checks) if checks else 1.0
    if checks and kept < min_overlap:
        raise RegressionFound(f"{judge or result.new} keeps {kept:.2f} of "
                              f"{'the judge in force' if judge else result.old}'s top hits on "
                              f"{len(checks)} logged queries (under --min-overlap "
                              f"{min_overlap}): read the queries above before adopting it")


@cli.command()
@index_option
@click.option("--queries", "recent", default=20, show_default=True,
              help="How many of the latest logged queries to tune on.")
@click.option("--deep", default=50, show_default=True, help="Candidates judged per query.")
@click.option("-k", default=10, show_default=True, help="Top hits that must survive.")
@click.option("--target", default=0.95, show_default=True,
              help="Share of the deep top-k hits the cut-off must keep.")
@click.option("--write", is_flag=True,
              help="Save the recommended cut-off to the index's settings file (INDEX.toml).")
@model_options
@json_option
def tune(index_path, recent, deep, k, target, write, model, gloss_model, backend, base_url,
         as_json) -> None:
    """Tune the prefilter cut-off (candidates) from logged queries.

    \b
    Examples:
      glossdb tune
      glossdb tune --deep 80 --write        # pin the recommended cut-off in INDEX.toml
    """
    with open_index(index_path, **model_settings(model, gloss_model, backend, base_url)) as ix:
        with progress_bars() as bars:
            report = ix.tune(recent=recent, deep=deep, k=k, target=target, progress=bars)
    saved = save_setting(index_path, "candidates", report.recommended) if write else None
    if as_json:
        echo_json({**report.to_dict(), "saved_to": str(saved) if saved else None})
        return
    click.echo(f"{report.queries} logged queries, {report.deep} candidates judged each; "
               f"share of that top {report.k} kept by a cut-off of:")
    for cutoff, recall in report.curve:
        click.echo(f"  {cutoff:>4}  {recall:.3f}")
    click.echo(f"recommended candidates = {report.recommended} (target {report.target}, "
               f"now {report.current})" + (f"; saved to {saved}" if saved else
                                          "; --write saves it"))


@cli.command()
@index_option
@model_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8700, show_default=True, help="Port to listen on.")
@click.option("--api-key", envvar="GLOSSDB_API_KEY", default=None,
              help="Require 'Authorization: Bearer KEY' on every API route "
                   "(default: $GLOSSDB_API_KEY).")
@click.option("--allowed-host", "allowed_hosts", multiple=True,
              help="Another Host header name to answer (a proxy's name); repeatable.")
@click.option("--gloss-in-background/--no-gloss-in-background", default=True,
              show_default=True, help="Write missing glosses while no request is served.")
@click.option("--train-after", type=click.IntRange(min=0), default=0, metavar="N",
              help="Train a judge version (`glossdb train`, in a child process at low CPU "
                   "priority) whenever N feedback marks came in since the last one, while "
                   "no request is served; adopted only if it does not lose (0: never).")
def serve(index_path, model, gloss_model, backend, base_url, host, port, api_key,
          allowed_hosts, gloss_in_background, train_after) -> None:
    """Serve the HTTP API and a page for inspecting glosses, judgments and explanations.

    \b
    Examples:
      glossdb serve --port 8700
      GLOSSDB_API_KEY=secret glossdb serve --allowed-host search.example.org
      glossdb serve --train-after 50      # learn from the page's relevant/not buttons
    """
    from .server import serve as run_server

    with open_index(index_path, **model_settings(model, gloss_model, backend, base_url)) as ix:
        guard = "API key required" if api_key else "no API key"
        click.echo(f"glossdb: serving {ix.store.location} at http://{host}:{port}/ ({guard}; "
                   "Ctrl-C stops)", err=True)
        run_server(ix, host=host, port=port, api_key=api_key, allowed_hosts=list(allowed_hosts),
                   gloss_in_background=gloss_in_background, train_after=train_after)


for _commands in (cli_search, cli_semantic, cli_rag, cli_train, cli_models):
    _commands.register(cli)


def main() -> None:
    cli(prog_name="glossdb")
