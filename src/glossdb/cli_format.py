"""How the CLI prints things for people: one place, no Python reprs."""

from __future__ import annotations

import csv
import io
from typing import Any

from .errors import InvalidQuery
from .results import Hit


def prefilter_place(rank: int | None, lexical: int | None, vector: int | None) -> str:
    """'prefilter #3 (lexical #2, vector #5)': where a candidate came from."""
    parts = [f"lexical #{lexical}" if lexical else "", f"vector #{vector}" if vector else ""]
    origin = ", ".join(p for p in parts if p)
    return f"prefilter #{rank}" + (f" ({origin})" if origin else "")


def format_hit(hit: Hit, show_text: bool, signals: bool = False) -> str:
    where = hit.title or hit.uri
    if hit.heading and hit.heading != hit.title:
        where += f" — {hit.heading}"
    place = prefilter_place(hit.prefilter_rank, hit.lexical_rank, hit.vector_rank)
    lines = [f"{hit.rank}. [{hit.chunk_id}] {where}",
             f"   score={hit.score:.3f} ({hit.verdict}; judge {hit.judge_score:.3f}, "
             f"lift {hit.lift:+.2f}; {place})",
             f"   gloss: {hit.gloss or '(none yet)'}"]
    if hit.explanation:
        lines.append(f"   why:   {hit.explanation}")
    if signals and hit.signals:
        parts = ", ".join(f"{name} {value:+.2f}" for name, value in hit.signals.items())
        lines.append(f"   fused: {parts}")
    if show_text:
        snippet = " ".join(hit.text.split())
        lines.append(f"   text:  {snippet[:300]}{'…' if len(snippet) > 300 else ''}")
    lines.append(f"   from:  {hit.uri}")
    return "\n".join(lines)


def format_trace(trace) -> str:
    """The pipeline's stages for one search, one line: what each did and how long."""
    steps = []
    for t in trace:
        d = t.detail
        what = {"candidates": lambda: f"{d['found']} of depth {d['depth']}",
                "judge": lambda: f"{d['judged']} judged, {d['cached']} cached ({d['version']})",
                "fuse": lambda: " + ".join(f"{w:g}*{n}" for n, w in d["signals"].items()),
                }.get(t.stage, lambda: "")()
        steps.append(f"{t.stage} {what} {t.seconds:.2f} s".replace("  ", " "))
    return "pipeline: " + " -> ".join(steps)


def format_duration(seconds: float) -> str:
    """'2 h 05 min', '3 min', '40 s'."""
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    return f"{seconds // 60} min" if seconds >= 60 else f"{seconds} s"


def describe_cutoff(cut: dict[str, Any]) -> str:
    """'12, adapted from usage: 6 exploring searches, 14 matches, keeps 95 % of them'."""
    if cut["source"] == "pinned":
        return f"{cut['depth']}, pinned by the candidates setting"
    if cut["source"] == "default":
        return (f"{cut['depth']}, the default until the query log has evidence "
                f"({cut['queries']} exploring searches with matches so far)")
    return (f"{cut['depth']}, adapted from usage: {cut['queries']} exploring searches, "
            f"{cut['matches']} matches, keeps {100 * cut['recall']:.0f} % of them")


def format_stats(data: dict[str, Any]) -> list[str]:
    """``glossdb stats`` for people: counts, versions with progress, judges, searches."""
    lines = [f"index: {data['path']}",
             "counts: " + ", ".join(f"{data[k]} {k}" for k in
                                    ("documents", "chunks", "glosses", "judgments"))]
    for rep in data["representations"]:
        eta = (f", about {format_duration(rep['eta_seconds'])} to go"
               if rep["pending"] and rep["eta_seconds"] is not None else "")
        lines.append(f"representation {rep['name']}: {rep['glosses']} of {rep['chunks']} "
                     f"chunks glossed by {rep['model']}{eta}")
    pinned = data.get("pinned_representation")
    lines.append(f"search reads: {pinned} (pinned by `glossdb use`)" if pinned else
                 "search reads: the configured writer's own version")
    if not data["representations"]:
        lines.append(f"glosses: 0 of {data['chunks']} chunks (none written yet; "
                     "`glossdb gloss` writes them)")
    for srv in data.get("servers", []):
        lines.append(f"server {srv['url']} ({srv['model']}): {srv['requests']} requests, "
                     f"{srv['errors']} errors, {srv['cached_tokens']} of {srv['prompt_tokens']} "
                     f"prompt tokens cached" + (", resting" if srv["resting"] else ""))
    for emb in data["vectors"]:
        lines.append(f"vectors {emb['name']}: {emb['vectors']} of {data['chunks']} chunks")
    for j in data["judges"]:
        lines.append(f"judge {j['name']}: {j['judgments']} judgments ({j['model']}, {j['method']})")
    s = data["searches"]
    if s["searches"]:
        lines.append(f"searches: {s['searches']} logged, median {s['p50_seconds']:.2f} s, "
                     f"{s['prompt_tokens']} prompt tokens ({s['prefix_cached_tokens']} from a "
                     "prefix cache)")
    else:
        lines.append("searches: none logged yet")
    lines.append(f"candidates: {describe_cutoff(data['candidates'])}")
    shown = {"path", "documents", "chunks", "glosses", "judgments", "query_log",
             "representations", "vectors", "judges", "searches", "candidates",
             "servers", "pinned_representation"}
    for key, value in data.items():
        if key not in shown:
            lines.append(f"{key}: {'-' if value in (None, '') else value}")
    return lines


def format_diff(result, checks) -> str:
    """`glossdb diff`: the changed glosses, then the regression check's figures."""
    if result is None:  # --judge: the judge in force against a trained one
        lines = ["the judge in force -> the trained judge (same glosses)"]
    else:
        lines = [f"{result.old} -> {result.new}: {result.changed} changed, {result.same} same, "
                 f"{result.only_new} only in new, {result.only_old} only in old"]
        lines += [f"\nchunk {c.chunk_id} ({c.uri})\n  {c.diff}" for c in result.changes]
    if checks:
        kept = sum(c.overlap for c in checks) / len(checks)
        moved = sum(not c.same_top1 for c in checks)
        lines.append(f"\nregression check on {len(checks)} logged queries "
                     f"({checks[0].candidates} candidates each): mean top-k overlap "
                     f"{kept:.2f}, top hit changed for {moved}")
        lines += [f"  {c.overlap:.2f}  {c.query}" + ("" if c.same_top1 else
                                                     "  <- top hit changed") for c in checks]
    return "\n".join(lines)


def format_rows(columns: list[str], rows: list[tuple], fmt: str | None) -> str:
    """Rows of ``glossdb sql``: tab-separated (None as empty), ``csv``/``tsv`` with the
    csv module's quoting, or any tabulate table format (``simple`` for ``--table``)."""
    if fmt in ("csv", "tsv"):
        out = io.StringIO()
        writer = csv.writer(out, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        return out.getvalue()
    if fmt:
        import tabulate

        if fmt not in tabulate.tabulate_formats:
            raise InvalidQuery(f"--fmt {fmt} is not a table format: use one of "
                               + ", ".join(sorted(tabulate.tabulate_formats)))
        return tabulate.tabulate(rows, headers=columns, tablefmt=fmt) + "\n"
    lines = ["\t".join(columns)] + ["\t".join("" if v is None else str(v) for v in r)
                                     for r in rows]
    return "\n".join(lines) + "\n"
