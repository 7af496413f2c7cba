"""``glossdb feedback`` and ``glossdb train``: marks on hits, and judge versions trained from
them, from labels and from the corpus (thin adapters over glossdb.training)."""

from __future__ import annotations

import sys

import click

from .cli_base import echo_json, index_option, json_option, open_index
from .index import validate_query
from .train.lora import OBJECTIVES, TrainSpec
from .training import chunk_labels, read_beir


@click.command()
@click.argument("query")
@click.argument("chunk_id", type=int)
@click.option("--relevant/--not-relevant", default=True, show_default=True,
              help="Whether the chunk answers the query.")
@index_option
@json_option
def feedback(query, chunk_id, relevant, index_path, as_json) -> None:
    """Mark chunk CHUNK_ID as relevant (or not) to QUERY; `glossdb train` learns from marks.

    \b
    Examples:
      glossdb feedback "vitamin D and fractures" 42
      glossdb feedback "vitamin D and fractures" 17 --not-relevant
    """
    with open_index(index_path) as ix:
        row = ix.feedback(validate_query(query), chunk_id, relevant, source="cli")
    if as_json:
        echo_json(row)
        return
    click.echo(f"chunk {chunk_id} marked {'relevant' if relevant else 'not relevant'} "
               f"to {query!r}")


@click.command()
@index_option
@click.option("--qrels", type=click.Path(exists=True, dir_okay=False),
              help="Labels: a BEIR qrels TSV (query-id, corpus-id, score); needs --queries.")
@click.option("--queries", type=click.Path(exists=True, dir_okay=False),
              help="The labeled queries: BEIR queries.jsonl ({_id, text}).")
@click.option("--feedback/--no-feedback", "use_feedback", default=True, show_default=True,
              help="Learn from the index's feedback marks.")
@click.option("--corpus", type=click.IntRange(min=0), default=0,
              help="Also self-supervised queries from N chunks (a held-out sentence, or a "
                   "title, as the query); the default source (2,000) when there are no labels.")
@click.option("--questions", type=click.IntRange(min=0), default=0,
              help="Also self-supervised queries the writer model asks of N chunks (one "
                   "question each; about a second a chunk on a CPU; kept in the index, so "
                   "a chunk is asked once).")
@click.option("--epochs", type=float, default=1.0, show_default=True)
@click.option("--objective", type=click.Choice(OBJECTIVES), default=TrainSpec.objective,
              show_default=True,
              help="pointwise: each pair's yes/no alone; listwise: also a query's candidates "
                   "against each other (the README's training section measures both).")
@click.option("--adopt/--no-adopt", default=True, show_default=True,
              help="Adopt the new judge when it does not lose on held-out queries.")
@json_option
def train(index_path, qrels, queries, use_feedback, corpus, questions, epochs, objective,
          adopt, as_json) -> None:
    """Train a judge version from labels, feedback and the corpus; adopt it if it wins.

    Needs the train extra (pip install 'glossdb[train]': torch, about 6 GB). A search
    never imports torch: the trained judge is a GGUF adapter beside the index, with the
    judge model it is folded into (about 290 MB, kept only for an adopted version). Every
    5th labeled query is held out: the new version is adopted only if it ranks them no
    worse, with the fusion weight and depth (the one in force, or 15) that ranked them best.

    \b
    Examples:
      glossdb train                                  # from feedback (or the corpus)
      glossdb train --qrels qrels/train.tsv --queries queries.jsonl
      glossdb train --corpus 3000 --no-adopt --json
      glossdb train --questions 600                  # questions the writer asks
    """
    if bool(qrels) != bool(queries):
        raise click.UsageError("--qrels and --queries go together")
    with open_index(index_path) as ix:
        labels = chunk_labels(ix.store, read_beir(qrels, queries)) if qrels else None

        tty = sys.stderr.isatty()

        def progress(step, steps, loss):  # a line every 50 steps when stderr is no terminal
            if tty or step == steps or step % 50 == 0:
                lead = "\r" if tty else ""
                click.echo(f"{lead}training: step {step}/{steps}, loss {loss:.3f}", err=True,
                           nl=not tty or step == steps)

        click.echo("glossdb: building training pairs, then training (minutes on a CPU)…",
                   err=True)
        written = [0]

        def asked(n):  # the writer's questions, as they come
            written[0] += n
            lead = "\r" if tty else ""
            click.echo(f"{lead}questions: {written[0]} asked (of at most {questions} chunks; "
                       "stored ones are not asked again)", err=True,
                       nl=not tty)

        result = ix.train(labels, use_feedback=use_feedback, corpus=corpus, questions=questions,
                          asked=asked,
                          spec=TrainSpec(epochs=epochs, objective=objective), adopt=adopt,
                          progress=progress)
    if as_json:
        echo_json(result.to_dict())
        return
    pairs = ", ".join(f"{n} from {s}" for s, n in result.pairs.items())
    tried = ", ".join(f"{t['candidates']}/{t['fusion_weight']:g}: {t['ndcg@10']:.4f}"
                      for t in result.tried)
    click.echo(f"judge {result.judge_version}: {result.adapter}\n"
               f"trained on {pairs} in {result.train_s:.0f} s "
               f"({result.s_per_1000_pairs:.0f} s per 1,000 pairs)\n"
               + (f"best on the held-out queries: {result.candidates} candidates, fusion "
                  f"weight {result.fusion_weight:g} (nDCG@10 by candidates/weight: "
                  f"{tried})\n" if result.fusion_weight is not None else "")
               + result.reason)


def register(group: click.Group) -> None:
    group.add_command(feedback)
    group.add_command(train)
