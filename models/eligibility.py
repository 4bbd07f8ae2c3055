"""Eligibility verdicts (资格审查结果): an application's verdict on every rule node, with the figures used.

Stored compactly (tasks/eligibility/verdicts.py): one ``overall`` row per application, whose figures
also carry the met verdicts, and one row per verdict not met; read them through ``read_verdicts``
there (or the engine's ``explain``), never row by row.

``passed`` is three-valued: True (满足), False (不满足) and None (无法判断: a figure or fact is
missing, so a person must check). ``message`` is the sentence a clerk reads, such as
"近两年（2024—2025年）研发经费占营业收入比重 3.2% < 4%"; ``figures`` holds the raw numbers it rests
on, by fiscal year. ``node_id`` is the id of a rule node of the programme's profile (or
``exclusion:…``, ``bonus:…``, ``relaxation:…``, ``overall``); the node's label, citation and place in
the tree are read from the profile, so a row stays small. The ``overall`` row records when and
under which profile version it was judged.
The engine (tasks/eligibility/engine.py) replaces an application's rows as a whole on every run.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Optional

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel, UniqueConstraint

from models.exact import exact


class EligibilityVerdict(SQLModel, table=True):
    __tablename__ = "eligibility_verdict"
    __table_args__ = (UniqueConstraint("application_id", "node_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", description="unique with node_id; its index serves lookups")
    node_id: str = Field(max_length=80, description="rule node id of the profile, or exclusion:/bonus:/relaxation:…/overall")
    kind: str = Field(max_length=16, description="criterion / all_of / any_of / k_of_n / bands / exclusion / bonus / relaxation / overall")
    passed: Optional[bool] = Field(default=None, description="None: 无法判断（缺少数据）")
    waived: bool = Field(default=False, description="免于考核 under a relaxation (放宽条件)")
    points: Optional[Decimal] = Field(default=None, **exact(7, 2), description="加分 of a bonus row")
    figures: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    message: str = Field(sa_column=Column(Text, nullable=False))
