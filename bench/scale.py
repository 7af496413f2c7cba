"""Issue 16: workers sharing one PostgreSQL index through a pool of two llama.cpp servers,
and PostgreSQL's full text as the prefilter beside FTS5 on SciFact.

    python -m bench.scale --chunks 32                 # both parts (bench/results/scale.json)
    python -m bench.scale --part quality              # the SciFact part only, no servers
    python -m bench.scale --part size --size 100000   # full-text search time at 100k chunks

Workers: a throw-away PostgreSQL cluster (tests/pgcluster.py) holds an index of the first
``--chunks`` SciFact abstracts, added without glosses; two `llama_cpp.server` processes serve
the writer on loopback, one pool (``base_url`` with both URLs). Each round clears the
glosses, then runs 1 or 2 `glossdb gloss` processes at once and times them; each prints the
glosses it wrote, so a chunk glossed twice would show as a sum above the chunk count. The
kill round starts two workers and SIGKILLs one as soon as it holds a claim: the other must
take its claims over and finish, with every chunk glossed once and none lost. On two cores
the servers already use both, so two workers cannot be faster than one: the point here is
correctness under concurrency; the speed-up needs more machines.

Quality: SciFact with PostgreSQL's `ts_rank_cd` as the lexical list, beside FTS5's BM25, on
the same chunks: the normalization is chosen on train, nDCG@10 and recall@10 reported on
test, lexical alone and fused with the same internal vectors (copied from the SQLite index).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from glossdb import Index
from glossdb.backends.local_server import start_llama_cpp_server
from glossdb.models import DEFAULT_WRITER
from glossdb.prefilter import Prefilter, search_terms
from glossdb.store.vectors import VectorStore
from tests.pgcluster import Cluster

from . import beir, corpus_index, scifact
from .hybrid import doc_of

RESULTS = Path(__file__).resolve().parent / "results"
NORMS = (0, 1, 2, 4, 8, 32)  # ts_rank_cd's normalization flags tried on train
TS_RANK_SQL = (  # PostgreSQL's own ranking, for comparison with the store's BM25
    "SELECT f.rowid, ts_rank_cd(f.tsv, q, {norm}) AS score"
    " FROM chunk_fts f, to_tsquery('english', ?) q WHERE f.tsv @@ q"
    " ORDER BY score DESC, f.rowid LIMIT ?"
)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# workers ------------------------------------------------------------------------------------
def worker(url: str, env: dict) -> subprocess.Popen:
    code = f"from glossdb import Index; print(Index({url!r}).gloss(), flush=True)"
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen) -> int:
    out, err = proc.communicate(timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"a worker failed: {err.strip()[-500:]}")
    return int(out.strip().splitlines()[-1])


def gloss_round(ix: Index, url: str, env: dict, workers: int) -> dict:
    ix.store.db.execute("DELETE FROM glosses")
    t = time.perf_counter()
    written = [finish(p) for p in [worker(url, env) for _ in range(workers)]]
    seconds = time.perf_counter() - t
    counts = ix.store.counts()
    return {"workers": workers, "chunks": counts["chunks"], "glosses": counts["glosses"],
            "written_per_worker": written, "duplicates": sum(written) - counts["glosses"],
            "lost": counts["chunks"] - counts["glosses"], "seconds": round(seconds, 1),
            "glosses_per_s": round(counts["glosses"] / seconds, 3)}


def kill_round(ix: Index, url: str, env: dict) -> dict:
    ix.store.db.execute("DELETE FROM glosses")
    victim, survivor = worker(url, env), worker(url, env)
    claimed = "SELECT count(DISTINCT owner) FROM gloss_claims"
    deadline = time.monotonic() + 600
    while ix.store.db.execute(claimed).fetchone()[0] < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    held = ix.store.db.execute("SELECT count(*) FROM gloss_claims").fetchone()[0]
    before = ix.store.counts()["glosses"]
    written = finish(survivor)
    counts = ix.store.counts()
    left = ix.store.db.execute("SELECT count(*) FROM gloss_claims").fetchone()[0]
    return {"workers": 2, "killed": 1, "claims_held_at_kill": held,
            "glosses_before_survivor_finished": before, "survivor_written": written,
            "chunks": counts["chunks"], "glosses": counts["glosses"],
            "lost": counts["chunks"] - counts["glosses"], "claims_left": left}


def workers_part(pg: Cluster, chunks: int) -> dict:
    docs = list(beir.dataset("scifact").corpus().values())[:chunks]
    src = scifact.write_jsonl(Path(tempfile.mkdtemp()) / "docs.jsonl", docs)
    url = pg.database("scale")
    servers = [start_llama_cpp_server(DEFAULT_WRITER, free_port(), n_ctx=2048)
               for _ in range(2)]
    env = {**os.environ, "GLOSSDB_BACKEND": "openai", "GLOSSDB_EMBEDDER": "",
           "GLOSSDB_BASE_URL": ", ".join(u for _, u in servers), "GLOSSDB_TIMEOUT_S": "600"}
    try:
        ix = Index(url, backend="openai", embedder="", base_url=env["GLOSSDB_BASE_URL"])
        ix.add([src], gloss=False)
        rounds = [gloss_round(ix, url, env, n) for n in (1, 2)]
        rounds.append(kill_round(ix, url, env))
        ix.close()
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(timeout=60)
    one, two = rounds[0]["glosses_per_s"], rounds[1]["glosses_per_s"]
    return {"servers": 2, "writer": DEFAULT_WRITER, "rounds": rounds,
            "two_workers_vs_one": round(two / one, 3)}


# quality ------------------------------------------------------------------------------------
def pg_lexical(store, query: str, limit: int, norm: int | None) -> list[int]:
    """The store's BM25 (``norm`` None), or ts_rank_cd with that normalization."""
    if norm is None:
        return [cid for cid, _ in store.fts_search(search_terms(query), limit)]
    terms = " | ".join("'" + t.replace("'", "''") + "'" for t in search_terms(query))
    rows = store.db.execute(TS_RANK_SQL.format(norm=norm), (terms, limit))
    return [r[0] for r in rows]


