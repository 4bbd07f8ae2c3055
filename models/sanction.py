"""Sanctions (惩戒): a ban on applying after false information (提供虚假材料), kept as a row.

``Enterprise.banned_until`` holds the ban in force (what new applications are checked against);
this table keeps every ban decided, by whom, why and under which programme's rule.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlmodel import Field, SQLModel


class Sanction(SQLModel, table=True):
    __tablename__ = "sanction"

    id: Optional[int] = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    programme_id: str = Field(foreign_key="programme.id", description="whose ban rule applies")
    kind: str = Field(default="ban", max_length=16)
    reason: str
    starts_on: date
    banned_until: date = Field(description="禁止申报至（含）")
    decided_by: str = Field(max_length=64)
    decided_at: datetime
    cite: Optional[str] = Field(default=None, max_length=256)
