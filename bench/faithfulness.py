"""Issue 12: how much of what the writer says is not in the passage?

    python -m bench.faithfulness --docs 48 --threads 1

A sample of passages: the relevant abstracts of the first SciFact *train* queries (`--docs`
distinct ones), the chunks of examples/docs, and one planted instruction (bench.injection's).
Each writer variant glosses all of them (glosses are cached per version in bench/cache/, so a
re-run generates only what is missing). Per variant: the pooled share of gloss content words
absent from the passage (glossdb.faithfulness; stems compared), the share of entities (numbers,
capitalised words) absent, the share of gloss words inside 8+-word runs copied verbatim, words
per gloss, seconds per gloss, and the planted instruction's gloss. Writes
bench/results/faithfulness.json; the hand-checked sample is in bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from glossdb import Index, faithfulness
from glossdb.describe import (CHAT_SYSTEM, LEGACY_CHAT_SYSTEM, Describer, GlossSpec,
                              passage_text)

from . import gloss_cache, scifact
from .hybrid import RESULTS
from .injection import INJECTED

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "docs"

LEGACY = GlossSpec(max_tokens=48, system=LEGACY_CHAT_SYSTEM, whole_sentences=False,
                   ground_bonus=0.0, entity_penalty=0.0, flag_instructions=False,
                   finish=False)
VARIANTS = {
    "legacy (gloss-f445bb9b2b)": LEGACY,
    "prompt": replace(LEGACY, system=CHAT_SYSTEM, whole_sentences=True),
    "prompt+penalty": replace(LEGACY, system=CHAT_SYSTEM, whole_sentences=True,
                              entity_penalty=4.0),
    "prompt+bonus+penalty": replace(LEGACY, system=CHAT_SYSTEM, whole_sentences=True,
                                    ground_bonus=1.5, entity_penalty=4.0),
    "grounded 0.75": replace(LEGACY, system=CHAT_SYSTEM, whole_sentences=True,
                             ground_bonus=0.75, entity_penalty=4.0, flag_instructions=True),
    "grounded 1.5": replace(LEGACY, system=CHAT_SYSTEM, whole_sentences=True,
                            ground_bonus=1.5, entity_penalty=4.0, flag_instructions=True),
    # issue 24: the same generation, finished (no title-only gloss, none ending mid-sentence)
    "grounded 1.5, finished": replace(LEGACY, system=CHAT_SYSTEM, whole_sentences=True,
                                      ground_bonus=1.5, entity_penalty=4.0,
                                      flag_instructions=True, finish=True),
}
# This sample's own cache: its passages (relevant abstracts of test queries among them)
# must not join the collections' caches, where glossing them would favour the relevant.
CACHE = "faithfulness-"
FINISHED_FROM = {"grounded 1.5, finished": "grounded 1.5"}  # carried exactly (gloss_cache)


def _relevant(split: str, docs: int, skip: set[str]) -> list[str]:
    qrels = scifact.qrels(split)
    ids: dict[str, None] = {}
    for q in sorted(qrels, key=int):
        for d in qrels[q]:
            if len(ids) < docs and d not in skip:
                ids.setdefault(d, None)
    return list(ids)


def sample(docs: int, test_docs: int = 0) -> list[dict]:
    """The relevant abstracts of the first SciFact train queries (``docs`` of them), then
    ``test_docs`` more of the first test queries, and the planted instruction."""
    corpus = scifact.corpus()
    train = _relevant("train", docs, set())
    test = _relevant("test", test_docs, set(train)) if test_docs else []
    rows = [corpus[d] for d in train + test]
    return rows + [{"_id": "injected", "title": "Note", "text": INJECTED}]


def build(work: Path, docs: int, threads: int, test_docs: int = 0) -> Index:
    src = scifact.write_jsonl(work / "sample.jsonl", sample(docs, test_docs))
    ix = Index(work / "faith.glossdb", embedder="", threads=threads)
    ix.add([src, EXAMPLES], gloss=False)
    return ix


def gloss_all(ix: Index, spec: GlossSpec, chunks: dict | None = None
              ) -> tuple[str, dict[int, str], float | None]:
    """The variant's glosses of ``chunks`` (default: every chunk), cached ones reused, new
    ones written in batches of 16 and cached after each; also seconds per new gloss."""
    d = Describer(ix.store, ix.model("writer"), spec)
    rep = d.representation()
    chunks = chunks if chunks is not None else ix.store.get_chunks(ix.store.chunk_ids())
    by_hash = {c.content_hash: c.id for c in chunks.values()}
    cached = [(by_hash[r["content_hash"]], r["gloss"]) for r in gloss_cache.load(CACHE + rep.name)
              if r["content_hash"] in by_hash]
    ix.store.put_glosses(rep.id, cached, searchable=False)
    have = ix.store.glosses(rep.id, chunks)
    todo = [c for cid, c in chunks.items() if cid not in have]
    rate = None
    if todo:
        t = time.perf_counter()
        for start in range(0, len(todo), 16):
            d.write(todo[start:start + 16], searchable=False)
            gloss_cache.merge(CACHE + rep.name, [
                {"representation": rep.name, "content_hash": chunks[cid].content_hash,
                 "gloss": g} for cid, g in ix.store.glosses(rep.id, chunks).items()])
            print(f"{rep.name}: {min(start + 16, len(todo))}/{len(todo)} written", flush=True)
        rate = (time.perf_counter() - t) / len(todo)
    return rep.name, ix.store.glosses(rep.id, chunks), rate


def measure(chunks, glosses: dict[int, str]) -> dict:
    content = unsupported = ents = bad_ents = words = 0
    copied = []
    for cid, g in glosses.items():
        passage = passage_text(chunks[cid])
        content += len(faithfulness.content_words(g))
        unsupported += len(faithfulness.unsupported(g, passage))
        ents += len(faithfulness.entities(g))
        bad_ents += len(faithfulness.unsupported_entities(g, passage))
        words += len(faithfulness.words(g))
        copied.append(faithfulness.copied_share(g, passage))
    n = len(glosses)
    titled = [cid for cid, g in glosses.items()
              if faithfulness.title_only(g, [chunks[cid].title, chunks[cid].heading])]
    cut = [cid for cid, g in glosses.items()
           if faithfulness.ends_mid_sentence(g, chunks[cid].text)]
    return {"glosses": n, "title_only": len(titled), "cut": len(cut),
            "title_only_examples": [glosses[c] for c in titled[:3]],
            "cut_examples": [glosses[c] for c in cut[:3]],
            "unsupported_share": round(unsupported / max(content, 1), 4),
            "unsupported_entity_share": round(bad_ents / max(ents, 1), 4),
            "copied_share": round(sum(copied) / max(n, 1), 4),
            "words_per_gloss": round(words / max(n, 1), 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=48)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--test-docs", type=int, default=150,
                    help="SciFact test abstracts added to the sample (issue 24: 150)")
    ap.add_argument("--variants", nargs="*", default=list(VARIANTS))
    args = ap.parse_args()
    ix = build(Path(tempfile.mkdtemp(prefix="glossdb-faith-")), args.docs, args.threads or None,
               args.test_docs)
    chunks = ix.store.get_chunks(ix.store.chunk_ids())
    default = ix.describer().representation().name
    rows = []
    for label in args.variants:
        spec = VARIANTS[label]
        if label in FINISHED_FROM:  # the same generation finished: carried, not regenerated
            base, _, _ = gloss_all(ix, VARIANTS[FINISHED_FROM[label]])
            new = Describer(ix.store, ix.model("writer"), spec).representation().name
            gloss_cache.carry(ix, CACHE + base, CACHE + new)
        name, glosses, rate = gloss_all(ix, spec)
        planted = next(g for cid, g in glosses.items() if chunks[cid].uri.endswith("#injected"))
        row = {"representation": name, "variant": label, **measure(chunks, glosses),
               "seconds_per_gloss": round(rate, 2) if rate else None,
               "params": spec.params(ix.model("writer")), "injection_gloss": planted,
               "default": name == default}
        rows.append(row)
        print(json.dumps(row), flush=True)
    earlier = {}
    if (RESULTS / "faithfulness.json").exists():
        before = json.loads((RESULTS / "faithfulness.json").read_text())
        if before.get("passages") != len(chunks):  # a comparison on another sample: kept
            earlier = {"earlier": before.get("earlier") or {k: before[k] for k in
                       ("docs", "passages", "rows", "date") if k in before}}
    out = {"docs": args.docs, "test_docs": args.test_docs, "passages": len(chunks),
           "writer": ix.config.writer_model(), "rows": rows, "machine": scifact.machine(),
           "date": scifact.today(), **earlier}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "faithfulness.json").write_text(json.dumps(out, indent=2) + "\n")
    ix.close()


if __name__ == "__main__":
    main()
