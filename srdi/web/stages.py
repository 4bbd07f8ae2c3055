"""Round stages in the browser: intake upload, level close with its quota preview,
公示 opening and closing, re-review and name-change filings."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from srdi.web.auth import csrf_protect

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)
