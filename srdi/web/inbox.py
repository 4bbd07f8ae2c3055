"""待我办理 (my inbox): the landing page of every user — what waits for this user's jurisdiction and role."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from srdi.web.auth import csrf_protect

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)
