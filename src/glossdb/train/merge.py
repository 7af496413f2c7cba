"""A judge version as one model file: a LoRA adapter folded into its base model's weights.

llama.cpp applies an adapter at run time as two extra low-rank products per adapted matrix
(126 in Gemma 3 270M), which costs a search about a third more time than the base model
(bench/README.md). Folding ``W + (alpha / rank) B A`` into the weights once removes that
cost (SciFact, 40 queries' top 10: p50 2.20 s with the adapter, 1.48 s merged;
bench.studies.merged_judge). Each adapted matrix is dequantized, summed and quantized again,
as Q8_0, finer than the base's Q5_0/Q4_K: requantized to the base's own types, the judge's
log-odds moved by 2.0 on average from the adapter's (up to 8.9); as Q8_0 by 0.21 (up to
1.1), with the same nDCG@10. Every other tensor and every metadata key is copied byte for
byte. numpy and gguf only: no torch.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

import numpy as np

from .export import file_hash, merged_paths


def read_lora(path: str | Path) -> tuple[float, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """(alpha, {weight name: (A, B)}) of a LoRA GGUF written by glossdb.train.export."""
    import gguf

    reader = gguf.GGUFReader(str(path))
    alpha_field = reader.fields.get(gguf.Keys.Adapter.LORA_ALPHA)
    if alpha_field is None:
        raise ValueError(f"{path} is not a LoRA adapter (no {gguf.Keys.Adapter.LORA_ALPHA})")
    alpha = float(alpha_field.contents())
    parts: dict[str, dict[str, np.ndarray]] = {}
    for t in reader.tensors:
        base, _, kind = t.name.rpartition(".")
        parts.setdefault(base, {})[kind] = np.asarray(t.data, dtype=np.float32)
    return alpha, {name: (p["lora_a"], p["lora_b"]) for name, p in parts.items()}


def merged_weight(weight: np.ndarray, a: np.ndarray, b: np.ndarray, alpha: float
                  ) -> np.ndarray:
    """``W + (alpha / rank) B A`` in float32 (W is (out, in), A (rank, in), B (out, rank))."""
    if a.shape[0] != b.shape[1] or b.shape[0] != weight.shape[0] or a.shape[1] != weight.shape[1]:
        raise ValueError(f"LoRA shapes A {a.shape}, B {b.shape} do not fit W {weight.shape}")
    return weight.astype(np.float32) + (alpha / a.shape[0]) * (b @ a)


def merge_lora(base: str | Path, adapter: str | Path, out: str | Path, qtype: str = "Q8_0",
               progress: Callable[[int, int], None] | None = None) -> Path:
    """Write ``base`` with ``adapter`` folded in to ``out`` (atomically), each adapted matrix
    as ``qtype`` (one gguf-py can write: Q8_0, F16, ...); returns ``out``."""
    import gguf

    alpha, lora = read_lora(adapter)
    kind = gguf.GGMLQuantizationType[qtype]
    reader = gguf.GGUFReader(str(base))
    arch = reader.fields[gguf.Keys.General.ARCHITECTURE].contents()
    missing = set(lora) - {t.name for t in reader.tensors}
    if missing:
        raise ValueError(f"the adapter adapts tensors the base model lacks: {sorted(missing)[:3]}")
    out = Path(out)
    tmp = out.with_name(out.name + ".part")
    try:
        writer = gguf.GGUFWriter(str(tmp), arch)
        _copy_metadata(reader, writer)
        done = 0
        for t in reader.tensors:
            if t.name in lora:
                weight = gguf.quants.dequantize(t.data, t.tensor_type)
                merged = merged_weight(weight, *lora[t.name], alpha)
                writer.add_tensor(t.name, gguf.quants.quantize(merged, kind), raw_dtype=kind)
                done += 1
                if progress:
                    progress(done, len(lora))
            else:
                writer.add_tensor(t.name, t.data, raw_dtype=t.tensor_type)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        tmp.replace(out)
    finally:  # a fold that failed (a full disk, say) leaves no partial file
        tmp.unlink(missing_ok=True)
    return out


def _copy_metadata(reader, writer) -> None:
    """Every key of ``reader`` but those the writer sets itself."""
    import gguf

    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        kind = field.types[0]
        sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), kind, sub_type=sub)


def write_merged(base: str | Path, adapter: str | Path,
                 progress: Callable[[int, int], None] | None = None) -> Path:
    """The adapter's merged model beside it (``judge-….merged.gguf``) and its record (which
    adapter and base it folds: ``….merged.json``), which the llama.cpp backend checks before
    it loads the merged file in place of base + adapter."""
    model, record = merged_paths(adapter)
    merge_lora(base, adapter, model, progress=progress)
    record.write_text(json.dumps({"adapter_sha256": file_hash(adapter),
                                  "base": Path(base).name,
                                  "base_bytes": os.path.getsize(base)}) + "\n")
    return model
