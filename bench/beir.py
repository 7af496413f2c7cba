"""BEIR-layout collections in ../shared/data: SciFact (train and test) and Cranfield (test).

    from bench import beir
    ds = beir.dataset("cranfield")
    ds.corpus(), ds.queries(), ds.qrels("test")
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from pathlib import Path

SHARED = Path(os.environ.get("GLOSSDB_SHARED", Path(__file__).resolve().parents[1].parent
                             / "shared")) / "data"
SPLITS = {"scifact": ("train", "test"), "cranfield": ("test",)}


@dataclass(frozen=True)
class Dataset:
    name: str

    @property
    def path(self) -> Path:
        return SHARED / self.name

    def corpus(self) -> dict[str, dict]:
        with gzip.open(self.path / "corpus.jsonl.gz", "rt") as fh:
            return {d["_id"]: d for d in map(json.loads, fh)}

    def queries(self) -> dict[str, str]:
        with open(self.path / "queries.jsonl") as fh:
            return {q["_id"]: q["text"] for q in map(json.loads, fh)}

    def qrels(self, split: str) -> dict[str, dict[str, int]]:
        if split not in SPLITS[self.name]:
            raise ValueError(f"{self.name} has splits {SPLITS[self.name]}; tune nothing on "
                             "a collection without a train split")
        out: dict[str, dict[str, int]] = {}
        with open(self.path / "qrels" / f"{split}.tsv") as fh:
            next(fh)
            for line in fh:
                qid, did, score = line.split()
                out.setdefault(qid, {})[did] = int(score)
        return out


def dataset(name: str) -> Dataset:
    if name not in SPLITS:
        raise ValueError(f"unknown collection {name!r}; known: {', '.join(SPLITS)}")
    return Dataset(name)
