"""Word documents (``.docx``), through python-docx (``pip install 'glossdb[docx]'``).

Paragraphs keep their order; a paragraph styled "Heading N" (or "Title") becomes a Markdown
heading of that level, so the chunker splits and names chunks by the document's own
sections; each table row becomes one line of its cells joined by " | "."""

from __future__ import annotations

from pathlib import Path

from ..errors import IngestError
from .loaders import SourceDoc, _first_heading, _normalise


def _level(style: str) -> int | None:
    if style == "Title":
        return 1
    if style.startswith("Heading "):
        tail = style.removeprefix("Heading ").strip()
        return int(tail) if tail.isdigit() else None
    return None


def load_docx(path: Path) -> list[SourceDoc]:
    try:
        import docx
    except ImportError:
        raise IngestError("reading .docx needs python-docx: pip install 'glossdb[docx]'"
                          ) from None
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # noqa: BLE001 - a damaged file is one skipped input
        raise IngestError(f"unreadable .docx ({type(exc).__name__}: {exc})") from None
    lines = []
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = docx.text.paragraph.Paragraph(block, document)
            text = paragraph.text.strip()
            level = _level(paragraph.style.name if paragraph.style is not None else "")
            if text:
                lines.append(("#" * min(level, 6) + " " + text) if level else text)
        elif tag == "tbl":
            table = docx.table.Table(block, document)
            for row in table.rows:
                cells = [c.text.strip() for c in row.cells]
                if any(cells):
                    lines.append(" | ".join(cells))
    text = _normalise("\n\n".join(lines))
    if not text:
        raise IngestError("no text found in the .docx")
    title = (document.core_properties.title or "").strip() or _first_heading(text) or path.stem
    return [SourceDoc(str(path), title, text)]
