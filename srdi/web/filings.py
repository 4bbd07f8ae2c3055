"""Filings after recognition in the browser: certificates (认定证书), re-review (复核) and name-change (更名) filings."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from srdi.web.auth import csrf_protect

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)
