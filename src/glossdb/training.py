"""``glossdb train``: a new judge version from the index's labels, feedback and text, adopted
only when it does not lose on held-out queries.

The flow: gather labeled queries (given qrels and the ``feedback`` rows) and set every 5th
aside; build training pairs from the rest (glossdb.train.pairs), plus self-supervised pairs
from the corpus when asked (a held-out sentence of a chunk, or a question the writer model
asks of it), or when there are no labels at all (then every 5th corpus query is held out
instead); train a LoRA adapter (glossdb.train.lora, the ``train`` extra); rank
the held-out queries' candidates with the judge in force and with the new one, choose the
new one's fusion weight and depth on them (its judgments of those candidates, re-fused at
each weight of ``FUSION_WEIGHTS``, at the depth in force and at each deeper one of
``SEARCH_DEPTHS``: only the deeper candidates are judged again), and adopt it
(``judge_method = "relevance"``, ``judge_adapter`` and ``fusion_weight`` in the index's
settings, and ``candidates`` when a deeper depth won) only when its mean nDCG@10 there is not
lower. (The settings are chosen on the queries that check them, so the check flatters the
new version by whatever picking the best of ten settings gains on the same queries: not
measured; bench.judge_train measures on queries kept apart.) The adapter is also folded into
the model (glossdb.train.merge): a search loads that one file, in a third less time. The
adapter is a GGUF file beside the index; its hash is part of the judge version, so
judgments are cached per version and ``glossdb diff``/``stats`` tell versions apart.
"""

from __future__ import annotations

import csv
import json
import math
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from .calibration import fit as fit_calibration
from .config import save_setting
from .models import cache_dir, resolve_model
from .store import is_url
from .train.export import calibration_path, merged_paths
from .errors import ConfigError
from .store.feedback import feedback_labels

if TYPE_CHECKING:
    from .index import Index
    from .pipeline import Pipeline

Labels = Mapping[str, Mapping[int, int]]
# fusion weights a new judge version is tried at (the prefilter's evidence beside it); on
# SciFact dev the two-epoch listwise judge ranks best at 1, the one-epoch one at 1.5-2
FUSION_WEIGHTS = (0.5, 1.0, 1.5, 2.0, 3.0)
# depths it is tried at beside the one in force (deeper ones only): on SciFact dev the
# two-epoch judge ranks 1.3 points higher at 15 candidates than at 10 (weight 1); on SciFact
# test a search at 15 took 1.56x as long as at 10 (adapter applied; bench/README.md)
SEARCH_DEPTHS = (15,)


def ndcg(ranked: list[int], grades: Mapping[int, int], k: int = 10) -> float:
    """nDCG@k of chunk ids against graded labels (grade 0: not relevant)."""
    dcg = sum(grades.get(c, 0) / math.log2(i + 2) for i, c in enumerate(ranked[:k]))
    ideal = sorted((g for g in grades.values() if g > 0), reverse=True)[:k]
    best = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / best if best else 0.0


def read_beir(qrels: str | Path, queries: str | Path) -> dict[str, dict[str, int]]:
    """{query text: {document id: grade}} from a BEIR qrels TSV (query-id, corpus-id, score,
    with or without its header) and queries JSONL ({_id, text})."""
    texts = {}
    for n, line in enumerate(Path(queries).read_text().splitlines(), start=1):
        try:
            row = json.loads(line) if line.strip() else None
            if row is not None:
                texts[str(row["_id"])] = row["text"]
        except (ValueError, KeyError, TypeError):
            raise ConfigError(f"{queries}:{n} is not a BEIR query ({{\"_id\": …, \"text\": …}})") from None
    out: dict[str, dict[str, int]] = {}
    with open(qrels, newline="") as fh:
        for n, cells in enumerate(csv.reader(fh, delimiter="\t"), start=1):
            if n == 1 and cells and not cells[-1].strip().lstrip("-").isdigit():
                continue  # the header
            try:
                qid, doc, grade = cells[0], cells[-2], int(cells[-1])
            except (IndexError, ValueError):
                raise ConfigError(f"{qrels}:{n} is not a qrels line (query-id, corpus-id, "
                                  "score, tab-separated)") from None
            if qid in texts:
                out.setdefault(texts[qid], {})[doc] = grade
    if not out:
        raise ConfigError(f"no labeled query of {queries} is in {qrels}: are they one "
                          "collection's files (query-id, corpus-id, score)?")
    return out


