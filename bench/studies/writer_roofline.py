"""Issue 13: how close does the writer run to llama.cpp's raw prompt-processing rate?

    python -m bench.studies.writer_roofline --chunks 32 --rounds 2

The writer glosses `--chunks` SciFact abstracts in its batches of 16 (the default gloss spec,
greedy, the embedded writer model). The roofline is the same model evaluating the same tokens
(each prompt followed by the gloss it produced) as plain prompt processing: one decode call
per batch over every token, logits for the last token only. The writer's rate is those tokens
over its wall time. Rounds alternate writer and roofline so each ratio compares runs seconds
apart (this VM drifts); the median ratio is reported and stored as `writer_vs_roofline` in
bench/results/ingest.json (the rest of that file is bench.ingest's).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from glossdb import Index

from .. import scifact
from ..hybrid import RESULTS


def prompt_tokens(model, spec, chunks) -> list[list[int]]:
    out = []
    for c in chunks:
        r = spec.request(model, c)
        text = model.chat_prompt(r.system, r.prompt) if r.system is not None else r.prompt
        out.append(model.tokenize(text, add_special=True))
    return out


def roofline(model, sequences: list[list[int]], batch: int) -> float:
    """Seconds to evaluate these token sequences as prompts, ``batch`` sequences at a time."""
    started = time.perf_counter()
    for start in range(0, len(sequences), batch):
        model._clear()
        n = 0
        for seq, toks in enumerate(sequences[start:start + batch]):
            for pos, tok in enumerate(toks):
                model._add(n, tok, pos, seq, pos == len(toks) - 1)
                n += 1
        model._decode(n)
    model._clear()
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunks", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="glossdb-roof-"))
    docs = list(scifact.corpus().values())[: args.chunks]
    ix = Index(work / "roof.glossdb", embedder="")
    ix.add([scifact.write_jsonl(work / "docs.jsonl", docs)], gloss=False)
    chunks = list(ix.store.get_chunks(ix.store.chunk_ids()).values())[: args.chunks]
    writer = ix.describer()
    model, spec = writer.model, writer.spec
    batch = min(model.max_batch, 16)
    prompts = prompt_tokens(model, spec, chunks)
    rounds = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        glosses = []
        for start in range(0, len(chunks), batch):
            part = chunks[start:start + batch]
            glosses += model.generate([spec.request(model, c) for c in part])
        writer_s = time.perf_counter() - started
        made = [model.tokenize(g) for g in glosses]
        seqs = [p + m for p, m in zip(prompts, made)]
        tokens = sum(map(len, seqs))
        roof_s = roofline(model, seqs, batch)
        rounds.append({"tokens": tokens, "generated": sum(map(len, made)),
                       "writer_tokens_per_s": round(tokens / writer_s, 1),
                       "roofline_tokens_per_s": round(tokens / roof_s, 1),
                       "ratio": round(roof_s / writer_s, 3),
                       "s_per_gloss": round(writer_s / len(chunks), 3)})
        print(rounds[-1], flush=True)
    ratio = round(statistics.median(r["ratio"] for r in rounds), 3)
    s_per_gloss = statistics.median(r["s_per_gloss"] for r in rounds)
    out = {"chunks": len(chunks), "batch": batch, "model": model.model_id, "rounds": rounds,
           "writer_vs_roofline": ratio, "machine": scifact.machine(), "date": scifact.today()}
    print(json.dumps(out, indent=2))
    path = RESULTS / "ingest.json"
    ingest = json.loads(path.read_text()) if path.exists() else {}
    ingest["writer_vs_roofline"] = ratio
    ingest["writer_roofline"] = out
    if "chunks" in ingest:  # the whole corpus at this run's rate (bench.ingest's gloss_s is older)
        ingest["gloss_s_at_roofline_run_rate"] = round(ingest["chunks"] * s_per_gloss)
    path.write_text(json.dumps(ingest, indent=2) + "\n")
    ix.close()


if __name__ == "__main__":
    main()
