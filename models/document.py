"""Applicant documents (申报材料): the evidence files filed with an application.

The file itself lies on disk under its content hash (``$SRDI_HOME/documents/<sha256[:2]>/<sha256>``,
tasks/intake/documents.py), so the same file filed twice is stored once; this table holds what was
filed with which application, by whom and when. It is a record: the database refuses UPDATE and DELETE.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel, UniqueConstraint

from models.append_only import append_only

DOCUMENT_KINDS = {
    "application_form": "申报书",
    "financial_statement": "财务报表",
    "intellectual_property": "知识产权证明",
    "certificate": "资质证书",
    "other": "其他材料",
}


class ApplicationDocument(SQLModel, table=True):
    """申报材料: one file filed with one application."""

    __tablename__ = "application_document"
    __table_args__ = (UniqueConstraint("application_id", "sha256", name="uq_application_document_file"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    sha256: str = Field(max_length=64, index=True, description="hex SHA-256 of the content: its name on disk")
    filename: str = Field(max_length=255, description="the name it was uploaded under")
    content_type: str = Field(max_length=128, description="as recognised from the content, not as the client said")
    size_bytes: int
    kind: str = Field(max_length=32, description="a DOCUMENT_KINDS key")
    description: Optional[str] = Field(default=None, max_length=500)
    uploaded_by: str = Field(max_length=64)
    uploaded_at: datetime


append_only(ApplicationDocument.__table__, "application_document is append-only")
