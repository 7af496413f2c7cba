"""Read the final hidden states of a llama.cpp decode and skip its output head.

llama.cpp computes the full-vocabulary output projection for every position that asks for
logits. A scheduler eval callback (``llama_context_params.cb_eval``, part of the public
API) sees each graph node; when capturing, it copies the ``result_norm`` tensor (the final
normalised hidden states of the output positions, in batch order) and answers ``False``,
which stops the graph there, so the head is never computed. The KV cache is written by the
layers before that node, so later decodes and saved states are unaffected. When not
capturing, the callback observes nothing and the graph runs whole.
"""

from __future__ import annotations

import ctypes
import glob
import os
from typing import Callable

import numpy as np

NODE = b"result_norm"


def _loaded(paths: list[str]) -> list[str]:
    """Those of ``paths`` already mapped into this process (Linux; elsewhere none known)."""
    try:
        with open("/proc/self/maps") as fh:
            mapped = {line.split()[-1] for line in fh if "/" in line}
    except OSError:
        return []
    return [p for p in paths if p in mapped]


def _ggml_base(lc) -> ctypes.CDLL | None:
    """The ggml-base library that llama.cpp itself loaded. A wheel holds its versioned names
    (``.so``, ``.so.0``, ``.so.0.25.3``) as copies, not links: opening another copy loads a
    second ggml, whose calls on the first one's tensors crash the decode."""
    folder = os.path.join(os.path.dirname(lc.__file__), "lib")
    paths = sorted(glob.glob(os.path.join(folder, "*ggml-base*")))
    first = _loaded(paths)
    for path in first + [p for p in paths if p not in first]:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        lib.ggml_get_name.restype = ctypes.c_char_p
        lib.ggml_get_name.argtypes = [ctypes.c_void_p]
        lib.ggml_nbytes.restype = ctypes.c_size_t
        lib.ggml_nbytes.argtypes = [ctypes.c_void_p]
        lib.ggml_nelements.restype = ctypes.c_int64
        lib.ggml_nelements.argtypes = [ctypes.c_void_p]
        lib.ggml_backend_tensor_get.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                                                ctypes.c_size_t, ctypes.c_size_t]
        return lib
    return None


class HiddenCapture:
    """Owns the eval callback; ``run(decode, n_embd)`` returns the captured rows."""

    def __init__(self, lc):
        self._lib = _ggml_base(lc)
        self._parts: list[np.ndarray] | None = None
        self.callback = (lc.ggml_backend_sched_eval_callback(self._observe)
                         if self._lib is not None else None)

    def _observe(self, tensor, ask, _user) -> bool:
        if self._parts is None or self._lib.ggml_get_name(tensor) != NODE:
            return not ask  # observe nothing; keep computing
        if ask:
            return True
        part = np.empty(self._lib.ggml_nelements(tensor), dtype=np.float32)
        self._lib.ggml_backend_tensor_get(tensor, part.ctypes.data, 0,
                                          self._lib.ggml_nbytes(tensor))
        self._parts.append(part)
        return False  # stop before the output head

    def run(self, decode: Callable[[], None], n_embd: int) -> np.ndarray:
        """Run ``decode`` while capturing; one row per output position, in batch order."""
        self._parts = []
        try:
            decode()
            parts = self._parts
        finally:
            self._parts = None
        if not parts:
            return np.empty((0, n_embd), dtype=np.float32)
        return np.concatenate(parts).reshape(-1, n_embd)
