"""A LoRA adapter as a GGUF file llama.cpp loads beside its base model (``lora_path``).

llama.cpp reads ``general.type = adapter``, ``adapter.type = lora`` and
``adapter.lora.alpha``, and for each adapted weight ``<name>.lora_a`` (rank x in) and
``<name>.lora_b`` (out x rank), applied as ``W x + (alpha / rank) B A x``. Tensors are given
here as numpy arrays in PyTorch's (rows, columns) layout; the GGUF writer stores them in
ggml's reversed order, which is what llama.cpp's shape checks expect.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Mapping

import numpy as np

# Hugging Face module names -> llama.cpp tensor names, for the decoder layers glossdb adapts
HF_TO_GGUF = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}


def gguf_name(hf_module: str) -> str:
    """``model.layers.3.self_attn.q_proj`` -> ``blk.3.attn_q.weight``."""
    parts = hf_module.split(".")
    at = parts.index("layers")
    layer, rest = parts[at + 1], ".".join(parts[at + 2:])
    if rest not in HF_TO_GGUF:
        raise ValueError(f"no GGUF name for module {hf_module!r}")
    return f"blk.{layer}.{HF_TO_GGUF[rest]}.weight"


def write_adapter(path: str | Path, arch: str, alpha: float,
                  tensors: Mapping[str, tuple[np.ndarray, np.ndarray]],
                  metadata: Mapping[str, str] | None = None) -> str:
    """Write ``{gguf weight name: (A, B)}`` as a LoRA GGUF; returns the file's sha256."""
    import gguf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    writer = gguf.GGUFWriter(str(tmp), arch)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(alpha))
    for key, value in (metadata or {}).items():
        writer.add_string(f"glossdb.{key}", str(value))
    for name in sorted(tensors):
        a, b = tensors[name]
        if a.shape[0] != b.shape[1]:
            raise ValueError(f"{name}: A is {a.shape}, B is {b.shape}; ranks differ")
        writer.add_tensor(f"{name}.lora_a", np.ascontiguousarray(a, dtype=np.float16))
        writer.add_tensor(f"{name}.lora_b", np.ascontiguousarray(b, dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tmp.replace(path)
    return file_hash(path)


def file_hash(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_metadata(path: str | Path) -> dict[str, str]:
    """The ``glossdb.*`` strings an adapter was written with (how it was trained)."""
    import gguf

    reader = gguf.GGUFReader(str(path))
    out = {}
    for name, field in reader.fields.items():
        if name.startswith("glossdb."):
            out[name[len("glossdb."):]] = bytes(field.parts[field.data[0]]).decode("utf-8")
    return out


def merged_paths(adapter: str | Path) -> tuple[Path, Path]:
    """(the merged model, its record) of an adapter (glossdb.train.merge): ``judge-x.gguf``
    -> ``judge-x.merged.gguf``, ``judge-x.merged.json``."""
    model = Path(adapter).with_suffix(".merged.gguf")
    return model, model.with_suffix(".json")


def calibration_path(adapter: str | Path) -> Path:
    return Path(adapter).with_suffix(".calibration.json")


def read_calibration(adapter: str | Path) -> dict:
    """The verdict calibration fitted for an adapter by ``glossdb train`` ({} if none)."""
    import json

    path = calibration_path(adapter)
    return json.loads(path.read_text()) if path.exists() else {}
