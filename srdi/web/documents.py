"""Applicant documents (申报材料): evidence files per application, stored under their content hash, jurisdiction-scoped."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from srdi.web.auth import csrf_protect

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)


def of_application(session, scope, application_id: int) -> list[dict]:
    """The documents filed with one application (shown beside its eligibility verdicts)."""
    return []
