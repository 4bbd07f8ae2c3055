"""The workflow table (流转规则): every stateful table's allowed moves, in one place.

One ``Machine`` per stateful table: its status column, its statuses with their Chinese labels, and
its actions. An ``Action`` names the statuses it may start from (none: it creates the row), the
status it leads to (``None``: the row keeps its status — a logged non-move such as an eligibility
score), who may take it (roles; ``system`` for a pipeline step) and a label a clerk reads.

Nothing here writes: models/workflow_writer.py applies an action to a set of rows and refuses any
move this table does not declare. Logged machines record every change (applications in the
``transition`` table, the others in ``state_change``); the operational ones (outgoing mail,
deadlines, job runs) are their own record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Iterable, Optional, Protocol

from models.application import Application
from models.deadline import Deadline, DeadlineState
from models.enums import ApplicationStatus, Role
from models.errors import RuleViolation
from models.funding import DisbursementRun, FundingRecipient, FundTranche, RecipientStatus, RunStatus, TrancheStatus
from models.funding_plan import ImplementationPlan, PlanStatus, WorkArrangement, WorkArrangementStatus
from models.name_change import NameChange, NameChangeStatus
from models.notice import Notice, NoticeEntry, NoticeEntryStatus, NoticeStatus, Objection, ObjectionStatus
from models.operations import JobRun, JobStatus
from models.outbox import MailState, OutgoingMail
from models.performance import Rectification, RectificationStatus
from models.recognition import Recognition, RecognitionStatus
from models.rereview import ReReviewCase, ReReviewOutcome

SYSTEM = frozenset({Role.system})
BUREAU = frozenset({Role.clerk, Role.reviewer, Role.admin})
STAFF = BUREAU | SYSTEM
ANYONE = frozenset(Role)


class UnknownAction(RuleViolation):
    """An action (or machine) the workflow table does not declare."""


@dataclass(frozen=True)
class Action:
    """One allowed move: from any of ``sources`` to ``target`` (``None``: stays), by ``roles``."""

    name: str
    label: str
    sources: frozenset[str]
    target: Optional[str]
    roles: frozenset[Role]

    @property
    def creates(self) -> bool:
        """True for the action that brings a row into being (it starts from no status)."""
        return not self.sources

    def leads_to(self, status: str) -> str:
        return status if self.target is None else self.target


@dataclass(frozen=True)
class Machine:
    """The state machine of one table: ``column`` of ``table`` takes the values of ``statuses``."""

    name: str
    label: str                       # what a row is called in a message: 申报, 公示, 异议…
    table: type
    column: str
    statuses: dict[str, str]         # status → Chinese label, in the enum's order
    actions: dict[str, Action]
    logged: bool = True
    version_column: Optional[str] = None   # increased by every move (optimistic concurrency)
    touched_column: Optional[str] = None   # set to the time of every move
    doc: str = ""

    def action(self, name: str) -> Action:
        try:
            return self.actions[name]
        except KeyError:
            known = "、".join(self.actions)
            raise UnknownAction(f"{self.label}没有“{name}”这一操作（可用：{known}）") from None

    def status_label(self, status: Optional[str]) -> str:
        if status is None:
            return "（新建）"
        value = status.value if isinstance(status, StrEnum) else str(status)
        return self.statuses.get(value, value)

    def reachable(self) -> set[str]:
        """Statuses a row can be in: the targets of the creating actions and everything they lead to."""
        seen = {a.target for a in self.actions.values() if a.creates and a.target is not None}
        frontier = list(seen)
        while frontier:
            status = frontier.pop()
            for action in self.actions.values():
                if status in action.sources:
                    nxt = action.leads_to(status)
                    if nxt not in seen:
                        seen.add(nxt)
                        frontier.append(nxt)
        return seen


def _values(statuses: Iterable) -> frozenset[str]:
    return frozenset(s.value if isinstance(s, StrEnum) else str(s) for s in statuses)


def act(name: str, label: str, sources: Iterable, target, roles: Iterable[Role]) -> Action:
    target = None if target is None else (target.value if isinstance(target, StrEnum) else str(target))
    return Action(name, label, _values(sources), target, frozenset(roles))


def machine(name: str, label: str, table: type, column: str, statuses: dict, actions: list[Action], **options) -> Machine:
    by_name = {a.name: a for a in actions}
    assert len(by_name) == len(actions), f"{name}: duplicate action"
    labels = {(k.value if isinstance(k, StrEnum) else k): v for k, v in statuses.items()}
    for a in actions:
        assert a.sources <= labels.keys() and (a.target is None or a.target in labels), f"{name}.{a.name}: unknown status"
    return Machine(name, label, table, column, labels, by_name, **options)


A = ApplicationStatus
OPEN_APPLICATION = (A.pending, A.returned, A.recommended, A.on_notice, A.on_hold)

APPLICATION = machine(
    "application", "申报", Application, "status",
    {A.pending: "待审核", A.returned: "退回修改", A.recommended: "同意推荐", A.rejected: "不予推荐", A.withdrawn: "已撤回",
     A.quota_cut: "超出名额", A.lapsed: "视同未申报", A.on_notice: "公示中", A.on_hold: "异议调查中", A.removed: "移出名单",
     A.recognised: "已认定"},
    [
        act("submit", "提交申报", (), A.pending, ANYONE),
        act("assess", "资格审查", [s for s in A if s.value != "draft"], None, STAFF),
        act("recommend", "同意推荐", (A.pending,), A.recommended, {Role.reviewer}),
        act("return", "退回修改", (A.pending,), A.returned, {Role.reviewer}),
        act("reject", "不予推荐", (A.pending,), A.rejected, {Role.reviewer}),
        act("resubmit", "重新提交", (A.returned,), A.pending, {Role.applicant}),
        act("withdraw", "撤回申报", OPEN_APPLICATION, A.withdrawn, {Role.applicant}),
        act("forward", "报送上级", (A.recommended,), A.pending, STAFF),
        act("escalate", "逾期报送上级", (A.pending,), A.pending, STAFF),
        act("lapse", "视同未申报", (A.pending, A.returned), A.lapsed, STAFF),
        act("quota_cut", "超出名额", (A.recommended, A.pending), A.quota_cut, STAFF),
        act("notice-open", "列入公示", (A.recommended,), A.on_notice, STAFF),
        act("objection", "收到异议", (A.on_notice,), A.on_hold, BUREAU),
        act("objection-upheld", "异议成立，移出名单", (A.on_hold,), A.removed, BUREAU),
        act("objection-rejected", "异议不成立，恢复公示", (A.on_hold,), A.on_notice, BUREAU),
        act("recognise", "公示期满，予以认定", (A.on_notice,), A.recognised, SYSTEM),
    ],
    version_column="version", touched_column="updated_at",
    doc="an enterprise's application to one call, level by level (transition log)",
)

N, E, OB = NoticeStatus, NoticeEntryStatus, ObjectionStatus
NOTICE = machine("notice", "公示", Notice, "status", {N.open: "公示中", N.closed: "公示期满"}, [
    act("open", "发布公示", (), N.open, STAFF),
    act("close", "公示期满", (N.open,), N.closed, STAFF),
], doc="a 公示 list")
NOTICE_ENTRY = machine(
    "notice_entry", "公示条目", NoticeEntry, "status",
    {E.listed: "在公示名单上", E.on_hold: "异议调查中", E.removed: "移出名单", E.recognised: "已认定"}, [
        act("list", "列入公示名单", (), E.listed, STAFF),
        act("hold", "收到异议", (E.listed,), E.on_hold, BUREAU),
        act("remove", "异议成立，移出名单", (E.on_hold,), E.removed, BUREAU),
        act("restore", "异议不成立，恢复公示", (E.on_hold,), E.listed, BUREAU),
        act("recognise", "公示期满，予以认定", (E.listed,), E.recognised, SYSTEM),
    ], touched_column="updated_at", doc="one application on a 公示 list")
OBJECTION = machine("objection", "异议", Objection, "status", {OB.open: "调查中", OB.upheld: "异议成立", OB.rejected: "异议不成立"}, [
    act("record", "登记异议", (), OB.open, BUREAU),
    act("uphold", "异议成立", (OB.open,), OB.upheld, BUREAU),
    act("reject", "异议不成立", (OB.open,), OB.rejected, BUREAU),
], doc="an objection to a 公示 entry")

P = PlanStatus
PLAN = machine(
    "plan", "实施方案", ImplementationPlan, "status",
    {P.drafting: "编制中", P.submitted: "报送版已报", P.preliminary_opinion: "初步合规性审核意见已反馈",
     P.formal_opinion: "正式合规性审核意见已反馈", P.filed: "备案版已报", P.approved: "已批复"}, [
        act("open", "编制实施方案", (), P.drafting, STAFF),
        act("submit", "报送报送版", (P.drafting, P.submitted), P.submitted, STAFF),
        act("preliminary_opinion", "登记初步合规性审核意见", (P.submitted,), P.preliminary_opinion, STAFF),
        act("formal_opinion", "登记正式合规性审核意见", (P.preliminary_opinion,), P.formal_opinion, STAFF),
        act("file", "报送备案版", (P.formal_opinion, P.filed), P.filed, STAFF),
        act("approve", "批复", (P.filed,), P.approved, STAFF),
    ], doc="a province's 实施方案 (报送版 → 备案版 → 批复)")
W = WorkArrangementStatus
WORK_ARRANGEMENT = machine("work_arrangement", "工作安排", WorkArrangement, "status",
                           {W.submitted: "已函报", W.deemed_not_applied: "视同不申请"}, [
    act("submit", "函报工作安排", (), W.submitted, STAFF),
    act("submit_late", "逾期函报，视同不申请", (), W.deemed_not_applied, STAFF),
    act("deem_not_applied", "逾期未报送，视同不申请", (), W.deemed_not_applied, STAFF),
], doc="a province's yearly 工作安排 letter")
R = RecipientStatus
RECIPIENT = machine("recipient", "支持对象", FundingRecipient, "status", {R.active: "实施中", R.discontinued: "停止支持"}, [
    act("enrol", "列入支持名单", (), R.active, STAFF),
    act("discontinue", "停止支持", (R.active,), R.discontinued, STAFF),
], doc="a funded enterprise or platform of an approved plan")
T = TrancheStatus
TRANCHE = machine(
    "tranche", "资金批次", FundTranche, "status",
    {T.scheduled: "待下达", T.received: "已接到指标发文", T.disbursed: "已拨付", T.reported: "分配方案已上报"}, [
        act("schedule", "排定资金批次", (), T.scheduled, STAFF),
        act("receive", "接到中央直达资金指标发文", (T.scheduled,), T.received, STAFF),
        act("disburse", "按分配方案拨付", (T.received,), T.disbursed, STAFF),
        act("report", "分配方案上报财政部", (T.disbursed,), T.reported, STAFF),
    ], doc="one tranche of a plan's money (批复当年, 满1年, 满2年)")
RUN = machine("disbursement_run", "拨付运行", DisbursementRun, "status",
              {RunStatus.running: "运行中", RunStatus.completed: "已完成", RunStatus.failed: "失败"}, [
    act("start", "开始拨付", (), RunStatus.running, STAFF),
    act("complete", "拨付完成", (RunStatus.running,), RunStatus.completed, STAFF),
    act("fail", "拨付失败或中断", (RunStatus.running,), RunStatus.failed, STAFF),
], doc="one run of a tranche's disbursement")
RECTIFICATION = machine("rectification", "整改事项", Rectification, "status",
                        {RectificationStatus.open: "整改中", RectificationStatus.done: "整改到位"}, [
    act("open", "提出整改", (), RectificationStatus.open, STAFF),
    act("close", "整改到位", (RectificationStatus.open,), RectificationStatus.done, STAFF),
], doc="a problem found by a performance review, to be rectified")

G = RecognitionStatus
RECOGNITION = machine("recognition", "认定", Recognition, "status", {G.active: "有效", G.revoked: "已撤销", G.expired: "期满失效"}, [
    act("issue", "认定并发证", (), G.active, STAFF),
    act("revoke", "撤销称号", (G.active,), G.revoked, STAFF),
    act("expire", "期满失效", (G.active,), G.expired, STAFF),
], doc="a recognised title with its certificate")
V = ReReviewOutcome
REREVIEW = machine("rereview", "复核", ReReviewCase, "outcome",
                   {V.pending: "复核中", V.passed: "复核通过", V.failed: "复核不合格", V.absent: "逾期未申请复核"}, [
    act("open", "列入复核", (), V.pending, STAFF),
    act("pass", "复核通过，换发证书", (V.pending,), V.passed, STAFF),
    act("fail", "复核不合格", (V.pending,), V.failed, STAFF),
    act("absent", "逾期未申请复核", (V.pending,), V.absent, STAFF),
], doc="a recognition's re-review (复核) in one call")
C = NameChangeStatus
NAME_CHANGE = machine("name_change", "更名备案", NameChange, "status",
                      {C.pending: "待备案", C.filed: "按期备案", C.late: "逾期备案", C.waived: "视为放弃资格"}, [
    act("record", "登记更名", (), C.pending, ANYONE),
    act("file", "按期备案", (C.pending,), C.filed, ANYONE),
    act("file_late", "逾期备案", (C.pending,), C.late, ANYONE),
    act("waive", "逾期未备案，视为放弃资格", (C.pending,), C.waived, STAFF),
], doc="a recognised enterprise's obligation to file its change of name")

M = MailState
MAIL = machine("mail", "邮件", OutgoingMail, "state", {M.queued: "待发送", M.sent: "已发送", M.failed: "发送失败", M.cancelled: "已取消"}, [
    act("queue", "排队待发", (), M.queued, STAFF),
    act("send", "已发送", (M.queued,), M.sent, STAFF),
    act("retry", "暂时失败，稍后重试", (M.queued,), M.queued, STAFF),
    act("fail", "发送失败", (M.queued,), M.failed, STAFF),
    act("cancel", "取消发送", (M.queued,), M.cancelled, STAFF),
    act("requeue", "重新发送", (M.failed,), M.queued, STAFF),
], logged=False, doc="an outgoing mail (the row is its own record)")
D = DeadlineState
DEADLINE = machine("deadline", "期限", Deadline, "state", {D.open: "未到期", D.met: "已办结", D.missed: "已逾期", D.cancelled: "已取消"}, [
    act("register", "登记期限", (), D.open, STAFF),
    act("meet", "按期办结", (D.open,), D.met, STAFF),
    act("miss", "逾期", (D.open,), D.missed, STAFF),
    act("cancel", "取消", (D.open,), D.cancelled, STAFF),
], logged=False, doc="something due by a time (the row is its own record)")
J = JobStatus
JOB_RUN = machine("job_run", "作业运行", JobRun, "status",
                  {J.running: "运行中", J.succeeded: "成功", J.partial: "部分完成", J.failed: "失败", J.interrupted: "中断"}, [
    act("start", "开始运行", (), J.running, STAFF),
    act("succeed", "运行成功", (J.running,), J.succeeded, STAFF),
    act("partial", "部分完成", (J.running,), J.partial, STAFF),
    act("fail", "运行失败", (J.running,), J.failed, STAFF),
    act("interrupt", "进程中断", (J.running,), J.interrupted, STAFF),
], logged=False, doc="one run of a scheduled job (the row is its own record)")

MACHINES: dict[str, Machine] = {m.name: m for m in (
    APPLICATION, NOTICE, NOTICE_ENTRY, OBJECTION, PLAN, WORK_ARRANGEMENT, RECIPIENT, TRANCHE, RUN, RECTIFICATION,
    RECOGNITION, REREVIEW, NAME_CHANGE, MAIL, DEADLINE, JOB_RUN)}


def get_machine(name: str | Machine) -> Machine:
    if isinstance(name, Machine):
        return name
    try:
        return MACHINES[name]
    except KeyError:
        raise UnknownAction(f"流转规则中没有“{name}”（可用：{'、'.join(MACHINES)}）") from None


def application_actions() -> frozenset[str]:
    """The names ``Transition.action`` may take."""
    return frozenset(APPLICATION.actions)


@dataclass(frozen=True)
class Move:
    """One declared edge, for display: machine, action, from (None: creation), to."""

    machine: str
    action: str
    label: str
    source: Optional[str]
    target: str
    roles: tuple[str, ...] = field(default=())


def edges(selected: Optional[Machine] = None) -> list[Move]:
    """Every declared edge of one machine (or all), in declaration order."""
    out = []
    for m in [selected] if selected else MACHINES.values():
        for a in m.actions.values():
            roles = tuple(sorted(r.value for r in a.roles))
            for source in sorted(a.sources, key=list(m.statuses).index) if a.sources else [None]:
                out.append(Move(m.name, a.name, a.label, source, a.leads_to(source) if source else a.target, roles))
    return out


class Actor(Protocol):
    """Who acts: a username, a role, the jurisdiction acted for (tasks' Actor and Who both fit)."""

    username: str
    role: Any
    jurisdiction_code: Optional[str]


@dataclass(frozen=True)
class SystemActor:
    """A pipeline step acting on its own (``system``), for a jurisdiction or for none."""

    jurisdiction_code: Optional[str] = None
    username: str = "system"
    role: Role = Role.system


@dataclass(frozen=True)
class Applied:
    """What an ``apply`` changed: the ids (sorted) of the rows that took the action (and, when asked, their new versions)."""

    machine: str
    action: str
    ids: list[int]
    versions: dict[int, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.ids)
