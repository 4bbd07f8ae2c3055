"""People's decisions on applications: one domain call each, checked and written in one transaction.

A reviewer of the bureau at the application's current level — the bureau whose jurisdiction reviews
it there — recommends (同意推荐, optionally with a score), returns it for revision (退回修改, reasons
required) or rejects it (不予推荐, reason required, terminal for the call). The applicant resubmits a
returned application (it comes back to the same level) or withdraws it (撤回) before the provincial
level. Every call checks the actor's role, that the actor's jurisdiction covers the application
(``Jurisdiction.path`` prefix), the current level and status, and the level window's deadline; then
it writes the new status and one transition row. The status change is guarded by what was read
(``Application.version``, or for a batch the pending status at the reviewer's desk): of two reviewers
deciding the same application at once exactly one succeeds, the other gets ``Conflict``.

``decide_many`` (批量审核) takes a reviewer's whole batch: the common case is verified by one query
and written set-wise (tasks/review/decision_writes.py); anything unusual, and every refusal, goes
through the per-application checks so the message names the application and the rule.

Usage (the caller owns the transaction)::

    with engine.begin() as connection:
        decide(connection, "SQ2026-…-000001", "recommend", "reviewer-130102", score=Decimal("88.5"))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Optional, Sequence, Union

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session

from models.application import Application
from models.clock import clock, local
from models.enums import ApplicationStatus, ReviewLevel, Role
from models.errors import Conflict, Forbidden, NotFound, RuleViolation
from models.id_list import in_list
from models.jurisdiction import Jurisdiction
from models.profile import Scoring
from models.programme import Call
from models.review import LevelWindow
from models.transition import Transition
from tasks.people.actors import Actor, load_actor
from tasks.reference.calls import call_context
from tasks.reference.programmes import get_profile, load_all
from tasks.reports.labels import action_label, status_label
from tasks.review.decision_writes import DECIDABLE, Decided, write_decisions
from tasks.review.moves import chunks

AppKey = Union[int, str]


class Decision(StrEnum):
    recommend = "recommend"      # 同意推荐
    return_ = "return"           # 退回修改
    reject = "reject"            # 不予推荐


RESULT = {
    Decision.recommend: ApplicationStatus.recommended,
    Decision.return_: ApplicationStatus.returned,
    Decision.reject: ApplicationStatus.rejected,
}
LEVELS = {level.value: level for level in ReviewLevel}
ANY_SCORE = Scoring()          # the default range, built once (a batch checks thousands of scores against it)


@dataclass(frozen=True)
class DecisionItem:
    """One decision of a batch (``decide_many``)."""

    application: AppKey
    decision: Decision
    reason: Optional[str] = None
    score: Optional[Decimal] = None
    expected_version: Optional[int] = None
    override: Optional[str] = None       # 推荐理由 when recommending an application the eligibility check found 不符合


@dataclass(frozen=True)
class Outcome:
    application_id: int
    ref: str
    level: ReviewLevel
    status: ApplicationStatus
    version: int


# Statements built once (the web console and batch reviews call these thousands of times).
_DESK = Jurisdiction.__table__.alias("desk")
_APPLICATIONS = (
    select(Application.id, Application.ref, Application.call_id, Application.enterprise_id, Application.level,
           Application.status, Application.version, Application.review_jurisdiction_code, Application.eligible,
           Jurisdiction.path.label("home_path"), Jurisdiction.name.label("home_name"), _DESK.c.name.label("desk_name"),
           LevelWindow.id.label("window_id"), LevelWindow.due_at, LevelWindow.late_from, LevelWindow.closed_at)
    .join(Jurisdiction, Jurisdiction.code == Application.jurisdiction_code)
    .outerjoin(_DESK, _DESK.c.code == Application.review_jurisdiction_code)
    .outerjoin(LevelWindow, and_(LevelWindow.call_id == Application.call_id, LevelWindow.level == Application.level,
                                 LevelWindow.jurisdiction_code == Application.review_jurisdiction_code))
)
# by id and by ref apart: an OR of the two lists would scan every application
_BY = {"ids": _APPLICATIONS.where(in_list(Application.id, "ids")), "refs": _APPLICATIONS.where(in_list(Application.ref, "refs", text=True))}

def _key(key: AppKey) -> AppKey:
    return int(key) if isinstance(key, int) or str(key).isdigit() else str(key)


def load_applications(connection: Connection, keys: Sequence[AppKey]) -> dict[AppKey, Row]:
    """The applications (by id or ref) with their home path, reviewing jurisdiction name and level window."""
    found: dict[AppKey, Row] = {}
    for chunk in chunks([_key(k) for k in keys]):
        ids = [k for k in chunk if isinstance(k, int)]
        refs = [k for k in chunk if isinstance(k, str)]
        for name, wanted in (("ids", ids), ("refs", refs)):
            for row in connection.execute(_BY[name], {name: wanted}) if wanted else ():
                found[row.id] = found[row.ref] = row
    missing = [k for k in keys if _key(k) not in found]
    if missing:
        raise NotFound(f"申报 {missing[0]} 不存在")
    return {k: found[_key(k)] for k in keys}


def _late_allowed(connection: Connection, rows: list[Row]) -> dict[str, bool]:
    """Per call: whether the final level accepts late decisions (on_missed: escalate has no parent)."""
    allowed = {}
    for call_id in {row.call_id for row in rows}:
        context = call_context(connection, call_id)
        allowed[call_id] = (context.final.level, context.final.on_missed == "escalate")
    return allowed


def _check_window(row: Row, now: datetime, late_ok: bool) -> Optional[str]:
    """Refuse a closed or overdue level; returns a lateness note when a late act is accepted."""
    level = ReviewLevel(row.level)
    if row.window_id is None:
        raise RuleViolation(f"申报 {row.ref}：{row.desk_name}{level.label}级审核尚未开启")
    if row.closed_at is not None:
        raise RuleViolation(f"申报 {row.ref}：{row.desk_name}{level.label}级审核已于 {local(row.closed_at):%Y-%m-%d %H:%M} 结束")
    if now >= row.late_from:
        due = f"{local(row.due_at):%Y-%m-%d %H:%M}"
        if not late_ok:
            raise RuleViolation(f"申报 {row.ref}：已超过{row.desk_name}{level.label}级审核截止时间（{due}），不能再办理；"
                                "到期事项由系统按规定处理")
        return f"逾期办理（截止 {due}）"
    return None


def _check_version(row: Row, expected: Optional[int]) -> None:
    if expected is not None and expected != row.version:
        raise Conflict(f"申报 {row.ref} 已被他人修改（您看到的是第{expected}版，当前为第{row.version}版，"
                       f"状态：{status_label(row.status)}），请刷新后重试")


def _already_decided(connection: Connection, row: Row) -> Conflict:
    last = connection.execute(select(Transition.actor, Transition.action, Transition.at)
                              .where(Transition.application_id == row.id).order_by(Transition.id.desc()).limit(1)).first()
    who = f"已由 {last.actor} 于 {local(last.at):%Y-%m-%d %H:%M:%S} 作出“{action_label(last.action)}”" if last else "已被处理"
    return Conflict(f"申报 {row.ref} {who}（当前状态：{status_label(row.status)}），您的决定未保存")


def _check_reviewer(connection: Connection, who: Actor, row: Row, item: DecisionItem) -> None:
    level = ReviewLevel(row.level)
    if who.role == Role.applicant:
        raise Forbidden(f"申报企业用户 {who.username} 不能对申报 {row.ref} 作出审核决定")
    if who.role != Role.reviewer:
        raise Forbidden(f"用户 {who.username}（角色 {who.role.value}）不能作出审核决定，须为审核人员（reviewer）")
    if not who.covers(row.home_path):
        raise Forbidden(f"申报 {row.ref}（所在 {row.home_name}）不在用户 {who.username} 的辖区 {who.jurisdiction_name} 内")
    if who.jurisdiction_code != row.review_jurisdiction_code:
        raise Forbidden(f"申报 {row.ref} 当前由{row.desk_name}{level.label}级审核，"
                        f"{who.jurisdiction_name}的用户 {who.username} 不能作出决定")
    _check_version(row, item.expected_version)
    if row.status != ApplicationStatus.pending:
        # decided (or ended) since the reviewer looked: a conflict, whoever it was and whatever it became
        raise _already_decided(connection, row)
    if item.decision in (Decision.return_, Decision.reject) and not (item.reason or "").strip():
        raise RuleViolation(f"申报 {row.ref}：“{action_label(item.decision.value)}”须写明原因")
    if _overridden(row, item) and not (item.override or "").strip():
        raise RuleViolation(f"申报 {row.ref}：资格审查结论为“不符合”，仍要同意推荐须写明推荐理由")


def _overridden(row: Row, item: DecisionItem) -> bool:
    """A recommendation against the eligibility check's 不符合 (it needs, and records, a reason)."""
    return item.decision == Decision.recommend and row.eligible is False


