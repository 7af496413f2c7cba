"""A LoRA adapter on a llama.cpp context: how a trained judge version (glossdb.train) is
applied to every decode of the base model, with no torch at search time; or, where
``glossdb train`` folded the adapter into the base model (glossdb.train.merge), that merged
file, loaded in place of both (a third less time: no low-rank products at run time)."""

from __future__ import annotations

import ctypes
import json
import os
from pathlib import Path

from ..errors import BackendError, ModelNotFound


def apply_lora(lc, model, ctx, path: str, model_id: str) -> tuple[object, str, dict]:
    """Load the GGUF adapter at ``path`` and set it on ``ctx`` at scale 1; returns (the
    adapter handle, its hash (12 hex digits, part of the judge version), its verdict
    calibration)."""
    from ..train.export import file_hash, read_calibration

    if not os.path.exists(path):
        raise ModelNotFound(f"the judge adapter {path} does not exist: train one with "
                            "`glossdb train`, or name one that does (judge_adapter, --judge)")
    adapter = lc.llama_adapter_lora_init(model, path.encode())
    if not adapter:
        raise ModelNotFound(f"llama.cpp could not load the adapter {path} for {model_id}: "
                            "was it trained for this model?")
    adapters = (lc.llama_adapter_lora_p_ctypes * 1)(adapter)
    scales = (ctypes.c_float * 1)(1.0)
    if lc.llama_set_adapters_lora(ctx, adapters, 1, scales) != 0:
        raise BackendError(f"llama.cpp could not apply the adapter {path}")
    return adapter, file_hash(path)[:12], read_calibration(path)


def merged_model(adapter: str, base: str | Path) -> tuple[Path, str, dict] | None:
    """(the merged model to load, the version's adapter name (its hash and ``-merged``: a
    version of its own), its verdict calibration) for ``adapter`` on ``base``, when the
    merged file's record says it folds exactly this adapter (its hash) into this base (name
    and size); else None (the adapter is applied at run time)."""
    from ..train.export import file_hash, merged_paths, read_calibration

    model, record = merged_paths(adapter)
    if not (model.exists() and record.exists() and os.path.exists(adapter)):
        return None
    try:
        made = json.loads(record.read_text())
    except (OSError, ValueError):
        return None
    digest = file_hash(adapter)
    if (made.get("adapter_sha256") != digest or made.get("base") != Path(base).name
            or made.get("base_bytes") != os.path.getsize(base)):
        return None
    return model, f"{digest[:12]}-merged", read_calibration(adapter)