def document_keys(uri: str) -> set[str]:
    """The ids a labels file may use for a chunk's document: the part after ``#`` (a JSONL
    record's id), the file name, and the name without its suffix."""
    keys = {uri}
    if "#" in uri:
        keys.add(uri.rsplit("#", 1)[1])
        uri = uri.rsplit("#", 1)[0]
    name = uri.replace("\\", "/").rsplit("/", 1)[-1]
    return keys | {name, name.rsplit(".", 1)[0]}


def chunk_labels(store, doc_labels: Mapping[str, Mapping[str, int]]) -> dict[str, dict[int, int]]:
    """{query: {document id: grade}} (BEIR qrels) as {query: {chunk id: grade}}, every chunk
    of a labeled document taking its grade."""
    wanted = {d for m in doc_labels.values() for d in m}
    chunks_of: dict[str, list[int]] = {}
    for cid, uri in store.db.execute(
            "SELECT c.id, d.uri FROM chunks c JOIN documents d ON d.id = c.document_id"):
        for key in document_keys(uri) & wanted:
            chunks_of.setdefault(key, []).append(cid)
    if wanted and not chunks_of:
        raise ConfigError("no labeled document is in the index: the qrels' corpus ids must "
                          "be the documents' file names or their JSONL ids")
    return {q: {cid: g for d, g in m.items() for cid in chunks_of.get(d, [])}
            for q, m in doc_labels.items()}


def split_queries(labels: Labels, every: int = 5) -> tuple[dict, dict]:
    """(training labels, held-out labels): every ``every``-th query, in sorted order, is held
    out; fewer than ``every`` labeled queries hold none out."""
    ordered = sorted(labels)
    held = set(ordered[::every]) if len(ordered) >= every else set()
    return ({q: labels[q] for q in ordered if q not in held},
            {q: labels[q] for q in ordered if q in held})


@dataclass
class JudgeComparison:
    queries: int
    old_ndcg: float
    new_ndcg: float
    per_query: list[dict] = field(default_factory=list)
    pairs: list[dict] = field(default_factory=list)  # the new judge's, for its calibration
    fusion_weight: float | None = None  # the new judge's, when chosen (choose_settings)
    candidates: int | None = None  # the depth it was chosen at
    tried: list[dict] = field(default_factory=list)  # its nDCG at each depth and weight

    @property
    def loses(self) -> bool:
        return self.new_ndcg < self.old_ndcg


def compare_judges(old: "Pipeline", new: "Pipeline", labels: Labels, depth: int,
                   k: int = 10) -> JudgeComparison:
    """Mean nDCG@k of both pipelines over the same candidates of each labeled query; the
    new judge's pairs are kept for its calibration."""
    rows, pairs = [], []
    for query, grades in labels.items():
        found = old.prefilter.candidates(query, depth)
        ranked = [p.rank(query, depth, candidates=found) for p in (old, new)]
        scores = [ndcg(r.order, grades, k) for r in ranked]
        rows.append({"query": query, "old": round(scores[0], 4), "new": round(scores[1], 4)})
        pairs += [{"judge": ranked[1].judged[c.chunk_id].score, "cosine": c.vector_score,
                   "prior": c.prefilter_score, "relevant": int(grades.get(c.chunk_id, 0) > 0)}
                  for c in found]
    mean = [round(sum(r[key] for r in rows) / max(1, len(rows)), 4) for key in ("old", "new")]
    return JudgeComparison(len(rows), mean[0], mean[1], rows, pairs)


def choose_settings(new: "Index", comparison: JudgeComparison, labels: Labels, depth: int,
                    weights=FUSION_WEIGHTS, depths=SEARCH_DEPTHS, k: int = 10
                    ) -> JudgeComparison:
    """The comparison with the new judge at the depth (``depth``, or a deeper one of
    ``depths``) and fusion weight that rank the held-out queries best (ties: the shallower
    depth, the configured weight, the lower weight). Each weight re-fuses stored judgments:
    only a deeper depth's extra candidates are judged."""
    tried = []
    pipelines = {w: new.with_settings(fusion_weight=w).pipeline() for w in weights}
    for d in sorted({depth, *(x for x in depths if x > depth)}):
        found = {query: new.prefilter.candidates(query, d) for query in labels}
        for weight, pipeline in pipelines.items():
            scores = [ndcg(pipeline.rank(query, d, candidates=found[query]).order, grades, k)
                      for query, grades in labels.items()]
            tried.append({"candidates": d, "fusion_weight": weight,
                          "ndcg@10": round(sum(scores) / max(1, len(scores)), 4)})
    configured = new.config.fusion_weight
    best = max(tried, key=lambda t: (t["ndcg@10"], -t["candidates"],
                                     t["fusion_weight"] == configured, -t["fusion_weight"]))
    return replace(comparison, new_ndcg=best["ndcg@10"], fusion_weight=best["fusion_weight"],
                   candidates=best["candidates"], tried=tried)


