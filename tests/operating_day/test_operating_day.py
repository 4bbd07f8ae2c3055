"""An operating day (several weeks, fast): a whole Hebei round with nobody calling `pipeline advance`.

`srdi serve` runs as a subprocess on a fresh SQLite database with a real SMTP server and a simulated
clock the test steers like an administrator (a time and a speed). The clerks act only through the
console's forms and the `srdi` command; windows close at their deadlines, an idle county escalates,
reminders and 督办 mail arrive, 公示 opens, an objection is heard, the notice closes and
certificates are issued, and the scheduled disbursement pays a tranche at 10:00. Nobody runs a step:
in the first variant the service's own scheduler does (drivers.Embedded); in the second a Prefect
server, a process worker and the deployments of prefect.yaml do (drivers.PrefectServer).
Assertions are on the database, the mailbox and the pages.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, select

from models import Application, LevelWindow, Notice, Payment, Recognition
from models.clock import SHANGHAI, local
from models.funding import FundTranche
from models.notice import NoticeStatus
from models.operations import JobRun, StepBlock
from srdi.demo.sample_workbook import write_sample_workbook

from .drivers import Embedded, PrefectServer
from .harness import PASSWORD, Browser, Service

pytestmark = pytest.mark.slow

PROGRAMME = "hebei-provincial-srdi"
CHANGAN, QIAOXI, XINHUA, SJZ, HEBEI = "130102", "130104", "130105", "130100", "130000"
USERS = [("changan", "长安区工信局审核员", CHANGAN), ("qiaoxi", "桥西区工信局审核员", QIAOXI),
         ("xinhua", "新华区工信局审核员", XINHUA), ("sjz", "石家庄市工信局审核员", SJZ), ("hebei", "河北省工信厅审核员", HEBEI)]


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def email_of(username: str) -> str:
    return f"{username}@gxj.hebei.example.cn"


@pytest.fixture(params=[Embedded, PrefectServer], ids=["embedded", "prefect-server"])
def running(request, tmp_path):
    driver = request.param(tmp_path)
    service = Service(tmp_path, driver.environment(), driver.serve_args)
    service.set_clock(bj(2026, 3, 2, 8, 0))                       # Monday 08:00, standing still
    service.start()
    try:
        driver.start(service)
        yield service, driver
    finally:
        driver.stop()
        left = service.stop()
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
    call_id = json.loads(opened.stdout)["id"]
    workbook = write_sample_workbook(tmp_path / "申报.xlsx", PROGRAMME, 2026, jurisdictions=[CHANGAN, QIAOXI, XINHUA],
                                     n=9, seed=7)
    imported = service.srdi("import", "applications", str(workbook.path), "--call", call_id)
    assert "9" in imported.stdout
    return call_id


def _seed_funding(service: Service) -> None:
    """A Beijing 重点"小巨人" plan approved in 2021: its first tranche has long been due."""
    import os

    from models.db import get_engine
    from srdi.demo.funding_round import approve_demo_plan
    from srdi.demo.funding_seed import create_key_enterprises

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


def _paid_by_tranche(engine) -> dict[int, int]:
    with engine.connect() as c:
        return dict(c.execute(select(FundTranche.tranche_index, func.count(Payment.id))
                              .outerjoin(Payment, Payment.tranche_id == FundTranche.id).group_by(FundTranche.tranche_index)).all())


CHECKED = "现场核查：审计报告已补正"     # each level that recommends the application that failed the check says why


def test_a_round_runs_by_itself(running, tmp_path):
    service, driver = running
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
        if qiaoxi.decide(app["id"], "recommend", score="90") != "已记录：同意推荐":    # the one that failed the check
            assert "资格审查结论为“不符合”" in qiaoxi.page(f"/applications/{app['id']}")
            assert qiaoxi.decide(app["id"], "recommend", score="90", override=CHECKED) == "已记录：同意推荐"
    assert qiaoxi.applications(call=call_id, jurisdiction=CHANGAN) == []             # scoped to its county

    # 10:00 on a working day: the scheduled disbursement pays the tranche that is due.
    driver.at(bj(2026, 3, 2, 10, 0), "tranche 1 paid by the 10:00 run",
              lambda: _paid_by_tranche(engine).get(1), jobs=("funds-disbursement",))
    paid = _paid_by_tranche(engine)
    assert paid[1] == 32 and paid.get(2, 0) == 0                      # 30 enterprises + 2 platforms; tranche 2 awaits reviews
    if driver.name == "embedded":
        with engine.connect() as c:
            run = c.execute(select(JobRun).where(JobRun.job_id == "funds-disbursement")).first()
        assert run.trigger == "schedule" and local(run.due_at) == bj(2026, 3, 2, 10, 0)
    else:
        [schedule] = driver.deployments()["daily-disbursement"]["schedules"]
        assert (schedule["schedule"]["cron"], schedule["schedule"]["timezone"]) == ("0 10 * * *", "Asia/Shanghai")

    # A week later: intake closed, the two decided counties have gone up; 新华区 is reminded at 09:00.
    def counties_closed_and_reminded():
        closed = all(_windows(engine).get(("county", c)) for c in (CHANGAN, QIAOXI))
        return closed and _mails(service, "【截止提醒】", email_of("xinhua"))

    [reminder] = driver.at(bj(2026, 3, 9, 9, 0), "the counties closed and 新华区 reminded", counties_closed_and_reminded,
                           jobs=("pipeline-advance", "reminder-sweep"))
    assert "还剩5个工作日" in str(reminder["Subject"]) and _windows(engine)[("county", XINHUA)] is False

    sjz = Browser(service, "sjz")
    for app in sjz.applications(status="pending", level="municipal"):
        assert sjz.decide(app["id"], "recommend", score="85", override=CHECKED) == "已记录：同意推荐"

    # The day after 新华区's deadline: its window is closed and escalated; the city is told.
    driver.at(bj(2026, 3, 17, 9, 0), "新华区 escalated and the city told",
              lambda: _windows(engine).get(("county", XINHUA)) and _mails(service, "【逾期督办】", email_of("sjz")),
              jobs=("pipeline-advance", "reminder-sweep"))
    escalated = sjz.applications(status="pending", level="municipal")
    with engine.connect() as c:
        idle = c.execute(select(func.count()).select_from(Application).where(Application.jurisdiction_code == XINHUA)).scalar()
    assert idle and len(escalated) == idle and all(a["jurisdiction_code"] == XINHUA for a in escalated)
    for app in escalated:
        sjz.decide(app["id"], "recommend", score="80", override=CHECKED)

    # Everything decided: the city's window closes at the next advance, the province decides.
    driver.at(service.now() + timedelta(minutes=15), "the city's window closed",
              lambda: _windows(engine).get(("municipal", SJZ)), jobs=("pipeline-advance",))
    hebei = Browser(service, "hebei")
    listed = hebei.applications(status="pending", level="provincial")
    assert len(listed) == 8
    for app in listed:
        assert hebei.decide(app["id"], "recommend", score="86", override=CHECKED) == "已记录：同意推荐"

    # The province's window closes and the 公示 opens in the same advance.
    notice_id = driver.at(service.now() + timedelta(minutes=15), "the 公示 opened", lambda: _count(
        engine, select(Notice.id).where(Notice.status == NoticeStatus.open)), jobs=("pipeline-advance",))
    public = hebei.page(f"/notices/{notice_id}")
    assert "公示" in public and listed[0]["enterprise_name"] in public

    # An objection is registered and upheld: that enterprise leaves the list.
    objected = listed[0]
    made = service.srdi("notice", "object", objected["ref"], "--objector", "某竞争企业", "--contact", "0311-00000000",
                        "--grounds", "申报材料中的研发人员数据不实", "--as", "hebei", "--json")
    objection = json.loads(made.stdout)["objection"]
    service.srdi("notice", "resolve", str(objection), "--outcome", "upheld", "--finding", "经核查属实", "--as", "hebei")

    # The notice ends; certificates are issued to the other seven.
    with engine.connect() as c:
        closes_at = c.execute(select(Notice.closes_at).where(Notice.id == notice_id)).scalar()
    driver.at(local(closes_at), "recognitions issued", lambda: _count(engine, select(func.count()).select_from(
        Recognition).where(Recognition.call_id == call_id)) == 7, jobs=("pipeline-advance",))
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
