"""Programmes (a profile loaded from programmes/) and calls (申报批次)."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class Programme(SQLModel, table=True):
    """The database's copy of a programme profile; the YAML file is the source."""

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=128)
    tier: str = Field(max_length=32)
    documents: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    profile_sha256: str = Field(max_length=64)
    loaded_at: Optional[datetime] = None


class Call(SQLModel, table=True):
    """申报批次: one round of a programme, e.g. 河北省2026年省级专精特新中小企业认定."""

    id: str = Field(primary_key=True, max_length=64)
    programme_id: str = Field(foreign_key="programme.id", index=True)
    name: str = Field(max_length=128)
    year: int = Field(description="申报年度; 上年 = year - 1")
    batch: Optional[int] = Field(default=None, description="批次")
    jurisdiction_code: str = Field(foreign_key="jurisdiction.code", description="组织申报的辖区（省或部）")
    opens_at: datetime
    closes_at: Optional[datetime] = Field(default=None, description="企业申报截止")
    status: str = Field(default="open", max_length=16, index=True)
    kind: str = Field(default="recognition", max_length=16,
                      description="recognition (认定申报, the profile's route) / re_review (复核, validity.re_review.route)")
    created_at: Optional[datetime] = None
