"""A model-free embedder for tests and for machines without onnxruntime: hashed word counts.

Deterministic and instant; it knows nothing of meaning (synonyms do not meet), so it is a
plumbing stand-in, not a default.
"""

from __future__ import annotations

import re
import zlib
from typing import Sequence

import numpy as np

from .base import Embedder


class HashingEmbedder(Embedder):
    name = "hashing"
    model_id = "hashing-256"
    dim = 256

    def _embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, zlib.crc32(word.encode()) % self.dim] += 1.0
        return out