@dataclass
class TrainResult:
    adapter: str
    judge_version: str
    pairs: dict[str, int]
    train_s: float
    s_per_1000_pairs: float
    held_out: int
    old_ndcg: float | None
    new_ndcg: float | None
    adopted: bool
    reason: str
    fusion_weight: float | None = None  # the new version's, chosen on the held-out queries
    candidates: int | None = None  # the depth it was chosen at (written when deeper)
    tried: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def adapters_dir(ix: "Index") -> Path:
    """Where an index's judge adapters live: ``docs.judges/`` beside ``docs.glossdb`` (a
    PostgreSQL index: glossdb's cache folder)."""
    if is_url(ix.path):
        return cache_dir() / "judges"
    path = Path(ix.path)
    return path.with_name(path.stem + ".judges")


def gather(ix: "Index", labels: Labels | None, use_feedback: bool
           ) -> tuple[dict[str, dict[int, int]], set[str]]:
    """Given labels and the index's feedback, merged (feedback wins for a pair it marks),
    and the queries only feedback labels (their pairs count as the ``feedback`` source)."""
    out: dict[str, dict[int, int]] = {q: dict(m) for q, m in (labels or {}).items()}
    marks = feedback_labels(ix.store) if use_feedback else {}
    for query, marked in marks.items():
        out.setdefault(query, {}).update(marked)
    merged = {q: m for q, m in out.items() if any(g > 0 for g in m.values())}
    return merged, {q for q in marks if q in merged and q not in (labels or {})}


def training_pairs(ix: "Index", train_labels: Labels, corpus: Labels | None = None,
                   feedback: set[str] = frozenset(), seed: int = 0,
                   questions: Labels | None = None) -> list:
    """Pairs of the labeled queries (those in ``feedback`` as the ``feedback`` source), plus
    self-supervised ones (``corpus`` labels: held-out sentences; ``questions``: the
    writer's)."""
    from .train.pairs import labeled_pairs

    sources = {"labels": {q: m for q, m in train_labels.items() if q not in feedback},
               "feedback": {q: m for q, m in train_labels.items() if q in feedback},
               "corpus": corpus or {}, "questions": questions or {}}
    return [p for source, labels in sources.items() if labels
            for p in labeled_pairs(ix, labels, seed=seed, source=source)]


def positives_only(labels: Labels) -> dict[str, dict[int, int]]:
    return {q: {c: g for c, g in m.items() if g >= 0} for q, m in labels.items()}


def _train_adapter(ix: "Index", path: Path, pairs: list, spec, progress, model_id: str):
    """Train and write ``docs.judges/judge-<hash>.gguf``: (its path, hash, report). The file
    is written under a name of its own first, so two trainings of one index (`glossdb train`
    beside `serve --train-after`) never write the same file, and a run cut short leaves
    nothing behind."""
    from .train.lora import train

    tmp = adapters_dir(ix) / f"training-{uuid.uuid4().hex[:12]}.gguf.tmp"
    try:
        digest, report = train(path, pairs, tmp, spec, progress=progress,
                               metadata={"model": model_id, "pairs": str(len(pairs))})
        out = tmp.with_name(f"judge-{digest[:12]}.gguf")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out, digest, report


