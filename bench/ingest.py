"""Issue 13: how soon search works after `add`, on the whole SciFact corpus.

    python -m bench.ingest

Times `glossdb add corpus.jsonl --gloss later` (load, chunk, full-text index, internal
vectors; no glosses) on a fresh index, then the first search (cold: models load, judgments
computed), and sets both against the time glossing every chunk takes at the writer's
measured rate (bench/cache/timing-*.json: seconds the writer spent on the cached glosses).
Writes bench/results/ingest.json.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from glossdb import Index

from . import beir, gloss_cache, scifact
from .hybrid import RESULTS


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="glossdb-ingest-"))
    src = scifact.write_jsonl(work / "corpus.jsonl", list(beir.dataset("scifact").corpus().values()))
    t = time.perf_counter()
    ix = Index(work / "scifact.glossdb")
    report = ix.add([src], gloss=False)
    add_s = time.perf_counter() - t
    query = next(iter(scifact.queries().values()))
    t = time.perf_counter()
    hits = ix.search(query, k=10)
    first_search_s = time.perf_counter() - t
    chunks = ix.store.counts()["chunks"]
    rep = ix.representation().name
    ix.close()
    per_gloss = gloss_cache.seconds_per_gloss(rep)
    gloss_s = chunks * per_gloss
    out = {"chunks": chunks, "documents": report.documents_new, "add_s": round(add_s, 1),
           "first_search_s": round(first_search_s, 2), "first_search_hits": len(hits),
           "gloss_s": round(gloss_s), "gloss_s_source": f"measured rate: {per_gloss:.2f} s per "
           "gloss over the cached glosses (bench/cache/timing-*.json), times the chunks",
           "ready_share_of_gloss_time": round((add_s + first_search_s) / gloss_s, 4),
           "machine": scifact.machine(), "date": scifact.today()}
    print(json.dumps(out, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ingest.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
