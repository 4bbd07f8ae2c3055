"""An operating day (several weeks, fast): a whole Hebei round with nobody calling `pipeline advance`.

`srdi serve` runs as a subprocess on a fresh SQLite database with a real SMTP server and a simulated
clock the test steers like an administrator (`srdi clock set`: a time and a speed). The clerks act
only through the console's forms and the `srdi` command; windows close at their deadlines, an idle
county escalates, reminders and 督办 mail arrive, 公示 opens, an objection is heard, the notice
closes and certificates are issued, and the scheduled disbursement pays a tranche at 10:00 — all
by the service's own scheduler. Assertions are on the database, the mailbox and the pages.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, select

from models import Application, LevelWindow, Notice, Payment, Recognition
from models.funding import FundTranche
from models.notice import NoticeStatus
from models.operations import JobRun, StepBlock
from srdi.clock import SHANGHAI, local
from tasks.intake_sample import write_sample_workbook

from .harness import PASSWORD, Browser, Service, wait_for

pytestmark = pytest.mark.slow

PROGRAMME = "hebei-provincial-srdi"
CHANGAN, QIAOXI, XINHUA, SJZ, HEBEI = "130102", "130104", "130105", "130100", "130000"
USERS = [("changan", "长安区工信局审核员", CHANGAN), ("qiaoxi", "桥西区工信局审核员", QIAOXI),
         ("xinhua", "新华区工信局审核员", XINHUA), ("sjz", "石家庄市工信局审核员", SJZ), ("hebei", "河北省工信厅审核员", HEBEI)]


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def email_of(username: str) -> str:
    return f"{username}@gxj.hebei.example.cn"


@pytest.fixture
def service(tmp_path):
    running = Service(tmp_path)
    running.set_clock(bj(2026, 3, 2, 8, 0))                       # Monday 08:00, standing still
    running.start()
    yield running
    left = running.stop()
    assert left == [], f"processes of srdi serve still alive after SIGTERM: {left}"


def _count(engine, query) -> int:
    with engine.connect() as c:
        return c.execute(query).scalar()


def _windows(engine) -> dict[tuple[str, str], bool]:
    with engine.connect() as c:
        return {(w.level, w.jurisdiction_code): w.closed_at is not None for w in c.execute(select(LevelWindow))}


def _mails(service, subject_mark: str, to: str) -> list:
    return [m for m in service.mails() if subject_mark in str(m["Subject"]) and m["To"].addresses[0].addr_spec == to]


def _seed_people_and_round(service: Service, tmp_path) -> str:
    for username, name, code in USERS:
        service.srdi("user", "add", username, "--name", name, "--jurisdiction", code, "--email", email_of(username))
        service.srdi("user", "set-password", username, "--password-stdin", stdin=PASSWORD + "\n")
    opened = service.srdi("call", "open", "--programme", PROGRAMME, "--year", "2026",
                          "--opens-at", "2026-02-23T08:00", "--closes-at", "2026-03-02T17:30", "--json")
    call_id = __import__("json").loads(opened.stdout)["id"]
    workbook = write_sample_workbook(tmp_path / "申报.xlsx", PROGRAMME, 2026, jurisdictions=[CHANGAN, QIAOXI, XINHUA],
                                     n=9, seed=7)
    imported = service.srdi("import", "applications", str(workbook.path), "--call", call_id)
    assert "9" in imported.stdout
    return call_id


def _seed_funding(service: Service) -> None:
    """A Beijing 重点"小巨人" plan approved in 2021: its first tranche has long been due."""
    import os

    from models.db import get_engine
    from tasks.funding_demo import approve_demo_plan
    from tasks.funding_seed import create_key_enterprises

    previous = os.environ.get("SRDI_DATABASE_URL")
    os.environ["SRDI_DATABASE_URL"] = service.env["SRDI_DATABASE_URL"]
    try:
        engine = get_engine()
        with engine.begin() as c:
            enterprises = create_key_enterprises(c, "110000", 30, name_prefix="北京精密制造", county="110101",
                                                 valid_from=date(2021, 1, 1), valid_to=date(2023, 12, 31))
        approve_demo_plan(engine, "110000", "北京", enterprises, "110101")
    finally:
        if previous is None:
            os.environ.pop("SRDI_DATABASE_URL", None)
        else:
            os.environ["SRDI_DATABASE_URL"] = previous


def test_a_round_runs_by_itself_under_srdi_serve(service, tmp_path):
    engine = create_engine(service.env["SRDI_DATABASE_URL"])
    assert "模拟时钟" in service.log()
    call_id = _seed_people_and_round(service, tmp_path)
    _seed_funding(service)
    assert _count(engine, select(func.count()).select_from(Application)) == 9

    # 08:00 Monday, intake still open: two counties decide through the console; 新华区 does nothing.
    changan, qiaoxi = Browser(service, "changan"), Browser(service, "qiaoxi")
    assert "模拟时钟" in changan.page("/")
    first, *rest = changan.applications(status="pending")
    assert changan.decide(first["id"], "reject", reason="研发费用占比不足") == "已记录：不予推荐"
    for app in rest:
        assert changan.decide(app["id"], "recommend", score="88") == "已记录：同意推荐"
    for app in qiaoxi.applications(status="pending"):
        assert qiaoxi.decide(app["id"], "recommend", score="90") == "已记录：同意推荐"
    assert qiaoxi.applications(call=call_id, jurisdiction=CHANGAN) == []             # scoped to its county

    # 10:00 on a working day: the scheduled disbursement pays the tranche that is due.
    service.set_clock(bj(2026, 3, 2, 9, 55), speed=120)
    wait_for("tranche 1 paid by the 10:00 run", lambda: _count(engine, select(func.count()).select_from(Payment)))
    service.set_clock(service.now())
    with engine.connect() as c:
        run = c.execute(select(JobRun).where(JobRun.job_id == "funds-disbursement")).first()
        paid = dict(c.execute(select(FundTranche.tranche_index, func.count(Payment.id))
                              .outerjoin(Payment, Payment.tranche_id == FundTranche.id).group_by(FundTranche.tranche_index)).all())
    assert run.trigger == "schedule" and local(run.due_at) == bj(2026, 3, 2, 10, 0)
    assert paid[1] == 32 and paid.get(2, 0) == 0                      # 30 enterprises + 2 platforms; tranche 2 awaits reviews

    # A week later: intake closed, the two decided counties have gone up; 新华区 is reminded at 09:00.
    service.set_clock(bj(2026, 3, 9, 8, 50), speed=300)
    wait_for("the decided counties closed", lambda: all(_windows(engine).get(("county", c)) for c in (CHANGAN, QIAOXI)))
    [reminder] = wait_for("the 截止提醒 to 新华区", lambda: _mails(service, "【截止提醒】", email_of("xinhua")))
    service.set_clock(service.now())
    assert "还剩5个工作日" in str(reminder["Subject"]) and _windows(engine)[("county", XINHUA)] is False

    sjz = Browser(service, "sjz")
    for app in sjz.applications(status="pending", level="municipal"):
        assert sjz.decide(app["id"], "recommend", score="85") == "已记录：同意推荐"

    # The day after 新华区's deadline: its window is closed and escalated; the city is told.
    service.set_clock(bj(2026, 3, 17, 8, 50), speed=300)
    wait_for("新华区 escalated to the city", lambda: _windows(engine).get(("county", XINHUA)))
    wait_for("the 逾期督办 to the city", lambda: _mails(service, "【逾期督办】", email_of("sjz")))
    service.set_clock(service.now())
    escalated = sjz.applications(status="pending", level="municipal")
    with engine.connect() as c:
        idle = c.execute(select(func.count()).select_from(Application).where(Application.jurisdiction_code == XINHUA)).scalar()
    assert idle and len(escalated) == idle and all(a["jurisdiction_code"] == XINHUA for a in escalated)
    for app in escalated:
        sjz.decide(app["id"], "recommend", score="80")

    # Everything decided: the city's window closes at the next advance, the province decides.
    service.set_clock(service.now(), speed=300)
    wait_for("the city's window closed", lambda: _windows(engine).get(("municipal", SJZ)))
    service.set_clock(service.now())
    hebei = Browser(service, "hebei")
    listed = hebei.applications(status="pending", level="provincial")
    assert len(listed) == 8
    for app in listed:
        assert hebei.decide(app["id"], "recommend", score="86") == "已记录：同意推荐"

    # The province's window closes and the 公示 opens in the same advance.
    service.set_clock(service.now(), speed=300)
    notice_id = wait_for("the 公示 opened", lambda: _count(engine, select(Notice.id).where(Notice.status == NoticeStatus.open)))
    service.set_clock(service.now())
    public = hebei.page(f"/notices/{notice_id}")
    assert "公示" in public and listed[0]["enterprise_name"] in public

    # An objection is registered and upheld: that enterprise leaves the list.
    objected = listed[0]
    made = service.srdi("notice", "object", objected["ref"], "--objector", "某竞争企业", "--contact", "0311-00000000",
                        "--grounds", "申报材料中的研发人员数据不实", "--as", "hebei", "--json")
    objection = __import__("json").loads(made.stdout)["objection"]
    service.srdi("notice", "resolve", str(objection), "--outcome", "upheld", "--finding", "经核查属实", "--as", "hebei")

    # The notice ends; certificates are issued to the other seven.
    with engine.connect() as c:
        closes_at = c.execute(select(Notice.closes_at).where(Notice.id == notice_id)).scalar()
    service.set_clock(local(closes_at) - timedelta(minutes=10), speed=300)
    wait_for("recognitions issued", lambda: _count(engine, select(func.count()).select_from(Recognition).where(
        Recognition.call_id == call_id)) == 7)
    service.set_clock(service.now())
    with engine.connect() as c:
        certificates = c.execute(select(Recognition.certificate_no).where(Recognition.call_id == call_id)).scalars().all()
        statuses = dict(c.execute(select(Application.status, func.count()).group_by(Application.status)).all())
        blocked = c.execute(select(StepBlock).where(StepBlock.cleared_at.is_(None))).all()
        failed = c.execute(select(JobRun.job_id, JobRun.error).where(JobRun.status == "failed")).all()
    assert len(set(certificates)) == 7 and all(certificates)
    assert statuses == {"recognised": 7, "removed": 1, "rejected": 1}
    assert failed == []
    assert {b.subject for b in blocked} <= {f"tranche:{i}" for i in range(100)}     # only the tranches awaiting reviews
    assert "已认定" in hebei.page(f"/applications/{listed[1]['id']}")
    assert "Traceback" not in service.log()
