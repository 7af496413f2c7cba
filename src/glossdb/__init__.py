"""glossdb: a database that represents every chunk by a readable gloss and answers queries
with an LLM judge instead of opaque embeddings."""

from .errors import GlossdbError
from .index import AddReport, Hit, Index, Why

__version__ = "0.1.0"

__all__ = ["AddReport", "GlossdbError", "Hit", "Index", "Why", "__version__"]