def measure(runs: dict[str, list[int]], doc: dict[int, str], qrels: dict) -> dict:
    nd, rec = [], []
    for qid, ids in runs.items():
        docs = list(dict.fromkeys(doc[c] for c in ids))
        nd.append(scifact.ndcg_at(docs, qrels[qid]))
        rel = [d for d, g in qrels[qid].items() if g > 0]
        rec.append(sum(d in docs[:10] for d in rel) / max(1, len(rel)))
    return {"ndcg@10": round(statistics.fmean(nd), 4),
            "recall@10": round(statistics.fmean(rec), 4)}


def pg_index(pg: Cluster, lite: Index) -> tuple[Index, dict[int, int]]:
    """The SciFact chunks in PostgreSQL, with the SQLite index's vectors copied over; the
    map of SQLite chunk ids to PostgreSQL ones."""
    url = pg.database("scifact")
    ix = Index(url, embedder="")
    ix.add([corpus_index.RAW / "scifact.jsonl"], gloss=False)
    ours = {(c.uri, c.ordinal): cid
            for cid, c in ix.store.get_chunks(ix.store.chunk_ids()).items()}
    theirs = lite.store.get_chunks(lite.store.chunk_ids())
    to_pg = {cid: ours[(c.uri, c.ordinal)] for cid, c in theirs.items()}
    pre = lite.prefilter
    ids, mat = pre.vectors.matrix(pre.version)
    vectors = VectorStore(ix.store)
    version = vectors.ensure_embedder(pre.version.model_id, pre.version.dim)
    vectors.put(version.id, [to_pg[int(i)] for i in ids], mat)
    return ix, to_pg


