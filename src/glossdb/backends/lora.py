"""A LoRA adapter on a llama.cpp context: how a trained judge version (glossdb.train) is
applied to every decode of the base model, with no torch at search time."""

from __future__ import annotations

import ctypes
import os

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
