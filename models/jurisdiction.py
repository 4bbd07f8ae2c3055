"""Jurisdictions (行政区划, GB/T 2260), bureaus (主管部门) and their users."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel

from models.enums import JurisdictionLevel, Role

MINISTRY_CODE = "000000"


class Jurisdiction(SQLModel, table=True):
    """A node of the tree 工业和信息化部 → 省 → 市（州） → 区（县）.

    ``path`` lists the codes from the root (``000000/130000/130100/130102``) so that "inside
    this subtree" is one indexed prefix comparison in SQL.
    """

    code: str = Field(primary_key=True, max_length=6)
    name: str = Field(max_length=64)
    level: JurisdictionLevel = Field(index=True)
    parent_code: Optional[str] = Field(default=None, foreign_key="jurisdiction.code", index=True)
    path: str = Field(max_length=40, index=True)


class Bureau(SQLModel, table=True):
    """A bureau at one jurisdiction: 中小企业主管部门 (sme) or 财政部门 (finance)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=128)
    kind: str = Field(default="sme", max_length=16)
    jurisdiction_code: str = Field(foreign_key="jurisdiction.code", index=True)
    email: Optional[str] = Field(default=None, max_length=128)


class User(SQLModel, table=True):
    """A person who acts in srdi; acts only within the subtree of ``jurisdiction_code``."""

    id: Optional[int] = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=64)
    role: Role
    jurisdiction_code: str = Field(foreign_key="jurisdiction.code", index=True)
    bureau_id: Optional[int] = Field(default=None, foreign_key="bureau.id")
    enterprise_id: Optional[int] = Field(default=None, foreign_key="enterprise.id")
    email: Optional[str] = Field(default=None, max_length=128)
    password_hash: Optional[str] = Field(default=None, max_length=256)
    active: bool = True
    created_at: Optional[datetime] = None
