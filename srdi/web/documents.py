"""Applicant documents (申报材料): evidence files per application, stored under their content hash, jurisdiction-scoped.

Listing, uploading and downloading all start from ``queries.get_application``: an application outside
the user's subtree is 404, and so is each of its documents. Checking and storing the file is
``tasks.intake.documents.file_document`` (the same function for every caller).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse
from sqlalchemy import select
from sqlmodel import Session

from models.document import DOCUMENT_KINDS, ApplicationDocument
from models.errors import NotFound, SrdiError
from models.settings import document_max_bytes
from srdi.web import queries
from srdi.web.auth import csrf_protect, current_user, db_session
from srdi.web.bounds import RowId
from tasks.intake.documents import file_document, stored_path
from tasks.people.actors import BUREAU_ROLES, Actor

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)


class Documents(list):
    """The documents of one application, with what the upload form needs (类别, whether this user may file)."""

    def __init__(self, rows: list[dict[str, Any]], may_file: bool):
        super().__init__(rows)
        self.may_file = may_file
        self.kinds = DOCUMENT_KINDS
        self.max_mb = document_max_bytes() // (1024 * 1024)


def of_application(session, scope: Actor, application_id: int) -> Documents:
    """The documents filed with one application (shown beside its eligibility verdicts); the caller checked its scope."""
    table = ApplicationDocument.__table__
    rows = session.execute(select(table).where(table.c.application_id == application_id)
                           .order_by(table.c.uploaded_at, table.c.id)).mappings()
    return Documents([{**row, "kind_label": DOCUMENT_KINDS.get(row["kind"], row["kind"])} for row in rows],
                     scope.role in BUREAU_ROLES)


def content_disposition(filename: str) -> str:
    """attachment with an ASCII fallback and the original (Chinese) name per RFC 5987 / 6266."""
    fallback = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\;' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.post("/applications/{application_id}/documents")
async def upload(request: Request, application_id: RowId, file: UploadFile = File(...), kind: str = Form(..., max_length=32),
                 description: str = Form("", max_length=500), scope: Actor = Depends(current_user),
                 session: Session = Depends(db_session)):
    from srdi.web.pages import flash  # pages imports this module for of_application

    queries.get_application(session, scope, application_id)   # 404 outside the subtree, before reading the file
    limit = document_max_bytes()
    data = await file.read(limit + 1)       # one byte past the limit is enough to refuse
    try:
        with request.app.state.engine.begin() as connection:
            result = file_document(connection, application_id, file.filename or "", data, kind=kind,
                                   description=description, username=scope.username, max_bytes=limit)
        flash(request, "ok", f"已上传材料 {result['filename']}" if result["created"]
              else f"该文件此前已上传（{result['filename']}），未重复保存")
    except NotFound:
        raise
    except SrdiError as exc:
        flash(request, "error", str(exc))
    return RedirectResponse(f"/applications/{application_id}#documents", status_code=303)


@router.get("/applications/{application_id}/documents/{document_id}")
def download(application_id: RowId, document_id: RowId, scope: Actor = Depends(current_user),
             session: Session = Depends(db_session)):
    queries.get_application(session, scope, application_id)
    table = ApplicationDocument.__table__
    row = session.execute(select(table).where(table.c.id == document_id, table.c.application_id == application_id)).first()
    if row is None:
        raise NotFound(f"材料 {document_id} 不存在")
    path = stored_path(row.sha256)
    if not path.is_file():
        raise NotFound(f"材料 {row.filename} 的文件不在存储目录中")
    return FileResponse(path, media_type=row.content_type,
                        headers={"Content-Disposition": content_disposition(row.filename)})
