"""受理 in the browser: upload an applications workbook into a call, as ``srdi intake applications`` does.

The file goes through ``tasks.intake.workbook_import.import_applications`` — all or nothing: one bad
row and nothing is written, and the clerk reads every problem (row, column, value, what was expected)
and can download the error workbook (tasks/intake/error_workbook.py) to correct and upload again.
Only an .xlsx file (a zip package with a workbook part) of at most ``MAX_UPLOAD_MB`` is read. The
outcome is kept beside the error workbook under ``$SRDI_HOME/intake-results/<user id>/`` so the page
after the redirect can show it, and only to the user who imported.
"""

from __future__ import annotations

import json
import re
import secrets
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated, Any, Optional

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlmodel import Session

from models.clock import clock, local
from models.errors import NotFound, SrdiError
from models.settings import settings
from srdi.web.auth import csrf_protect, current_user, db_session
from srdi.web.bounds import MAX_CODE
from srdi.web.documents import content_disposition
from srdi.web.pages import flash, render
from srdi.web.stage_scope import intake_state, may_import, visible_call
from tasks.people.actors import Actor

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)

MAX_UPLOAD_MB = 20
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
SHOWN_PROBLEMS = 200
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TOKEN = re.compile(r"^[0-9a-f]{32}$")
CallId = Annotated[str, PathParam(max_length=MAX_CODE)]


def results_dir(scope: Actor) -> Path:
    return settings().home / "intake-results" / str(scope.user_id)


def _result(scope: Actor, token: Optional[str]) -> Optional[dict[str, Any]]:
    """The outcome of one of this user's imports (None for anything else)."""
    if not token or not TOKEN.match(token):
        return None
    path = results_dir(scope) / f"{token}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _xlsx_problem(path: Path, filename: str) -> Optional[str]:
    """Why this upload is not an .xlsx workbook, in Chinese (None when it is one)."""
    if not filename.lower().endswith(".xlsx"):
        return f"只能上传 .xlsx 工作簿，“{filename}”不是"
    if not zipfile.is_zipfile(path):
        return f"“{filename}”的内容不是 .xlsx 工作簿（不是 Office Open XML 压缩包）"
    with zipfile.ZipFile(path) as package:
        if "xl/workbook.xml" not in package.namelist():
            return f"“{filename}”的内容不是 Excel 工作簿（缺少 xl/workbook.xml）"
    return None


@router.get("/stages/calls/{call_id}/intake")
def intake_page(request: Request, call_id: CallId, result: Optional[str] = Query(None, max_length=64),
                scope: Actor = Depends(current_user), session: Session = Depends(db_session)):
    call = visible_call(session, scope, call_id)
    now = clock.now()
    return render(request, "stage_intake.html", scope, call=call, state=intake_state(call, now),
                  may_import=may_import(scope, call, now), result=_result(scope, result), max_mb=MAX_UPLOAD_MB,
                  shown=SHOWN_PROBLEMS)


@router.get("/stages/calls/{call_id}/intake/template")
def intake_template(call_id: CallId, scope: Actor = Depends(current_user), session: Session = Depends(db_session)):
    """The empty workbook of the call's programme (``srdi intake template``)."""
    from tasks.intake.template import write_template
    from tasks.reference.calls import get_profile

    call = visible_call(session, scope, call_id)
    with tempfile.TemporaryDirectory() as directory:
        path = write_template(Path(directory) / "template.xlsx", get_profile(call["programme_id"]), call["year"])
        data = path.read_bytes()
    name = f"{call['programme_id']}-{call['year']}-导入模板.xlsx"
    return Response(data, media_type=XLSX_MEDIA, headers={"Content-Disposition": content_disposition(name)})


@router.post("/stages/calls/{call_id}/intake")
async def intake_upload(request: Request, call_id: CallId, file: UploadFile = File(...), scope: Actor = Depends(current_user),
                        session: Session = Depends(db_session)):
    call = visible_call(session, scope, call_id)
    back = f"/stages/calls/{call_id}/intake"
    if not may_import(scope, call, clock.now()):
        flash(request, "error", f"批次 {call_id} 现在不受理申报，或不在您的辖区范围内")
        return RedirectResponse(back, status_code=303)
    filename = Path(file.filename or "").name or "未命名文件"
    with tempfile.TemporaryDirectory() as directory:
        upload = Path(directory) / "upload.xlsx"
        size = 0
        with upload.open("wb") as out:
            while chunk := await file.read(1024 * 1024):
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    flash(request, "error", f"文件超过 {MAX_UPLOAD_MB} MB，未导入；请拆分后分批上传")
                    return RedirectResponse(back, status_code=303)
                out.write(chunk)
        refused = _xlsx_problem(upload, filename)
        if refused:
            flash(request, "error", refused + "，未导入")
            return RedirectResponse(back, status_code=303)
        token = secrets.token_hex(16)
        folder = results_dir(scope)
        folder.mkdir(parents=True, exist_ok=True)
        outcome = _import(request, upload, call_id, scope, folder / f"{token}.xlsx", filename)
    (folder / f"{token}.json").write_text(json.dumps(outcome, ensure_ascii=False), encoding="utf-8")
    if outcome["written"]:
        flash(request, "ok", f"已导入“{filename}”：新建申报 {outcome['created']} 份")
    else:
        why = outcome["refusal"] or f"发现 {outcome['problem_count']} 处问题"
        flash(request, "error", f"“{filename}”未导入：{why}，未写入任何数据")
    return RedirectResponse(f"{back}?result={token}", status_code=303)


def _import(request: Request, upload: Path, call_id: str, scope: Actor, errors: Path, filename: str) -> dict[str, Any]:
    """Run the CLI's import (all or nothing) and keep what the result page shows."""
    from tasks.intake.workbook_import import import_applications

    base = {"file": filename, "at": f"{local(clock.now()):%Y-%m-%d %H:%M}", "rows": 0, "created": 0, "unchanged": 0,
            "rejected": 0, "written": False, "problems": [], "problem_count": 0, "errors": False, "refusal": None, "eligibility": None}
    try:
        outcome = import_applications(upload, call_id, actor=scope.username, errors_out=errors, engine=request.app.state.engine)
    except NotFound:
        raise
    except SrdiError as exc:
        return {**base, "refusal": str(exc)}
    summary = outcome.eligibility
    return {**base, "rows": outcome.rows, "created": outcome.created, "unchanged": outcome.unchanged,
            "rejected": outcome.rejected, "written": outcome.written,
            "problems": [{"row": p.row, "column": p.column, "value": "" if p.value is None else str(p.value), "expected": p.expected}
                         for p in outcome.problems[:SHOWN_PROBLEMS]],
            "problem_count": len(outcome.problems), "errors": bool(outcome.errors_path and outcome.errors_path.is_file()),
            "eligibility": {"eligible": summary.eligible, "ineligible": summary.ineligible,
                            "undetermined": summary.undetermined} if summary else None}


@router.get("/stages/calls/{call_id}/intake/errors/{token}")
def intake_errors(call_id: CallId, token: Annotated[str, PathParam(max_length=64)], scope: Actor = Depends(current_user),
                  session: Session = Depends(db_session)):
    """The error workbook (导入错误清单) of one of this user's imports."""
    visible_call(session, scope, call_id)
    path = results_dir(scope) / f"{token}.xlsx"
    if not TOKEN.match(token) or not path.is_file():
        raise NotFound("错误清单不存在或已过期")
    return FileResponse(path, media_type=XLSX_MEDIA,
                        headers={"Content-Disposition": content_disposition(f"{call_id}-导入错误清单.xlsx")})
