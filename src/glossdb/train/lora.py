"""Fine-tune the judge model with a LoRA adapter on (query, candidate, label) pairs.

The objective is the trained judge's own score (glossdb.judge.relevance_request): after
"Query: … Passage: … Relevant:" the next token is " yes" for a relevant pair and " no"
otherwise, cross-entropy over the whole vocabulary at that one position (monoT5's pointwise
objective), so exp(score) at search time is the model's probability of relevance; by default
(``objective="listwise"``) plus a softmax over each query's candidates, so that a positive
scores above its query's negatives. The base weights are the GGUF file's own, dequantized by
transformers; the adapter is written as a GGUF LoRA (glossdb.train.export) for llama.cpp.
Needs the ``train`` extra (torch, transformers, peft); nothing here is imported by a search.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from ..errors import ConfigError
from ..judge import RELEVANCE_NO, RELEVANCE_YES, relevance_request
from .export import gguf_name, write_adapter
from .pairs import Pair

OBJECTIVES = ("pointwise", "listwise")
TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class TrainSpec:
    rank: int = 8
    alpha: float = 16.0
    lr: float = 3e-4
    epochs: float = 1.0
    batch: int = 8
    max_tokens: int = 192  # a pair longer than this is cut in its passage
    seed: int = 0
    threads: int = 0
    bf16: bool = True
    targets: tuple[str, ...] = TARGETS
    # "pointwise": the yes/no cross-entropy of each pair alone. "listwise": that, plus a
    # query's candidates scored against each other (localized contrastive estimation, Gao et
    # al. 2021: softmax of log p(" yes") over one positive and the query's negatives), so
    # the judge learns the order the prior cannot give while its probability stays
    # calibrated. Listwise won on SciFact dev (0.807 vs 0.791) and test (0.749 vs 0.743) for
    # the same pairs and time (bench/README.md).
    objective: str = "listwise"

    def __post_init__(self):
        if self.objective not in OBJECTIVES:
            raise ConfigError(f"unknown training objective {self.objective!r}: "
                              f"use one of {', '.join(OBJECTIVES)}")

    def describe(self) -> dict:
        return {"rank": self.rank, "alpha": self.alpha, "lr": self.lr, "epochs": self.epochs,
                "batch": self.batch, "max_tokens": self.max_tokens, "seed": self.seed,
                "targets": ",".join(self.targets), "objective": self.objective}


@dataclass
class TrainReport:
    pairs: int
    steps: int
    seconds: float
    losses: list[float] = field(default_factory=list)
    model: object = field(default=None, repr=False)  # the trained peft model (in process)
    encoder: object = field(default=None, repr=False)

    @property
    def s_per_1000_pairs(self) -> float:
        return round(1000 * self.seconds / max(1, self.pairs), 1)


def _torch():
    try:
        import peft  # noqa: F401
        import torch
        import transformers  # noqa: F401
    except ImportError:
        raise ConfigError("training a judge needs torch, transformers and peft: "
                          "pip install 'glossdb[train]' (torch from PyPI is about 6 GB)") from None
    return torch


def load_base(gguf_path: str | Path):
    """(tokenizer, model) of a GGUF file, dequantized to float32 by transformers."""
    _torch()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()  # glossdb reports its own progress
    path = Path(gguf_path)
    with _no_gguf_bar():
        tok = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name,
                                                     dtype=torch.float32)
    return tok, model


@contextlib.contextmanager
def _no_gguf_bar():
    """transformers' GGUF reader draws its own tqdm bar, which no setting of transformers
    turns off: silence it while the base model loads."""
    import functools

    from transformers import modeling_gguf_pytorch_utils as gguf_utils

    bar = getattr(gguf_utils, "tqdm", None)
    if bar is not None:
        gguf_utils.tqdm = functools.partial(bar, disable=True)
    try:
        yield
    finally:
        if bar is not None:
            gguf_utils.tqdm = bar


class Encoder:
    """Token ids of a pair exactly as llama.cpp reads it at search time: BOS + the shared
    prefix, then the rest of the context, each tokenized on its own."""

    def __init__(self, tokenizer, max_tokens: int):
        self.tok, self.max_tokens = tokenizer, max_tokens
        self.bos = tokenizer.bos_token_id
        self.yes = self._single(RELEVANCE_YES)
        self.no = self._single(RELEVANCE_NO)

    def _ids(self, text: str) -> list[int]:
        return self.tok(text, add_special_tokens=False).input_ids

    def _single(self, text: str) -> int:
        ids = self._ids(text)
        if len(ids) != 1:
            raise ConfigError(f"the judge's answer {text!r} is {len(ids)} tokens for this model")
        return ids[0]

    def encode(self, query: str, candidate: str) -> list[int]:
        request = relevance_request(candidate, query)  # the very pair a search scores
        prefix, context = request.shared_prefix, request.context
        head, rest = [self.bos] + self._ids(prefix), self._ids(context[len(prefix):])
        over = len(head) + len(rest) - self.max_tokens
        if over > 0:  # cut the passage, keep the template's tail ("\nRelevant:")
            tail = self._ids(context[context.rindex("\n"):])
            rest = rest[: max(1, len(rest) - len(tail) - over)] + tail
        return head + rest


def _batches(encoded: list[tuple[list[int], int]], size: int, rng: random.Random):
    """Batches of similar length (little padding), in random order."""
    order = sorted(range(len(encoded)), key=lambda i: (len(encoded[i][0]), rng.random()))
    chunks = [order[i:i + size] for i in range(0, len(order), size)]
    rng.shuffle(chunks)
    return chunks


def _query_batches(queries: list[str], size: int, rng: random.Random):
    """Batches of whole queries (all of a query's pairs together, so they can be compared),
    about ``size`` pairs each, in random order."""
    groups: dict[str, list[int]] = {}
    for i, q in enumerate(queries):
        groups.setdefault(q, []).append(i)
    order = list(groups.values())
    rng.shuffle(order)
    batches, current = [], []
    for group in order:
        if current and len(current) + len(group) > size:
            batches.append(current)
            current = []
        current = current + group
    return batches + ([current] if current else [])


def _listwise_loss(torch, logits, yes: int, labels: list[int], queries: list[str]):
    """Mean over the batch's positives of -log softmax(log p(" yes")) over the positive and
    its query's negatives; 0 when no query of the batch has both."""
    scores = torch.log_softmax(logits.float(), -1)[:, yes]
    terms = []
    for q in dict.fromkeys(queries):
        idx = [i for i, x in enumerate(queries) if x == q]
        neg = [i for i in idx if not labels[i]]
        for i in (i for i in idx if labels[i]):
            if neg:
                group = scores[[i] + neg]
                terms.append(-torch.log_softmax(group, 0)[0])
    return torch.stack(terms).mean() if terms else scores.sum() * 0.0


def _autocast(torch, spec: "TrainSpec"):
    """bfloat16 matmuls on a CPU that has them (measured 1.5x faster a step on AVX512-BF16);
    the weights and the adapter stay float32."""
    if spec.bf16 and _cpu_has_bf16():
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _forward(torch, model, rows: list[list[int]], pad: int):
    """Logits at each row's last position, rows left-padded."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, width - len(r):] = torch.tensor(r)
        mask[i, width - len(r):] = 1
    pos = (mask.cumsum(1) - 1).clamp(min=0)
    out = model(input_ids=ids, attention_mask=mask, position_ids=pos, logits_to_keep=1)
    return out.logits[:, -1, :]


def train(gguf_path: str | Path, pairs: Sequence[Pair], out: str | Path,
          spec: TrainSpec = TrainSpec(), arch: str = "gemma3",
          progress: Callable[[int, int, float], None] | None = None,
          metadata: dict | None = None) -> tuple[str, TrainReport]:
    """Train an adapter on ``pairs`` and write it to ``out``; returns (sha256, report).
    ``progress(step, steps, loss)`` is called after each step."""
    if not pairs:
        raise ConfigError("no training pairs: give labels (--qrels), feedback, or the corpus")
    torch = _torch()
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(spec.seed)
    if spec.threads:
        torch.set_num_threads(spec.threads)
    with warnings.catch_warnings():  # transformers' deprecation notices are not the user's
        warnings.simplefilter("ignore", FutureWarning)
        tok, base = load_base(gguf_path)
        model = get_peft_model(base, LoraConfig(r=spec.rank, lora_alpha=spec.alpha,
                                                target_modules=list(spec.targets),
                                                lora_dropout=0.0))
    enc = Encoder(tok, spec.max_tokens)
    data = [(enc.encode(p.query, p.text), enc.yes if p.label else enc.no) for p in pairs]
    rng = random.Random(spec.seed)
    listwise = spec.objective == "listwise"
    plan, per_epoch = [], 1
    for _ in range(math.ceil(spec.epochs)):
        epoch = (_query_batches([p.query for p in pairs], spec.batch, rng) if listwise
                 else _batches(data, spec.batch, rng))
        plan.extend(epoch)
        per_epoch = len(epoch)
    plan = plan[: max(1, round(per_epoch * spec.epochs))]
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=spec.lr, weight_decay=0.0)
    warm = max(1, len(plan) // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.05, 1 - s / len(plan)))
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    report, start = TrainReport(len(data), len(plan), 0.0), time.perf_counter()
    model.train()
    for step, batch in enumerate(plan, start=1):
        with _autocast(torch, spec):
            logits = _forward(torch, model, [data[i][0] for i in batch], pad)
        target = torch.tensor([data[i][1] for i in batch])
        loss = torch.nn.functional.cross_entropy(logits.float(), target)
        if listwise:
            loss = loss + _listwise_loss(torch, logits, enc.yes, [pairs[i].label for i in batch],
                                         [pairs[i].query for i in batch])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        report.losses.append(round(loss.item(), 4))
        if progress is not None:
            progress(step, len(plan), report.losses[-1])
    report.seconds = round(time.perf_counter() - start, 1)
    report.model, report.encoder = model, enc
    digest = write_adapter(out, arch, spec.alpha, adapter_tensors(model),
                           {**spec.describe(), **(metadata or {}), "pairs": str(len(data))})
    return digest, report


def adapter_tensors(model) -> dict:
    """{GGUF weight name: (A, B)} of a peft model's LoRA modules, as float32 numpy."""
    out = {}
    for name, module in model.named_modules():
        if hasattr(module, "lora_A") and "default" in getattr(module, "lora_A", {}):
            a = module.lora_A["default"].weight.detach().float().numpy()
            b = module.lora_B["default"].weight.detach().float().numpy()
            out[gguf_name(name)] = (a, b)
    return out


def score_pairs(model, encoder: Encoder, pairs: Sequence[tuple[str, str]]) -> list[float]:
    """log p(" yes") of (query, text) pairs under the torch model: what llama.cpp must
    reproduce with the exported adapter (tests/test_train.py)."""
    torch = _torch()
    model.eval()
    with torch.no_grad():
        logits = _forward(torch, model, [encoder.encode(q, t) for q, t in pairs], 0)
        return torch.log_softmax(logits.float(), -1)[:, encoder.yes].tolist()
