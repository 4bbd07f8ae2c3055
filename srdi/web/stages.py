"""Round stages in the browser: intake upload, level close with its quota preview,
公示 opening and closing, re-review and name-change filings.

``/stages`` (评审环节) shows, per call the user can see, where its round stands: the intake (受理)
open or closed with its count, each level's windows inside the user's subtree with their desk,
deadline and counts, and what this user can do now. The stages themselves hang on ``router`` from
their own modules: opening a call (srdi/web/stage_open.py), importing applications
(srdi/web/stage_intake.py), closing a level with its quota preview (srdi/web/stage_close.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlmodel import Session

from models.clock import clock
from srdi.web import stage_close, stage_intake, stage_open, stage_scope
from srdi.web.auth import csrf_protect, current_user, db_session
from srdi.web.bounds import Code
from srdi.web.pages import render
from tasks.people.actors import Actor

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)


@router.get("/stages")
def stages_page(request: Request, call: Code = None, scope: Actor = Depends(current_user),
                session: Session = Depends(db_session)):
    """Every call the user sees, or only ``call`` (the inbox links a window to close here)."""
    now = clock.now()
    calls = stage_scope.stage_calls(session, scope, call or None)
    counts = stage_scope.applications_in_scope(session, scope, [c["id"] for c in calls])
    for found in calls:
        found["intake"] = stage_scope.intake_state(found, now)
        found["may_import"] = stage_scope.may_import(scope, found, now)
        found["applications"] = counts.get(found["id"], 0)
        found["windows"] = stage_scope.windows_of(session, scope, found["id"])
        found["closable_here"] = [w for w in found["windows"] if w["own_desk"] and w["closed_at"] is None]
    return render(request, "stages.html", scope, calls=calls, now=now, may_open_calls=stage_scope.may_open_calls(scope),
                  windows_shown=stage_scope.WINDOWS_SHOWN, outcome_labels=stage_close.OUTCOME_LABELS)


for _stage in (stage_open, stage_intake, stage_close):
    router.include_router(_stage.router)
