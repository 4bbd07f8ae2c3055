"""用户管理: admins add, disable, reset and re-role users within their own subtree."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from srdi.web.auth import csrf_protect

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)
