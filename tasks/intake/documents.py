"""Applicant documents (申报材料): check an uploaded file, store it under its content hash, record it.

The type is read from the content (magic bytes), never from the name or the client's header, and must
agree with the name's extension: an ``.exe`` renamed ``.pdf`` is refused. A file lies once on disk at
``<root>/<sha256[:2]>/<sha256>`` however many applications it is filed with; its ``application_document``
row says which application, under which name, by whom and when.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Optional

from sqlalchemy import select
from sqlalchemy.engine import Connection

from models.application import Application
from models.clock import clock
from models.document import DOCUMENT_KINDS, ApplicationDocument
from models.errors import NotFound, RuleViolation
from models.settings import document_max_bytes, settings
from tasks.people.actors import bureau_actor

PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOC, XLS = "application/msword", "application/vnd.ms-excel"
TYPE_OF_EXTENSION = {".pdf": PDF, ".png": PNG, ".jpg": JPEG, ".jpeg": JPEG, ".docx": DOCX, ".xlsx": XLSX,
                     ".doc": DOC, ".xls": XLS}
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ACCEPTED = "PDF、PNG、JPEG、Word（.doc/.docx）、Excel（.xls/.xlsx）"


def document_root() -> Path:
    return settings().home / "documents"


def stored_path(sha256: str, root: Optional[Path] = None) -> Path:
    """Where the file with this content hash lies."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError(f"not a sha256: {sha256!r}")
    return (root or document_root()) / sha256[:2] / sha256


def clean_filename(filename: str) -> str:
    """The name without any directory part or control characters, at most 255 characters."""
    name = re.split(r"[/\\]", filename or "")[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    if not name or name in (".", ".."):
        raise RuleViolation("文件名为空")
    stem, ext = os.path.splitext(name)
    return stem[: 255 - len(ext)] + ext


def _ooxml_type(data: bytes) -> Optional[str]:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except zipfile.BadZipFile:
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def sniff(data: bytes, extension: str) -> Optional[str]:
    """The content type the bytes themselves show (None: not a type srdi accepts)."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"PK\x03\x04"):
        return _ooxml_type(data)
    if data.startswith(OLE2):            # the old binary Office formats share one container; the name tells which
        return {".doc": DOC, ".xls": XLS}.get(extension)
    return None


def check_file(filename: str, data: bytes, max_bytes: int) -> tuple[str, str]:
    """(clean name, content type) of an acceptable file, or a RuleViolation saying what is wrong."""
    name = clean_filename(filename)
    if len(data) > max_bytes:
        raise RuleViolation(f"文件 {name} 超过大小上限 {max_bytes / 1048576:g} MB，未上传")
    if not data:
        raise RuleViolation(f"文件 {name} 是空文件")
    extension = os.path.splitext(name)[1].lower()
    if extension not in TYPE_OF_EXTENSION:
        raise RuleViolation(f"文件 {name} 的类型不受支持；可上传 {ACCEPTED}")
    found = sniff(data, extension)
    if found is None or found != TYPE_OF_EXTENSION[extension]:
        raise RuleViolation(f"文件 {name} 的内容不是 {extension[1:].upper()} 文件（内容与扩展名不符），已拒收")
    return name, found


def store(data: bytes, root: Optional[Path] = None) -> str:
    """Write the bytes under their hash (once: an existing file is left as it is); the hex sha256."""
    digest = hashlib.sha256(data).hexdigest()
    path = stored_path(digest, root)
    if path.exists():
        return digest
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)      # atomic: a reader never sees half a file
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return digest


def file_document(connection: Connection, application_id: int, filename: str, data: bytes, *, kind: str, username: str,
                  description: Optional[str] = None, now: Optional[datetime] = None, max_bytes: Optional[int] = None,
                  root: Optional[Path] = None) -> dict:
    """提交申报材料: file ``data`` with the application, as a bureau user whose subtree holds it.

    The same file filed again with the same application changes nothing (``created`` False)."""
    place = connection.execute(select(Application.jurisdiction_code).where(Application.id == application_id)).scalar()
    if place is None:
        raise NotFound(f"申报 {application_id} 不存在")
    bureau_actor(connection, username, place, "为该申报上传材料")
    if kind not in DOCUMENT_KINDS:
        raise RuleViolation(f"材料类别 {kind!r} 应为 {' / '.join(DOCUMENT_KINDS.values())} 之一")
    name, content_type = check_file(filename, data, max_bytes or document_max_bytes())
    digest = store(data, root)
    table = ApplicationDocument.__table__
    existing = connection.execute(select(table.c.id, table.c.filename).where(
        table.c.application_id == application_id, table.c.sha256 == digest)).first()
    if existing is not None:
        return {"id": existing.id, "sha256": digest, "filename": existing.filename, "created": False}
    new_id = connection.execute(table.insert().values(
        application_id=application_id, sha256=digest, filename=name, content_type=content_type, size_bytes=len(data),
        kind=kind, description=(description or "").strip()[:500] or None, uploaded_by=username,
        uploaded_at=now or clock.now())).inserted_primary_key[0]
    return {"id": new_id, "sha256": digest, "filename": name, "created": True}
