"""The embedder seam: texts in, unit-length float32 vectors out.

A subclass implements ``_embed_batch``; batching (texts of similar length together, so
little padding is computed), progress and normalisation live here, once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable, Sequence

import numpy as np

Progress = Callable[[int], None]


class Embedder(ABC):
    """A text embedding model. ``model_id`` names the weights and settings: vectors written
    under one ``model_id`` are never compared with another's."""

    name = "base"
    model_id = "unknown"
    dim = 0
    batch_size = 32

    @abstractmethod
    def _embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, any scale: the base class normalises."""

    def length(self, text: str) -> int:
        """A cheap size estimate used to group texts of similar length into one batch."""
        return len(text)

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Unit-length vectors, one row per text, in the order given."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: self.length(texts[i]))
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = self._embed_batch([texts[i] for i in idx])
            if progress is not None:
                progress(len(idx))
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)

    def close(self) -> None:
        """Release whatever the embedder holds (sessions, files)."""