def quality_part(pg: Cluster) -> dict:
    lite, _ = corpus_index.open_index("scifact")
    ds = beir.dataset("scifact")
    texts = ds.queries()
    t = time.perf_counter()
    ix, to_pg = pg_index(pg, lite)
    load_s = time.perf_counter() - t
    doc_lite = {cid: doc_of(c.uri)
                for cid, c in lite.store.get_chunks(lite.store.chunk_ids()).items()}
    doc_pg = {to_pg[c]: d for c, d in doc_lite.items()}
    splits = {"train": ds.qrels("train"), "test": ds.qrels("test")}

    def row(split: str, system: str, search, doc: dict) -> dict:
        qrels = splits[split]
        t = time.perf_counter()
        runs = {q: search(texts[q]) for q in qrels}
        seconds = (time.perf_counter() - t) / len(qrels)
        return {"split": split, "system": system, **measure(runs, doc, qrels),
                "s_per_query": round(seconds, 4)}

    def fts5(query: str) -> list[int]:
        return [c for c, _ in lite.store.fts_search(search_terms(query), 10)]

    rows = [row("train", f"PostgreSQL ts_rank_cd (normalization {n})",
                lambda q, n=n: pg_lexical(ix.store, q, 10, n), doc_pg) for n in NORMS]
    best = max(NORMS, key=lambda n: rows[NORMS.index(n)]["ndcg@10"])
    vectors = VectorStore(ix.store)
    hybrid_pg = Prefilter(ix.store, vectors, lite.prefilter.embedder,
                          vectors.version_with_vectors(lite.prefilter.version.model_id))
    for split in ("train", "test"):
        rows.append(row(split, "SQLite FTS5 BM25", fts5, doc_lite))
        rows.append(row(split, "PostgreSQL BM25 over tsvector (the store's)",
                        lambda q: pg_lexical(ix.store, q, 10, None), doc_pg))
    rows.append(row("test", f"PostgreSQL ts_rank_cd (normalization {best}, best on train)",
                    lambda q: pg_lexical(ix.store, q, 10, best), doc_pg))
    prefilters = (("SQLite FTS5 + vectors, RRF (glossdb prefilter)", lite.prefilter, doc_lite),
                  ("PostgreSQL BM25 + vectors, RRF (glossdb prefilter)", hybrid_pg, doc_pg))
    for name, pre, doc in prefilters:
        rows.append(row("test", name,
                        lambda q, pre=pre: [c.chunk_id for c in pre.candidates(q, 10)], doc))
    ix.close()
    return {"pg_load_s": round(load_s, 1), "rows": rows}


# full text at size -------------------------------------------------------------------------
def size_part(pg: Cluster, n: int, queries: int = 100) -> dict:
    """Full-text search time at ``n`` chunks in both stores: SciFact's chunk texts, cycled
    (so term statistics stay realistic), added through the stores' own insert path;
    ``queries`` SciFact test queries, each store's top 100 (the prefilter's pool)."""
    from glossdb.store import ChunkDraft, SQLiteStore, open_store

    lite, _ = corpus_index.open_index("scifact")
    texts = [c.text for c in lite.store.get_chunks(lite.store.chunk_ids()).values()]
    ds = beir.dataset("scifact")
    asked = [ds.queries()[q] for q in list(ds.qrels("test"))[:queries]]
    stores = {"SQLite FTS5": SQLiteStore(Path(tempfile.mkdtemp()) / "size.glossdb"),
              "PostgreSQL BM25": open_store(pg.database("size"))}
    out = {"chunks": n, "queries": len(asked)}
    for name, store in stores.items():
        t = time.perf_counter()
        for doc, start in enumerate(range(0, n, 500)):
            drafts = [ChunkDraft(f"{texts[i % len(texts)]} ({i})", 0, 1)
                      for i in range(start, min(n, start + 500))]
            with store.transaction():
                store.replace_chunks(store.upsert_document(f"d{doc}", None, "-", {}), drafts)
        insert_s = time.perf_counter() - t
        times = []
        for query in asked:
            t = time.perf_counter()
            store.fts_search(search_terms(query), 100)
            times.append(time.perf_counter() - t)
        out[name] = {"insert_s_per_chunk": round(insert_s / n, 5),
                     "p50_s": round(statistics.median(times), 4),
                     "p90_s": round(sorted(times)[int(0.9 * (len(times) - 1))], 4)}
        store.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunks", type=int, default=32)
    ap.add_argument("--part", choices=["all", "workers", "quality", "size"], default="all")
    ap.add_argument("--size", type=int, default=100_000, help="chunks for --part size")
    args = ap.parse_args()
    out = RESULTS / "scale.json"
    result = json.loads(out.read_text()) if out.exists() else {}
    with Cluster() as pg:
        import psycopg

        with psycopg.connect(pg.url()) as conn:
            result["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
        if args.part in ("all", "quality"):
            result["quality"] = quality_part(pg)
            print(scifact.markdown_table(result["quality"]["rows"],
                                         list(result["quality"]["rows"][0])))
        if args.part in ("all", "size"):
            result["size"] = size_part(pg, args.size)
            print(json.dumps(result["size"], indent=2))
        if args.part in ("all", "workers"):
            result["workers"] = workers_part(pg, args.chunks)
            print(json.dumps(result["workers"], indent=2))
    result.update(machine=scifact.machine(), date=scifact.today())
    RESULTS.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