def _override_note(override: Optional[str]) -> Optional[str]:
    return f"资格审查不符合，仍予推荐：{override.strip()}" if override and override.strip() else None


def _scoring_by_call(connection: Connection, call_ids: set[str]) -> dict[str, Scoring]:
    """Each call's score range (评分区间), as its programme profile states it."""
    return {call_id: call_context(connection, call_id).profile.scoring for call_id in call_ids}


def _scoring_by_application(connection: Connection, ids: list[int]) -> dict[int, Scoring]:
    """The score range of each application's programme, one query per chunk of ids."""
    programmes: dict[int, str] = {}
    for chunk in chunks(ids, 5000):
        programmes.update(connection.execute(select(Application.id, Call.programme_id).join(Call, Call.id == Application.call_id)
                                             .where(Application.id.in_(chunk))).all())
    scoring = {programme_id: get_profile(programme_id).scoring for programme_id in set(programmes.values())}
    return {app_id: scoring[programme_id] for app_id, programme_id in programmes.items()}


def _fits_every_programme(items: list[DecisionItem]) -> bool:
    """True when every score is within every programme's range: then whose programme it is needs no lookup."""
    ranges = None
    for item in items:
        if item.score is None:
            continue
        ranges = ranges or {ANY_SCORE} | {profile.scoring for profile in load_all().values()}
        try:
            value = Decimal(str(item.score))
        except InvalidOperation:
            return False
        if not value.is_finite() or not all(r.accepts(value) for r in ranges):
            return False
    return True


