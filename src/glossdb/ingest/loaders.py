"""Turn files into source documents with light structure.

Every loader returns text in one normal form: blocks separated by blank lines, headings as
Markdown ``#`` lines. The chunker reads that form, so each format only has to map its own
structure onto it. A file that cannot be read raises :class:`IngestError` with the reason.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import re
import stat
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


Problems = list[tuple[str, str]]  # (where, why): records skipped inside a file


def jsonl_records(path: Path) -> tuple[list[SourceDoc], Problems]:
    """Every good record of a JSONL file, and each bad one named with its line and reason.

    A record is an object with ``text`` (a string, or a list of strings joined as
    paragraphs) and/or ``title``; ``_id`` or ``id`` names it (0 is a valid id). A record
    with neither is named by its line number, or ``line-N`` when another record of the file
    has that number as its id, so it never takes a real record's place. Other keys are kept
    as metadata. A repeated id keeps the first record."""
    docs: list[SourceDoc] = []
    problems: Problems = []
    parsed: list[tuple[int, dict]] = []
    for lineno, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append((f"{path} line {lineno}", f"not JSON ({exc.msg})"))
            continue
        if not isinstance(record, dict):
            problems.append((f"{path} line {lineno}", "not a JSON object"))
            continue
        parsed.append((lineno, record))
    explicit = {rid for _, r in parsed if (rid := _explicit_id(r)) is not None}
    first_line: dict[str, int] = {}
    for lineno, record in parsed:
        where = f"{path} line {lineno}"
        rid = _record_id(record, lineno, explicit)
        text, title = _record_text(record.pop("text", None)), record.pop("title", None)
        if text is None:
            problems.append((where, "text must be a string or a list of strings"))
            continue
        title = str(title).strip() if title not in (None, "") else None
        if not text.strip() and not title:
            problems.append((where, "no text and no title"))
            continue
        if rid in first_line:
            problems.append((where, f"duplicate id {rid!r} (first at line {first_line[rid]});"
                                    " the first record is kept"))
            continue
        first_line[rid] = lineno
        docs.append(SourceDoc(f"{path}#{rid}", title, _normalise(text or title or ""), record))
    return docs, problems


def _explicit_id(record: dict) -> str | None:
    for key in ("_id", "id"):
        value = record.get(key)
        if value is not None and str(value) != "":
            return str(value)
    return None


def _record_id(record: dict, lineno: int, explicit: set[str]) -> str:
    """The record's own id (removed from its metadata), else a name no explicit id has."""
    rid = _explicit_id(record)
    for key in ("_id", "id"):
        record.pop(key, None)
    if rid is not None:
        return rid
    name, n = str(lineno), 0
    while name in explicit:
        n += 1
        name = f"line-{lineno}" + (f"-{n}" if n > 1 else "")
    return name


def _record_text(value: Any) -> str | None:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n\n".join(value)
    return None


def load_jsonl(path: Path) -> list[SourceDoc]:
    docs, problems = jsonl_records(path)
    if not docs:
        raise IngestError(problems[0][1] if len(problems) == 1 else "no records with text"
                          + (f" ({len(problems)} bad records, first: {problems[0][1]})"
                             if problems else ""))
    return docs


def load_with_problems(path: Path) -> tuple[list[SourceDoc], Problems]:
    """Documents of a file, and the records inside it that were skipped (JSONL only)."""
    if path.suffix.lower() == ".jsonl":
        docs, problems = jsonl_records(path)
        if docs:
            return docs, problems
    return load(path), []


# file suffix -> "module:function"; packages add suffixes under the entry-point group
# ``glossdb.loaders`` (glossdb.plugins), e.g. ``.epub = "mypkg.epub:load"``
_BUILTIN = {
    ".txt": "glossdb.ingest.loaders:load_text",
    ".text": "glossdb.ingest.loaders:load_text",
    ".md": "glossdb.ingest.loaders:load_text",
    ".markdown": "glossdb.ingest.loaders:load_text",
    ".html": "glossdb.ingest.loaders:load_html",
    ".htm": "glossdb.ingest.loaders:load_html",
    ".pdf": "glossdb.ingest.loaders:load_pdf",
    ".jsonl": "glossdb.ingest.loaders:load_jsonl",
    ".docx": "glossdb.ingest.docx:load_docx",
}


@functools.lru_cache(maxsize=1)
def loaders() -> dict[str, str]:
    """Suffix -> loader, built-ins first, then installed plugins (read once a process)."""
    from ..plugins import table

    return table(_BUILTIN, "glossdb.loaders")


def load(path: Path) -> list[SourceDoc]:
    from ..plugins import load as load_plugin

    suffix = path.suffix.lower()
    if suffix not in loaders():
        raise IngestError(f"unsupported file type {path.suffix or '(none)'}")
    loader: Loader = load_plugin(_BUILTIN, "glossdb.loaders", suffix, "file type")
    return loader(path)


def walk(paths: list[Path]) -> Iterator[tuple[Path, str | None]]:
    """Yield every file under ``paths`` with a reason to skip it, or None to load it.

    Nothing under a folder stops the walk: unreadable folders, broken links, link loops,
    FIFOs, sockets and devices are yielded with the reason, so the caller names them.
    Hidden entries (a name starting with ".") inside a folder are passed over."""
    for root in paths:
        if root.is_dir():
            yield from _walk_dir(root, {_real(root)})
        else:
            yield root, _file_problem(root)


def _real(path: Path) -> str:
    return os.path.realpath(path)


def _file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be loaded as a file, or None. Never opens it (a FIFO would block)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return "broken symbolic link" if path.is_symlink() else "no such file or directory"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
        return f"cannot read ({exc.strerror or exc})"
    if stat.S_ISDIR(st.st_mode):
        return None
    if not stat.S_ISREG(st.st_mode):
        kind = "FIFO" if stat.S_ISFIFO(st.st_mode) else "socket" if stat.S_ISSOCK(
            st.st_mode) else "device"
        return f"not a regular file ({kind})"
    if path.suffix.lower() not in loaders():
        return "unsupported file type"
    return None


def _walk_dir(folder: Path, seen: set[str]) -> Iterator[tuple[Path, str | None]]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        yield folder, f"cannot read folder ({exc.strerror or exc})"
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if not is_dir:
            yield path, _file_problem(path)
            continue
        real = _real(path)
        if real in seen:
            yield path, "symbolic link loop (folder already walked)"
            continue
        yield from _walk_dir(path, seen | {real})
