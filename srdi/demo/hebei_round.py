"""The Hebei provincial round (河北省专精特新中小企业认定 2026): intake from a generated workbook,
county → city → province review, one county that misses its deadline, 公示 with two objections, 认定.

A small round (``srdi demo --enterprises 1``) runs the same way; whatever the round is too small
for (no county left to miss its deadline, nobody eligible to return, fewer than two names on the
公示 for two objections, no 公示 at all) is skipped and said so in ``HebeiRound.notes``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Optional

from sqlalchemy import select
from sqlalchemy.engine import Engine

from models.application import Application
from models.calendar import statutory_calendar
from models.clock import SHANGHAI, clock, local
from models.enterprise import Enterprise
from models.enums import ApplicationStatus
from models.notice import Notice
from models.transition import Transition
from srdi.demo.mail_room import DemoMailbox
from srdi.demo.sample_workbook import write_sample_workbook
from srdi.demo.setup import HEBEI, People, add_applicant
from srdi.demo.steps import Echo, Pipeline, judge_desk, pending, windows
from tasks.intake.workbook_import import import_applications
from tasks.notice.objections import record_objection, resolve_objection
from tasks.reference.calls import open_call
from tasks.review.decisions import decide, resubmit

PROGRAMME, YEAR = "hebei-provincial-srdi", 2026
OPENS = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
CLOSES = datetime(2026, 3, 13, 17, 0, tzinfo=SHANGHAI)
RETURN_REASON = "近两年研发费用专项审计报告未盖章，请补充盖章件后重新提交"


@dataclass
class HebeiRound:
    call_id: str = ""
    workbook: Optional[Path] = None
    errors_workbook: Optional[Path] = None
    rows: int = 0
    invalid_rows: int = 0
    imported: int = 0
    eligible: int = 0
    ineligible: int = 0
    undetermined: int = 0
    late_county: str = ""
    late_county_apps: int = 0
    late_outcome: Counter = field(default_factory=Counter)    # escalated / lapsed
    returned: list[str] = field(default_factory=list)         # refs returned then resubmitted
    decisions: Counter = field(default_factory=Counter)       # (level, decision) → n
    notice_id: int = 0
    listed: int = 0
    upheld_ref: str = ""
    rejected_objection_ref: str = ""
    recognised: int = 0
    recognised_enterprises: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)            # what the round was too small to show


def _tally(result: HebeiRound, level: str, counts: dict) -> None:
    for decision, n in counts.items():
        result.decisions[(level, decision)] += n


def run_hebei_round(engine: Engine, base: Path, people: People, mailbox: DemoMailbox, pipeline: Pipeline,
                    enterprises: int, echo: Echo, seed: int = 2026) -> HebeiRound:
    result = HebeiRound()
    clock.set(OPENS)
    with engine.begin() as connection:
        call = open_call(connection, PROGRAMME, YEAR, opens_at=OPENS, closes_at=CLOSES, now=clock.now())
    result.call_id = call.id
    echo(f"\n## 一、{call.name}（批次 {call.id}）：申报 {local(OPENS):%m月%d日}—{local(CLOSES):%m月%d日 %H:%M}")
    _intake(engine, base, people, result, enterprises, echo, seed)
    clock.set(datetime(2026, 3, 16, 9, 0, tzinfo=SHANGHAI))          # 申报截止后的第一个工作日
    if not result.imported:
        _skip(result, echo, "工作簿中没有可导入的申报，区县、市、省审核与公示均未进行")
        return result
    _county_review(engine, people, result, mailbox, pipeline, echo)
    _city_and_province(engine, people, result, pipeline, echo)
    mailbox.announce()
    _notice(engine, people, result, mailbox, pipeline, echo)
    return result


def _skip(result: HebeiRound, echo: Echo, note: str) -> None:
    """Say what the round is too small to show (in the log now, in the narrative at the end)."""
    result.notes.append(note)
    echo(f"  （{note}）")


def invalid_rows_for(enterprises: int) -> int:
    """Rows the workbook breaks on purpose: at least 3 in a round of 30 or more, 1 in 10 below."""
    return max(3, enterprises // 60) if enterprises >= 30 else enterprises // 10


def _intake(engine, base, people, result, enterprises, echo, seed) -> None:
    clock.set(datetime(2026, 3, 12, 10, 0, tzinfo=SHANGHAI))
    invalid = invalid_rows_for(enterprises)
    sample = write_sample_workbook(base / "hebei-2026-申报.xlsx", PROGRAMME, YEAR, jurisdictions=people.counties,
                                   n=enterprises, seed=seed, invalid=invalid)
    outcome = import_applications(sample.path, result.call_id, skip_invalid=True, engine=engine,
                                  errors_out=base / "hebei-2026-申报.错误.xlsx")
    summary = outcome.eligibility
    result.workbook, result.errors_workbook = sample.path, outcome.errors_path
    result.rows, result.invalid_rows, result.imported = outcome.rows, outcome.rejected, outcome.created
    result.eligible, result.ineligible, result.undetermined = summary.eligible, summary.ineligible, summary.undetermined
    errors = f"（错误清单 {outcome.errors_path.name}）" if outcome.errors_path else ""
    with engine.connect() as connection:
        places = sorted(set(connection.execute(select(Application.jurisdiction_code)
                                               .where(Application.call_id == result.call_id)).scalars()))
    cities = {city for city, counties in people.cities.items() if set(counties) & set(places)}
    echo(f"导入 {sample.path.name}：{outcome.rows} 行，{outcome.rejected} 行有误未导入{errors}，"
         f"新建申报 {outcome.created} 件，分布在 {len(cities)} 个市的 {len(places)} 个区（县）")
    if not invalid:
        _skip(result, echo, f"工作簿只有 {enterprises} 行，未放入有误的行，导入校验与错误清单未演示")
    for problem in outcome.problems[:3]:
        echo(f"  例：第{problem.row}行 {problem.column}：{problem.value!r} —— {problem.expected}")
    echo(f"资格审查：符合 {summary.eligible} 件，不符合 {summary.ineligible} 件，无法判定 {summary.undetermined} 件")


def _county_review(engine, people, result, mailbox, pipeline, echo) -> None:
    with engine.connect() as connection:
        county_windows = windows(connection, result.call_id, "county")
        waiting = {code: pending(connection, result.call_id, "county", code) for code in people.counties}
    busy = [code for code in people.counties if waiting[code]]
    # The last county holding applications misses its deadline, as long as another one reviews on time.
    late = result.late_county = busy[-1] if len(busy) >= 2 else ""
    result.late_county_apps = len(waiting[late]) if late else 0
    due = max(w.due_at for w in county_windows.values())
    if late:
        echo(f"\n区县审核（截止 {local(due):%Y-%m-%d %H:%M}，10个工作日）：{people.names[late]}（{late}）一件也未审核")
    else:
        echo(f"\n区县审核（截止 {local(due):%Y-%m-%d %H:%M}，10个工作日）")
        _skip(result, echo, f"申报只在 {len(busy)} 个区县，没有另一个区县可演示逾期未审核（逐级上报）")
    to_return = []                                    # one eligible application of each of two counties is returned
    for code in busy:
        first = next((r for r in waiting[code] if r.eligible), None) if code != late else None
        if first is not None and len(to_return) < 2:
            to_return.append((code, first))
    if not to_return:
        _skip(result, echo, "按时审核的区县没有符合条件的申报，未演示退回修改—重新提交")
    elif len(to_return) < 2:
        _skip(result, echo, "符合条件的申报只在 1 个按时审核的区县，退回修改—重新提交只演示了 1 件")
    for code in busy:
        if code == late:
            continue
        hold = {row.id for c, row in to_return if c == code}
        _tally(result, "county", judge_desk(engine, result.call_id, "county", code, people.reviewer(code), hold=hold))
    for code, row in to_return:
        with engine.begin() as connection:
            decide(connection, row.id, "return", people.reviewer(code), reason=RETURN_REASON)
        _tally(result, "county", {"return": 1})
    clock.advance(timedelta(days=1))
    for code, row in to_return:
        with engine.begin() as connection:
            uscc, name = connection.execute(
                select(Enterprise.uscc, Enterprise.name).join(Application).where(Application.id == row.id)).one()
        applicant = add_applicant(engine, uscc, code, name)
        with engine.begin() as connection:
            resubmit(connection, row.id, applicant, reason="已补充盖章的专项审计报告")
            decide(connection, row.id, "recommend", people.reviewer(code), score=88)
        _tally(result, "county", {"recommend": 1})
        result.returned.append(row.ref)
    echo(f"  {len(busy) - bool(late)} 个区县审核完毕；{len(to_return)} 件退回修改 → 企业重新提交 → 同意推荐"
         f"（{', '.join(result.returned) or '无'}）")
    pipeline.advance("区县审核完毕的提前办结，报送市级")
    calendar = statutory_calendar()
    reminder_day = _workdays_before(calendar, local(due).date(), 3)
    clock.set(datetime.combine(reminder_day, datetime.min.time(), SHANGHAI).replace(hour=9))
    sent = mailbox.remind()
    echo(f"  [{reminder_day}] 截止前3个工作日提醒：发出 {sent['send'].get('sent', 0)} 封邮件")
    overdue_day = calendar.add_workdays(local(due).date(), 1)
    clock.set(datetime.combine(overdue_day, datetime.min.time(), SHANGHAI).replace(hour=9))
    pipeline.advance(f"{people.names[late]}逾期" if late else "区县审核期满")
    if not late:
        return
    with engine.connect() as connection:
        moved = connection.execute(select(Transition.action, Transition.reason).join(Application)
                                   .where(Application.jurisdiction_code == late, Application.call_id == result.call_id,
                                          Transition.action.in_(("escalate", "lapse")))).all()
    result.late_outcome = Counter(action for action, _ in moved)
    how = "、".join(f"{'逐级上报（逾期记录在案）' if a == 'escalate' else '视同未申报'} {n} 件" for a, n in result.late_outcome.items())
    echo(f"  {people.names[late]}逾期：按河北规程 on_missed=escalate，{how}；例：{moved[0].reason if moved else '—'}")
    sent = mailbox.remind()
    echo(f"  [{overdue_day}] 逾期督办：发出 {sent['send'].get('sent', 0)} 封邮件（报上一级主管部门）")


def _next_workday(days: int = 1) -> None:
    """Move the clock to 09:00 of the ``days``-th working day after today."""
    day = statutory_calendar().add_workdays(clock.today(), days)
    clock.set(datetime.combine(day, datetime.min.time(), SHANGHAI).replace(hour=9))


def _city_and_province(engine, people, result, pipeline, echo) -> None:
    _next_workday(2)
    for city in people.cities:
        with engine.connect() as connection:
            rows = pending(connection, result.call_id, "municipal", city)
        lowest = {rows[-1].id: "市级复核：主导产品细分市场定位不清，本年度暂不推荐"} if len(rows) > 1 else {}
        _tally(result, "municipal", judge_desk(engine, result.call_id, "municipal", city, people.reviewer(city), extra_reject=lowest))
    pipeline.advance("市级审核完毕，报送省厅")
    _next_workday(2)
    _tally(result, "provincial", judge_desk(engine, result.call_id, "provincial", HEBEI, people.reviewer(HEBEI)))
    pipeline.advance("省厅审定完毕，开启公示")


def _notice(engine, people, result, mailbox, pipeline, echo) -> None:
    with engine.connect() as connection:
        notice = connection.execute(select(Notice).where(Notice.call_id == result.call_id)).first()
        listed = connection.execute(select(Application.ref).where(Application.call_id == result.call_id,
                                                                   Application.status == ApplicationStatus.on_notice)
                                    .order_by(Application.ref)).scalars().all()
    if notice is None:
        _skip(result, echo, "省厅没有同意推荐的申报，未开启公示，本轮无认定")
        return
    result.notice_id, result.listed = notice.id, len(listed)
    echo(f"\n公示《{notice.title}》：{len(listed)} 家，{local(notice.opens_at):%Y-%m-%d} 至 {local(notice.closes_at):%Y-%m-%d %H:%M}")
    _next_workday(1)
    # Two objections: the first name's is upheld, the second's rejected. With one name on the list only
    # the rejected one is shown, so that the round still recognises someone.
    upheld_ref, rejected_ref = (listed[0], listed[1]) if len(listed) >= 2 else ("", listed[0] if listed else "")
    result.upheld_ref, result.rejected_objection_ref = upheld_ref, rejected_ref
    if len(listed) < 2:
        _skip(result, echo, f"公示名单只有 {len(listed)} 家，未演示异议成立" + ("，也未演示异议不成立" if not listed else ""))
    hebei = people.reviewer(HEBEI)
    with engine.begin() as connection:
        upheld = upheld_ref and record_objection(
            connection, upheld_ref, objector="张某（同行业企业）", contact="0311-8xxxxxxx",
            grounds="该企业申报的发明专利已于2025年转让，不再拥有", username=hebei)
        rejected = rejected_ref and record_objection(
            connection, rejected_ref, objector="匿名来信", contact="来信（无回复地址）", grounds="怀疑营业收入虚报", username=hebei)
    _next_workday(1)
    with engine.begin() as connection:
        if upheld:
            resolve_objection(connection, upheld, "upheld", "经核查，专利权已转让，不符合专项条件，取消拟认定资格", hebei)
        if rejected:
            resolve_objection(connection, rejected, "rejected", "经核对纳税申报表与审计报告，营业收入属实，异议不成立", hebei)
    outcomes = ([f"{upheld_ref} 异议成立（移出名单）"] if upheld else []) + ([f"{rejected_ref} 异议不成立（恢复公示）"] if rejected else [])
    if outcomes:
        echo(f"  [{local(clock.now()):%Y-%m-%d}] 异议：{'；'.join(outcomes)}")
    clock.set(notice.closes_at + timedelta(minutes=5))
    pipeline.advance("公示期满，认定")
    mailbox.announce()
    with engine.connect() as connection:
        recognised = connection.execute(select(Application.enterprise_id).where(
            Application.call_id == result.call_id, Application.status == ApplicationStatus.recognised)
            .order_by(Application.id)).scalars().all()
    result.recognised, result.recognised_enterprises = len(recognised), list(recognised)


def _workdays_before(calendar, day, n: int):
    """The working day ``n`` working days before ``day`` (提醒日)."""
    back = day
    while calendar.workdays_between(back, day) < n:
        back -= timedelta(days=1)
    while not calendar.is_workday(back):
        back -= timedelta(days=1)
    return back
