"""BEIR SciFact from ../shared/data/scifact: corpus, queries, qrels, and IR metrics."""

from __future__ import annotations

import gzip
import json
import math
import os
import platform
from datetime import date
from pathlib import Path

DATA = Path(os.environ.get("SCIFACT_DIR", Path(__file__).resolve().parents[1].parent
                           / "shared" / "data" / "scifact"))


def corpus() -> dict[str, dict]:
    with gzip.open(DATA / "corpus.jsonl.gz", "rt") as fh:
        return {d["_id"]: d for d in map(json.loads, fh)}


def queries() -> dict[str, str]:
    with open(DATA / "queries.jsonl") as fh:
        return {q["_id"]: q["text"] for q in map(json.loads, fh)}


def qrels(split: str) -> dict[str, dict[str, int]]:
    if split not in ("train", "test"):
        raise ValueError("split must be train or test")
    out: dict[str, dict[str, int]] = {}
    with open(DATA / "qrels" / f"{split}.tsv") as fh:
        next(fh)
        for line in fh:
            qid, did, score = line.split()
            out.setdefault(qid, {})[did] = int(score)
    return out


def ndcg_at(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], relevant: dict[str, int], k: int = 100) -> float:
    rel = {d for d, g in relevant.items() if g > 0}
    return len(rel & set(ranked[:k])) / len(rel) if rel else 0.0


def mrr_at(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    for i, d in enumerate(ranked[:k]):
        if relevant.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def machine() -> str:
    return f"{platform.machine()} {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}"


def today() -> str:
    return date.today().isoformat()


def write_jsonl(path: Path, docs: list[dict]) -> Path:
    with open(path, "w") as fh:
        for d in docs:
            fh.write(json.dumps({"_id": d["_id"], "title": d["title"], "text": d["text"]}) + "\n")
    return path


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    def cell(v):
        return f"{v:.3f}" if isinstance(v, float) else str(v)
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    return head + "".join("| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |\n" for r in rows)
