"""Loading files into documents and cutting documents into chunks."""

from .chunking import DEFAULT_MAX_TOKENS, approx_tokens, chunk_text
from .loaders import SourceDoc, load, load_with_problems, loaders, walk

__all__ = ["DEFAULT_MAX_TOKENS", "SourceDoc", "approx_tokens", "chunk_text", "load", "load_with_problems", "loaders", "walk"]
