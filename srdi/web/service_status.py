"""运行状态: scheduled jobs with their last and next runs, failures and blocked calls (admins)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from srdi.web.auth import csrf_protect

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)
