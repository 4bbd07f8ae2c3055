"""出处 (citations): the public form (document numbers) and the internal form (with our line references).

A profile's ``cite`` names the document and where we read it, e.g.
``冀工信中小函〔2021〕116号 003_610bb7f52b8dce8c.txt L10287–10291（对拟认定的……公示五个工作日）``.
The file name and line numbers are our working references: a public 公示公告 cites the document
number only (``冀工信中小函〔2021〕116号``); the console shows the number with the full reference on hover.
"""

from __future__ import annotations

import re
from typing import Iterable, Optional

from models.profile_base import Document

# Where our own reference starts inside one citation: a seed file name or a line number (L123, L12–34).
_REFERENCE = re.compile(r"[0-9A-Za-z_.-]+\.txt\b|(?<![A-Za-z])L\d+")
_SEED_LINE = re.compile(r"([0-9A-Za-z_.-]+\.txt)\s*L(\d+)")
_OPEN, _CLOSE = "（(", "）)"


def _document_label(document: Document) -> str:
    """A document as a reader knows it: its 文号, or its title when it has none (无文号)."""
    if document.number.startswith("无文号"):
        return f"《{document.title}》"
    return re.sub(r"(?<=号)（[^）]*）$", "", document.number)   # 财建〔2021〕2号（正文） → 财建〔2021〕2号


def _parts(cite: str) -> list[str]:
    """The citations of a cite, split at the semicolons outside brackets (a quote may hold a ；)."""
    parts, depth, start = [], 0, 0
    for at, char in enumerate(cite):
        depth += (char in _OPEN) - (char in _CLOSE and depth > 0)
        if char in "；;" and depth == 0:
            parts.append(cite[start:at])
            start = at + 1
    return parts + [cite[start:]]


def _document_at(part: str, documents: Iterable[Document]) -> Optional[str]:
    """The document whose seed lines contain the first reference of ``part`` (for a cite naming no document)."""
    found = _SEED_LINE.search(part)
    if found is None:
        return None
    seed, line = found.group(1), int(found.group(2))
    for document in documents:
        if document.seed != seed or not document.lines:
            continue
        first, _, last = document.lines.partition("-")
        if int(first) <= line <= int(last or first):
            return _document_label(document)
    return None


def public_citation(cite: Optional[str], documents: Iterable[Document] = ()) -> str:
    """The document numbers a citation names, without file names, line numbers or our quotes.

    ``documents`` (a profile's) resolves a citation that starts with a file name to its document.
    A citation without any reference is returned as it is.
    """
    if not cite:
        return ""
    documents = tuple(documents)
    labels: list[str] = []
    for part in _parts(cite):
        reference = _REFERENCE.search(part)
        if reference is None:
            label = part.strip()
        else:
            label = part[:reference.start()].strip(" \t,，、") or (_document_at(part, documents) or "")
        if label and label not in labels:
            labels.append(label)
    return "；".join(labels)


def has_reference(text: str) -> bool:
    """Whether ``text`` still carries an internal reference (a file name or a line number)."""
    return _REFERENCE.search(text) is not None
