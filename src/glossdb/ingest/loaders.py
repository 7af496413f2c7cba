"""Turn files into source documents with light structure.

Every loader returns text in one normal form: blocks separated by blank lines, headings as
Markdown ``#`` lines. The chunker reads that form, so each format only has to map its own
structure onto it. A file that cannot be read raises :class:`IngestError` with the reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from ..errors import IngestError


@dataclass
class SourceDoc:
    uri: str
    title: str | None
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


Loader = Callable[[Path], list[SourceDoc]]


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"cannot read ({exc.strerror or exc})") from None
    if b"\x00" in data[:8192]:
        raise IngestError("binary file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(f"not UTF-8 text (bad byte at offset {exc.start})") from None
    if not text.strip():
        raise IngestError("empty file")
    return text


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def load_text(path: Path) -> list[SourceDoc]:
    text = _normalise(_read_text(path))
    return [SourceDoc(str(path), _first_heading(text) or path.stem, text)]


def _first_heading(text: str) -> str | None:
    match = re.search(r"^#{1,6}\s+(.+)$", text, flags=re.M)
    return match.group(1).strip() if match else None


def load_html(path: Path) -> list[SourceDoc]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_read_text(path), "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "template"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    blocks = []
    body = soup.body or soup
    for el in body.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "td",
                             "blockquote", "dd", "dt"]):
        if el.find_parent(["p", "li", "pre", "td", "blockquote", "dd"]) is not None:
            continue
        words = el.get_text(" ", strip=True)
        if not words:
            continue
        if el.name[0] == "h":
            blocks.append("#" * int(el.name[1]) + " " + words)
        else:
            blocks.append(words)
    text = _normalise("\n\n".join(blocks))
    if not text:
        raise IngestError("no text found in HTML")
    return [SourceDoc(str(path), title or _first_heading(text) or path.stem, text)]


def load_pdf(path: Path) -> list[SourceDoc]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, OSError, ValueError) as exc:
        raise IngestError(f"unreadable PDF ({exc})") from None
    text = _normalise("\n\n".join(_pdf_paragraphs(p) for p in pages if p.strip()))
    if not text:
        raise IngestError("PDF has no extractable text (scanned images need OCR first)")
    meta = reader.metadata or {}
    title = getattr(meta, "title", None) or path.stem
    return [SourceDoc(str(path), title, text, {"pages": len(pages)})]


def _pdf_paragraphs(page: str) -> str:
    """PDF text has a newline per line: join lines, keep blank-line paragraph breaks."""
    paras = re.split(r"\n\s*\n", page)
    return "\n\n".join(re.sub(r"-\n(?=\w)", "", p).replace("\n", " ") for p in paras)


def load_jsonl(path: Path) -> list[SourceDoc]:
    docs = []
    for lineno, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise IngestError(f"line {lineno} is not JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise IngestError(f"line {lineno} is not a JSON object")
        rid = record.pop("_id", None) or record.pop("id", None) or str(lineno)
        text = str(record.pop("text", "") or "")
        title = record.pop("title", None) or None
        if not text.strip() and not title:
            continue
        docs.append(SourceDoc(f"{path}#{rid}", title, _normalise(text), record))
    if not docs:
        raise IngestError("no records with text")
    return docs


LOADERS: dict[str, Loader] = {
    ".txt": load_text,
    ".text": load_text,
    ".md": load_text,
    ".markdown": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".jsonl": load_jsonl,
}


def load(path: Path) -> list[SourceDoc]:
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise IngestError(f"unsupported file type {path.suffix or '(none)'}")
    return loader(path)


def walk(paths: list[Path]) -> Iterator[tuple[Path, str | None]]:
    """Yield every file under ``paths`` with a reason to skip it, or None to load it."""
    for root in paths:
        if not root.exists():
            yield root, "no such file or directory"
        elif root.is_dir():
            for p in sorted(root.rglob("*")):
                if p.is_file() and not any(part.startswith(".") for part in p.parts[len(root.parts):]):
                    yield p, None if p.suffix.lower() in LOADERS else "unsupported file type"
        else:
            yield root, None
