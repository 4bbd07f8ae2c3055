"""Whether a call takes these records in (受理条件): the call, who acts, where, and what the database forbids.

``Intake`` is one call taken into by one actor, loaded once per batch: the call is open and before its
申报截止; the actor is ``system``, an applicant acting for its own enterprise, or bureau staff inside
their subtree; an applicant's 区（县） lies inside the call's jurisdiction; an enterprise under a ban
(``Enterprise.banned_until``) cannot apply; no record may reach a level window that has closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.engine import Connection

from models.clock import local
from models.enterprise import Enterprise
from models.enums import JurisdictionLevel, ReviewLevel, Role
from models.errors import Forbidden, RuleViolation
from models.review import LevelWindow
from tasks.intake.problem import Problem
from tasks.intake.record import IntakeRecord
from tasks.people.actors import Actor, load_actor
from tasks.reference.calls import CallContext, call_context
from tasks.reference.routing import Tree
from tasks.review.moves import chunks

LOOKUP = 5000  # keys per IN (…) lookup: well under the parameter limits of SQLite (32766) and PostgreSQL


def resolve_actor(connection: Connection, username: str, call_jurisdiction: str) -> Actor:
    """``system``, or an active user: applicants act for their enterprise, bureau staff in their subtree."""
    if username == "system":
        return Actor.system(call_jurisdiction)
    actor = load_actor(connection, username)
    if actor.role == Role.applicant and actor.enterprise_id is None:
        raise Forbidden(f"申报用户 {username} 未关联企业，不能提交申报")
    return actor


@dataclass
class Intake:
    """One call taken into by one actor: what every check and the writer need, loaded once."""

    connection: Connection
    context: CallContext
    tree: Tree
    who: Actor
    now: datetime

    @classmethod
    def open(cls, connection: Connection, call_id: str, actor: str, now: datetime) -> Intake:
        context = call_context(connection, call_id)
        return cls(connection, context, Tree.load(connection), resolve_actor(connection, actor, context.call.jurisdiction_code), now)

    def check_open(self) -> None:
        """Refuse the whole batch when the call no longer takes applications in."""
        call = self.context.call
        if call.status != "open":
            raise RuleViolation(f"批次 {call.id} 状态为 {call.status}，不再受理申报")
        if self.now < call.opens_at:
            raise RuleViolation(f"批次 {call.id} 于 {local(call.opens_at):%Y-%m-%d %H:%M} 开始受理，现在尚未开始")
        if call.closes_at is not None and self.now > call.closes_at:
            raise RuleViolation(f"批次 {call.id} 已于 {local(call.closes_at):%Y-%m-%d %H:%M} 截止申报")

    def entry_level(self, record: IntakeRecord) -> ReviewLevel:
        return record.entry_level or self.context.entry.level

    def jurisdiction_problem(self, code: str) -> Optional[str]:
        """Why an applicant in ``code`` cannot be taken in here (a 区（县） inside the call and the actor's subtree)."""
        tree, who = self.tree, self.who
        node = tree.get(code)
        if node is None or not (node.level == JurisdictionLevel.county
                                or (node.level == JurisdictionLevel.prefecture and tree.is_leaf(code))):
            return "应为区（县）级行政区划代码"
        call_node = tree.get(self.context.call.jurisdiction_code)
        if not call_node.covers(node.path):
            return f"不在本批次组织辖区 {call_node.name} 内"
        if who.role not in (Role.system, Role.applicant) and not tree.get(who.jurisdiction_code).covers(node.path):
            return f"不在用户 {who.username} 的辖区 {tree.name(who.jurisdiction_code)} 内"
        return None

    def refusals(self, records: list[IntakeRecord], columns: Mapping[str, str]) -> list[Problem]:
        """What only the database can tell: bans, an applicant's own enterprise, closed level windows."""
        connection, tree = self.connection, self.tree
        uscc_column, place_column = columns.get("uscc", ""), columns.get("jurisdiction_code", "")
        problems: list[Problem] = []
        today = local(self.now).date()
        known: dict[str, tuple] = {}
        for chunk in chunks([r.uscc for r in records], LOOKUP):
            for row in connection.execute(select(Enterprise.uscc, Enterprise.id, Enterprise.banned_until, Enterprise.ban_reason)
                                          .where(Enterprise.uscc.in_(chunk))):
                known[row.uscc] = row
        own_enterprise = self.who.enterprise_id if self.who.role == Role.applicant else None
        for r in records:
            found = known.get(r.uscc)
            if found is not None and found.banned_until is not None and found.banned_until >= today:
                why = f"（{found.ban_reason}）" if found.ban_reason else ""
                problems.append(Problem(r.row, "uscc", r.uscc, f"该企业被禁止申报至 {found.banned_until}{why}", uscc_column))
            if own_enterprise is not None and (found is None or found.id != own_enterprise):
                problems.append(Problem(r.row, "uscc", r.uscc, f"申报用户 {self.who.username} 只能为本企业申报", uscc_column))
        call_id = self.context.call.id
        order = [step.level for step in self.context.levels]
        any_closed = connection.execute(select(LevelWindow.id).where(
            LevelWindow.call_id == call_id, LevelWindow.closed_at.is_not(None)).limit(1)).first()
        for level in order if any_closed else []:
            # a record starting at or below ``level`` would reach ``level``'s window: it must not be closed
            reaching = [r for r in records if order.index(self.entry_level(r)) <= order.index(level)]
            desks = {id(r): tree.reviewer_at(r.jurisdiction_code, level) for r in reaching}
            closed = _closed_windows(connection, call_id, level, set(desks.values()))
            for r in reaching:
                desk = desks[id(r)]
                if desk in closed:
                    problems.append(Problem(r.row, "jurisdiction_code", r.jurisdiction_code,
                                            f"{tree.name(desk)}{level.label}级审核已于 {local(closed[desk]):%Y-%m-%d %H:%M} 结束，不再受理",
                                            place_column))
        return problems


def _closed_windows(connection: Connection, call_id: str, level: str, codes: set[str]) -> dict[str, datetime]:
    closed: dict[str, datetime] = {}
    for chunk in chunks(sorted(codes)):
        closed.update(connection.execute(select(LevelWindow.jurisdiction_code, LevelWindow.closed_at).where(
            LevelWindow.call_id == call_id, LevelWindow.level == level, LevelWindow.jurisdiction_code.in_(chunk),
            LevelWindow.closed_at.is_not(None))).all())
    return closed