def train_judge(ix: "Index", labels: Labels | None = None, use_feedback: bool = True,
                corpus: int = 0, spec=None, adopt: bool = True,
                progress: Callable[[int, int, float], None] | None = None,
                questions: int = 0, asked: Callable[[int], None] | None = None) -> TrainResult:
    """Train a judge version and adopt it unless it loses (see the module's docstring).
    ``asked(n)`` is called as the writer finishes each batch of ``n`` questions."""
    from .train.lora import TrainSpec
    from .train.pairs import corpus_labels, writer_questions

    if ix.config.backend != "llamacpp":
        raise ConfigError("training a judge needs the in-process llamacpp backend (the "
                          f"adapter is for llama.cpp); this index uses {ix.config.backend!r}")
    merged, from_feedback = gather(ix, labels, use_feedback)
    train_labels, held = split_queries(merged)
    if not merged and not corpus and not questions:
        corpus = 2000  # no labels and no feedback: learn from the corpus alone
    # self-supervised sources; with no labels, the first one's held-out queries are the check
    corpus_train, question_train = {}, {}
    if corpus:  # a held-out sentence of each of N chunks
        corpus_train, corpus_held = split_queries(corpus_labels(ix, limit=corpus))
        held = held or positives_only(corpus_held)
    if questions:  # a question the writer asks of each of N chunks
        question_train, question_held = split_queries(corpus_labels(
            ix, limit=questions, ask=writer_questions(ix.model("writer"), asked, ix.store)))
        held = held or positives_only(question_held)
    pairs = training_pairs(ix, train_labels, corpus_train, from_feedback,
                           questions=question_train)
    if not pairs:
        raise ConfigError("nothing to train on: give --qrels and --queries, mark hits with "
                          "`glossdb feedback`, or use --corpus N or --questions N")
    model_id, path = resolve_model(ix.config.model)
    spec = spec or TrainSpec()
    out, digest, report = _train_adapter(ix, path, pairs, spec, progress, model_id)
    folded = _fold(path, out)
    counts = dict(Counter(p.source for p in pairs))
    candidate = ix.with_settings(judge_method="relevance", judge_adapter=str(out))
    version = candidate.judge().version().name
    comparison, depth = None, max(ix.config.candidates, 10)
    if held:
        comparison = compare_judges(ix.pipeline(), candidate.pipeline(), held, depth)
        comparison = choose_settings(candidate, comparison, held, depth)
    if comparison is not None and len({p["relevant"] for p in comparison.pairs}) == 2:
        weights = fit_calibration(comparison.pairs)
        calibration_path(out).write_text(json.dumps(weights) + "\n")
        candidate.model("judge").calibration = weights  # loaded before the fit existed
    adopted, reason = _decide(comparison, adopt)
    _settle(ix, out, comparison if adopted else None, depth)
    if not adopted:  # its merged twin is gone: adopted by hand, it is the adapter alone
        judge = candidate.judge()
        version = judge.spec.version_name(judge.model, adapter=digest[:12])
    return TrainResult(str(out), version, counts, report.seconds, report.s_per_1000_pairs,
                       len(held), comparison and comparison.old_ndcg,
                       comparison and comparison.new_ndcg, adopted, reason + folded,
                       comparison and comparison.fusion_weight,
                       comparison and comparison.candidates,
                       comparison.tried if comparison else [])


def _fold(base: Path, adapter: Path) -> str:
    """The adapter folded into the model (a search then takes a third less time); what
    went wrong, said, when it could not be (the adapter alone still works)."""
    from .train.merge import write_merged

    try:
        write_merged(base, adapter)
    except (OSError, ValueError) as e:
        return f" (not folded into the model, {e}: the adapter is applied at run time)"
    return ""


def _settle(ix: "Index", adapter: Path, adopted: JudgeComparison | None, depth: int) -> None:
    """Write an adopted version's settings; a version not adopted keeps its adapter (it can
    be adopted by hand) and loses its ~290 MB merged twin."""
    if adopted is None:
        for made in merged_paths(adapter):
            made.unlink(missing_ok=True)
        return
    save_setting(ix.path, "judge_method", "relevance")
    save_setting(ix.path, "judge_adapter", str(adapter))
    save_setting(ix.path, "fusion_weight", adopted.fusion_weight)
    if adopted.candidates != depth:  # deeper ranked better: pinned (see glossdb.cutoff)
        save_setting(ix.path, "candidates", adopted.candidates)


def _decide(comparison: JudgeComparison | None, adopt: bool) -> tuple[bool, str]:
    if comparison is None:
        return False, ("no held-out labeled queries to check it on (5 or more labeled "
                       "queries are needed): to adopt it anyway, set judge_method = "
                       "'relevance' and judge_adapter = '<this file>' in the index's settings")
    if comparison.loses:
        return False, (f"it loses on {comparison.queries} held-out queries "
                       f"(nDCG@10 {comparison.new_ndcg:.4f} vs {comparison.old_ndcg:.4f} "
                       "for the judge in force): not adopted")
    if not adopt:
        return False, "not adopted (--no-adopt)"
    return True, (f"adopted: nDCG@10 {comparison.new_ndcg:.4f} vs {comparison.old_ndcg:.4f} "
                  f"on {comparison.queries} held-out queries")