def _check_score(score: Optional[Decimal], ref: str, scoring: Optional[Scoring]) -> Optional[Decimal]:
    if score is None:
        return None
    try:
        value = Decimal(str(score))
    except InvalidOperation:
        raise RuleViolation(f"申报 {ref}：评分 {score!r} 不是数字") from None
    scoring = scoring or ANY_SCORE
    if not value.is_finite() or not scoring.accepts(value):
        raise RuleViolation(f"申报 {ref}：评分应在 {scoring.text}，实际为 {score}")
    return value.quantize(Decimal("0.01"))


def _write(connection: Connection, changes: list[dict], who: Actor, now: datetime) -> list[Outcome]:
    """Status changes guarded by the version read, the scores, then the log; Conflict if any version moved."""
    ref = changes[0]["row"].ref if len(changes) == 1 else f"中有 {len(changes)} 件之一"
    versions = write_decisions(connection, [Decided(c["row"].id, c["action"], c["row"].version,
                                                    "；".join(p for p in (c["reason"], _override_note(c.get("override")), c["late"])
                                                             if p) or None, c["score"], c.get("override"))
                                            for c in changes],
                               who, now, f"申报 {ref} 刚被他人修改，您的决定未保存，请刷新后重试")
    return [Outcome(c["row"].id, c["row"].ref, ReviewLevel(c["row"].level), c["to"], versions[c["row"].id]) for c in changes]


