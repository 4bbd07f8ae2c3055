"""公示公告 and 结果公告: HTML pages a bureau can publish on its website.

The renderers take plain data (``NoticeAnnouncement`` / ``NoticeResult``) so any caller can use
them; ``opening_from_db`` / ``result_from_db`` build that data from a notice in the database
(models/notice.py). ``publish_opening`` / ``publish_result`` write ``<dir>/notice-<id>-*.html``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Connection

from models.citation import public_citation
from models.clock import clock, local
from models.enterprise import Enterprise
from models.errors import NotFound
from models.jurisdiction import Bureau, Jurisdiction
from models.notice import Notice, NoticeEntry, NoticeEntryStatus
from models.programme import Call
from notifications.render import render_template

UNIT_LABELS = {"working_days": "个工作日", "natural_days": "天"}


@dataclass(frozen=True)
class ListedEnterprise:
    position: int
    name: str
    uscc: str | None = None
    region: str | None = None         # 所在地区


@dataclass(frozen=True)
class Contact:
    """Where objections go (异议受理) and whom to call (联系人)."""

    office: str                        # 受理单位/处室
    person: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None         # 通讯地址（书面材料寄送）


@dataclass(frozen=True)
class NoticeAnnouncement:
    """The 公示公告 that opens a notice."""

    notice_id: int
    title: str
    publisher: str
    call_name: str
    entries: list[ListedEnterprise]
    opens_at: datetime
    closes_at: datetime
    length: int
    unit: str                          # working_days / natural_days
    objections_to: Contact
    contact: Contact
    basis: str | None = None           # 依据文件
    published_on: date | None = None
    re_review: bool = False            # 复核 notice: "拟通过复核名单" rather than "拟认定名单"


@dataclass(frozen=True)
class NoticeResult:
    """The 结果公告 after the window: who is recognised, how many were removed or still examined."""

    notice_id: int
    title: str
    publisher: str
    call_name: str
    recognised: list[ListedEnterprise]
    removed: int
    under_investigation: int
    opens_at: datetime
    closes_at: datetime
    contact: Contact
    basis: str | None = None
    published_on: date | None = None
    re_review: bool = False


def _period(length: int, unit: str) -> str:
    return f"{length}{UNIT_LABELS.get(unit, unit)}"


def render_opening(announcement: NoticeAnnouncement) -> str:
    return render_template("notices/opening.html.j2", {
        "a": announcement, "period": _period(announcement.length, announcement.unit),
        "basis": public_citation(announcement.basis),
        "published_on": announcement.published_on or local(announcement.opens_at).date(),
    })


def render_result(result: NoticeResult) -> str:
    return render_template("notices/result.html.j2", {
        "r": result, "basis": public_citation(result.basis), "published_on": result.published_on or clock.today(),
    })


def _write(html: str, directory: Path, name: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(html, encoding="utf-8")
    return path


def publish_opening(announcement: NoticeAnnouncement, directory: Path) -> Path:
    return _write(render_opening(announcement), directory, f"notice-{announcement.notice_id}-opening.html")


def publish_result(result: NoticeResult, directory: Path) -> Path:
    return _write(render_result(result), directory, f"notice-{result.notice_id}-result.html")


# ---- from the database ------------------------------------------------------------------------

def _notice(connection: Connection, notice_id: int):
    row = connection.execute(
        select(Notice.id, Notice.title, Notice.jurisdiction_code, Notice.opens_at, Notice.closes_at, Notice.length,
               Notice.unit, Notice.cite, Call.name.label("call_name"), Call.kind.label("call_kind"),
               Jurisdiction.name.label("jurisdiction_name"))
        .join(Call, Call.id == Notice.call_id).join(Jurisdiction, Jurisdiction.code == Notice.jurisdiction_code)
        .where(Notice.id == notice_id)
    ).first()
    if row is None:
        raise NotFound(f"公示 {notice_id} 不存在")
    return row


def bureau_contact(connection: Connection, jurisdiction_code: str, jurisdiction_name: str) -> Contact:
    """The publishing bureau (中小企业主管部门) as the default office for objections and questions."""
    bureau = connection.execute(
        select(Bureau.name, Bureau.email).where(Bureau.jurisdiction_code == jurisdiction_code, Bureau.kind == "sme")
        .order_by(Bureau.id)
    ).first()
    if bureau is None:
        return Contact(office=f"{jurisdiction_name}中小企业主管部门")
    return Contact(office=bureau.name, email=bureau.email)


def _entries(connection: Connection, notice_id: int, statuses: tuple[NoticeEntryStatus, ...]) -> list[ListedEnterprise]:
    rows = connection.execute(
        select(NoticeEntry.position, Enterprise.name, Enterprise.uscc, Jurisdiction.name.label("region"))
        .join(Enterprise, Enterprise.id == NoticeEntry.enterprise_id)
        .join(Jurisdiction, Jurisdiction.code == Enterprise.jurisdiction_code)
        .where(NoticeEntry.notice_id == notice_id, NoticeEntry.status.in_(statuses))
        .order_by(NoticeEntry.position)
    )
    return [ListedEnterprise(r.position, r.name, r.uscc, r.region) for r in rows]


def opening_from_db(connection: Connection, notice_id: int, *, contact: Contact | None = None,
                    objections_to: Contact | None = None) -> NoticeAnnouncement:
    """The opening announcement of a notice: its whole list as published."""
    notice = _notice(connection, notice_id)
    office = contact or bureau_contact(connection, notice.jurisdiction_code, notice.jurisdiction_name)
    return NoticeAnnouncement(
        notice_id=notice.id, title=notice.title, publisher=office.office, call_name=notice.call_name,
        entries=_entries(connection, notice.id, tuple(NoticeEntryStatus)),
        opens_at=notice.opens_at, closes_at=notice.closes_at, length=notice.length, unit=notice.unit,
        objections_to=objections_to or office, contact=office, basis=notice.cite,
        re_review=notice.call_kind == "re_review",
    )


def result_from_db(connection: Connection, notice_id: int, *, contact: Contact | None = None) -> NoticeResult:
    """The result announcement: recognised entries; removed and still-examined ones are counted."""
    notice = _notice(connection, notice_id)
    office = contact or bureau_contact(connection, notice.jurisdiction_code, notice.jurisdiction_name)
    counts = {status: 0 for status in NoticeEntryStatus}
    for (status,) in connection.execute(select(NoticeEntry.status).where(NoticeEntry.notice_id == notice_id)):
        counts[NoticeEntryStatus(status)] += 1
    title = notice.title.replace("拟认定名单公示", "认定结果公告").replace("拟通过复核名单公示", "复核结果公告")
    if title == notice.title:
        title = f"{notice.title}结果公告"
    return NoticeResult(
        notice_id=notice.id, title=title, publisher=office.office, call_name=notice.call_name,
        recognised=_entries(connection, notice.id, (NoticeEntryStatus.recognised,)),
        removed=counts[NoticeEntryStatus.removed],
        under_investigation=counts[NoticeEntryStatus.on_hold] + counts[NoticeEntryStatus.listed],
        opens_at=notice.opens_at, closes_at=notice.closes_at, contact=office, basis=notice.cite,
        re_review=notice.call_kind == "re_review",
    )
