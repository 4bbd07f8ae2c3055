"""资金 actions in the browser: plan versions and review opinions,
targets and performance reviews, disbursement runs (dry-run preview, explicit confirmation)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from srdi.web.auth import csrf_protect

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)