def _decide_set(connection: Connection, who: Actor, items: list[DecisionItem], now: datetime) -> Optional[list[Outcome]]:
    """A reviewer's batch checked and written set-wise, or None when it needs the per-application path.

    The common batch — application ids, no expected versions, reasons and scores in order, every one
    pending at the reviewer's own desk in a level window that is open and in time — is verified by
    one query and written in a few statements. Anything else (and every refusal, so that it
    is explained precisely) goes through the per-application checks.
    """
    if who.role != Role.reviewer or any(not isinstance(i.application, int) or i.expected_version is not None or i.override
                                        for i in items):
        return None
    scores = {}
    scored = [i.application for i in items if i.score is not None]
    scoring = {} if _fits_every_programme(items) else _scoring_by_application(connection, scored)
    for item in items:
        if item.decision != Decision.recommend and not (item.reason or "").strip():
            return None
        try:
            scores[item.application] = _check_score(item.score, str(item.application), scoring.get(item.application))
        except RuleViolation:
            return None
    ids = [item.application for item in items]
    read = {}
    for chunk in chunks(ids, 5000):
        read.update((row.id, row) for row in connection.execute(DECIDABLE, {"ids": chunk, "desk": who.jurisdiction_code, "now": now}))
    if len(read) != len(ids) or not all(row.decidable for row in read.values()) \
            or any(_overridden(read[item.application], item) for item in items):
        return None
    what = f"本批 {len(ids)} 件申报中有的" if len(ids) > 1 else f"申报 {read[ids[0]].ref} "
    versions = write_decisions(connection, [Decided(item.application, item.decision.value, None, (item.reason or "").strip() or None,
                                                    scores[item.application]) for item in items],
                               who, now, f"{what}刚被他人处理，您的决定未保存，请刷新后重试", desk=who.jurisdiction_code)
    return [Outcome(item.application, read[item.application].ref, LEVELS[read[item.application].level], RESULT[item.decision],
                    versions[item.application]) for item in items]


def decide_many(connection: Union[Connection, Session], items: Sequence[DecisionItem], actor: str,
                now: Optional[datetime] = None) -> list[Outcome]:
    """Record a batch of decisions by one reviewer (批量审核); all are written or none."""
    connection, now = as_connection(connection), now or clock.now()
    who = load_actor(connection, actor)
    items = [DecisionItem(i.application, Decision(i.decision), i.reason, i.score, i.expected_version, i.override) for i in items]
    keys = [item.application for item in items]
    if len(set(map(str, keys))) != len(keys):
        raise RuleViolation("同一批决定中同一申报出现了两次")
    done = _decide_set(connection, who, items, now) if items else []
    if done is not None:
        return done
    rows = load_applications(connection, keys)
    late_rules = _late_allowed(connection, list(rows.values()))
    scoring = _scoring_by_call(connection, {row.call_id for row in rows.values()})
    changes = []
    for item in items:
        row, decision = rows[item.application], item.decision
        _check_reviewer(connection, who, row, item)
        final_level, escalates = late_rules[row.call_id]
        late = _check_window(row, now, late_ok=escalates and row.level == final_level)
        score = _check_score(item.score, row.ref, scoring[row.call_id])
        changes.append({"row": row, "to": RESULT[decision], "action": decision.value, "score": score,
                        "override": item.override.strip() if _overridden(row, item) else None,
                        "reason": (item.reason or "").strip() or None, "late": late})
    return _write(connection, changes, who, now) if changes else []


