"""Loading files into documents and cutting documents into chunks."""

from .chunking import DEFAULT_MAX_TOKENS, approx_tokens, chunk_text
from .loaders import LOADERS, SourceDoc, load, load_with_problems, walk

__all__ = ["DEFAULT_MAX_TOKENS", "LOADERS", "SourceDoc", "approx_tokens", "chunk_text", "load", "load_with_problems", "walk"]
