"""A model's output projection, read straight from its GGUF file.

Only the header is parsed (key/value metadata is skipped, tensor infos are read), and the
tensor is memory-mapped; rows are dequantized on demand. F32, F16 and Q8_0 are decoded here;
other types need the ``gguf`` package (``pip install gguf``).

Why not ``gguf.GGUFReader`` for the header too: it materialises every metadata array, and
opening Gemma 3 270M's file (a 262,144-token vocabulary) took 15.4 s against 0.15 s here, on
the first search. tests/test_real_model.py checks these rows against gguf's reader and
dequantizer, the independent oracle.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np

F32, F16, Q8_0 = 0, 1, 8
_SCALAR = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_STRING, _ARRAY = 8, 9


def _read(f: BinaryIO, fmt: str):
    return struct.unpack("<" + fmt, f.read(struct.calcsize("<" + fmt)))[0]


def _string(f: BinaryIO) -> str:
    return f.read(_read(f, "Q")).decode("utf-8", "replace")


def _skip_value(f: BinaryIO, kind: int) -> object:
    if kind == _STRING:
        return _string(f)
    if kind == _ARRAY:
        item, count = _read(f, "I"), _read(f, "Q")
        if item == _STRING:
            for _ in range(count):
                f.seek(_read(f, "Q"), 1)
        else:
            f.seek(_SCALAR[item] * count, 1)
        return None
    data = f.read(_SCALAR[kind])
    return int.from_bytes(data, "little") if kind in (4, 10) else None


def read_tensor_infos(path: Path) -> tuple[dict[str, tuple[list[int], int, int]], int]:
    """{name: (dims, type, offset)} and the file offset where tensor data starts."""
    with open(path, "rb") as f:
        if f.read(4) != b"GGUF":
            raise ValueError(f"{path} is not a GGUF file")
        version, n_tensors, n_kv = _read(f, "I"), _read(f, "Q"), _read(f, "Q")
        if version < 2:
            raise ValueError(f"{path}: GGUF version {version} is not supported")
        alignment = 32
        for _ in range(n_kv):
            key = _string(f)
            value = _skip_value(f, _read(f, "I"))
            if key == "general.alignment" and isinstance(value, int):
                alignment = value
        infos = {}
        for _ in range(n_tensors):
            name = _string(f)
            dims = [_read(f, "Q") for _ in range(_read(f, "I"))]
            infos[name] = (dims, _read(f, "I"), _read(f, "Q"))
        start = f.tell()
    return infos, (start + alignment - 1) // alignment * alignment


def _row_bytes(kind: int, n: int) -> int:
    if kind == F32:
        return 4 * n
    if kind == F16:
        return 2 * n
    if kind == Q8_0:
        return n // 32 * 34
    from gguf.constants import GGML_QUANT_SIZES  # other types: the gguf package knows them

    block, size = GGML_QUANT_SIZES[kind]
    return n // block * size


def dequantize(raw: np.ndarray, kind: int, n: int) -> np.ndarray:
    """Rows of raw bytes of one tensor type as float32 (rows x n)."""
    if kind == F32:
        return raw.view(np.float32).reshape(len(raw), n).copy()
    if kind == F16:
        return raw.view(np.float16).reshape(len(raw), n).astype(np.float32)
    if kind == Q8_0:
        blocks = raw.reshape(len(raw), -1, 34)
        scale = blocks[:, :, :2].copy().view(np.float16).astype(np.float32)
        quants = blocks[:, :, 2:].copy().view(np.int8).astype(np.float32)
        return (quants * scale).reshape(len(raw), n)
    from gguf import GGMLQuantizationType, quants

    return np.asarray(quants.dequantize(raw, GGMLQuantizationType(kind)), dtype=np.float32)


class OutputHead:
    """The output projection (the token embeddings when they are tied), memory-mapped."""

    def __init__(self, path: str | Path):
        infos, data_start = read_tensor_infos(Path(path))
        name = "output.weight" if "output.weight" in infos else "token_embd.weight"
        if name not in infos:
            raise ValueError(f"{path} has neither output.weight nor token_embd.weight")
        dims, self._kind, offset = infos[name]
        self.n_embd, self.n_vocab = int(dims[0]), int(dims[1])
        width = _row_bytes(self._kind, self.n_embd)
        self._raw = np.memmap(path, dtype=np.uint8, mode="r", offset=data_start + offset,
                              shape=(self.n_vocab, width))

    def rows(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids)
        return dequantize(np.asarray(self._raw[ids]), self._kind, self.n_embd)