def decide(connection: Union[Connection, Session], application_id: AppKey, decision: Union[Decision, str], actor: str, *,
           reason: Optional[str] = None, score: Optional[Decimal] = None, expected_version: Optional[int] = None,
           override: Optional[str] = None, now: Optional[datetime] = None) -> Outcome:
    """Record one reviewer's decision (recommend / return / reject) on an application (id or ref).

    ``expected_version`` is the ``Application.version`` the reviewer saw; a different one is a Conflict.
    ``override``: the reason for recommending an application whose eligibility check said 不符合 (required then).
    A SQLModel/SQLAlchemy Session may be passed instead of a Connection (its transaction is used).
    """
    try:
        decision = Decision(decision)
    except ValueError:
        raise RuleViolation(f"决定应为 recommend / return / reject，实际为 {decision!r}") from None
    item = DecisionItem(application_id, decision, reason, score, expected_version, override)
    return decide_many(connection, [item], actor, now)[0]


def as_connection(db: Union[Connection, Session]) -> Connection:
    """The connection of a Session's transaction, or the connection itself."""
    return db.connection() if isinstance(db, Session) else db


def _applicant_row(connection: Connection, application: AppKey, actor: str, what: str) -> tuple[Actor, Row]:
    who = load_actor(connection, actor)
    row = load_applications(connection, [application])[application]
    if who.role != Role.applicant:
        raise Forbidden(f"只有申报企业可以{what}，用户 {who.username} 的角色是 {who.role.value}")
    if who.enterprise_id != row.enterprise_id:
        raise Forbidden(f"申报 {row.ref} 不是用户 {who.username} 所在企业的申报，不能{what}")
    return who, row


def resubmit(connection: Union[Connection, Session], application_id: AppKey, actor: str, *,
             reason: Optional[str] = None, expected_version: Optional[int] = None, now: Optional[datetime] = None) -> Outcome:
    """The applicant resubmits a returned application (重新提交); it is pending again at the same level."""
    connection, now = as_connection(connection), now or clock.now()
    who, row = _applicant_row(connection, application_id, actor, "重新提交")
    _check_version(row, expected_version)
    if row.status != ApplicationStatus.returned:
        raise RuleViolation(f"申报 {row.ref} 当前状态为{status_label(row.status)}，只有被退回修改的申报可以重新提交")
    final_level, escalates = _late_allowed(connection, [row])[row.call_id]
    late = _check_window(row, now, late_ok=escalates and row.level == final_level)
    return _write(connection, [{"row": row, "to": ApplicationStatus.pending, "action": "resubmit", "score": None,
                                "reason": (reason or "").strip() or None, "late": late}], who, now)[0]


def withdraw(connection: Union[Connection, Session], application_id: AppKey, actor: str, *,
             reason: Optional[str] = None, expected_version: Optional[int] = None, now: Optional[datetime] = None) -> Outcome:
    """The applicant withdraws (撤回申报) while the application is below the provincial level."""
    connection, now = as_connection(connection), now or clock.now()
    who, row = _applicant_row(connection, application_id, actor, "撤回申报")
    _check_version(row, expected_version)
    status, level = ApplicationStatus(row.status), ReviewLevel(row.level)
    if status.terminal:
        raise RuleViolation(f"申报 {row.ref} 已终结（{status_label(status)}），不能撤回")
    rule = call_context(connection, row.call_id).profile.withdrawal
    if not rule.allows(level):
        closes = rule.closes_at
        if closes is not None and list(ReviewLevel).index(level) >= list(ReviewLevel).index(closes):
            raise RuleViolation(f"申报 {row.ref} 已报送{level.label}级，报送{closes.label}级后不能撤回")
        allowed = "、".join(f"{lv.label}级" for lv in rule.levels) or "无"
        raise RuleViolation(f"申报 {row.ref} 在{level.label}级审核阶段不能撤回（可撤回的层级：{allowed}）")
    if row.closed_at is not None:
        raise RuleViolation(f"申报 {row.ref}：{row.desk_name}{level.label}级审核已结束，不能撤回")
    return _write(connection, [{"row": row, "to": ApplicationStatus.withdrawn, "action": "withdraw", "score": None,
                                "reason": (reason or "").strip() or None, "late": None}], who, now)[0]
