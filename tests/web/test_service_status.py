"""运行状态 at /admin/status: jobs with their next run and errors, runs, blocked steps in scope (TestClient)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import JobRun, ScheduledJob, StepBlock, User
from models.enums import Role
from tests.web.conftest import login

ERROR = "SMTPConnectError: 无法连接邮件服务器 smtp.example.gov.cn:465"


@pytest.fixture
def service(world, engine, clock, password_hash):
    """Two jobs (one failing every run), their runs, and blocked steps in 河北 and in 广东; admins at three levels."""
    now = clock.now()
    with engine.begin() as c:
        c.execute(User.__table__.insert(), [
            {"username": u, "display_name": u, "role": Role.admin, "jurisdiction_code": code, "active": True,
             "password_hash": password_hash}
            for u, code in (("hebei_admin", "130000"), ("changan_admin", "130102"), ("ministry_admin", "000000"))])
        c.execute(ScheduledJob.__table__.insert(), [
            {"id": "send-outbox", "name": "发送邮件队列", "trigger": "interval[0:10:00]", "last_status": "failed",
             "last_finished_at": now - timedelta(minutes=4), "next_due_at": now + timedelta(minutes=6)},
            {"id": "pipeline-advance", "name": "推进评审流程", "trigger": "interval[0:15:00]", "last_status": "succeeded",
             "last_finished_at": now - timedelta(minutes=1), "next_due_at": now + timedelta(minutes=14)}])
        c.execute(JobRun.__table__.insert(), [
            {"job_id": "send-outbox", "trigger": "schedule", "owner": "host:1", "status": "failed",
             "started_at": now - timedelta(minutes=m + 1), "finished_at": now - timedelta(minutes=m), "error": ERROR}
            for m in (4, 14, 24)] + [
            {"job_id": "pipeline-advance", "trigger": "schedule", "owner": "host:1", "status": "succeeded",
             "started_at": now - timedelta(minutes=2), "finished_at": now - timedelta(minutes=1), "error": None},
            {"job_id": "pipeline-advance", "trigger": "manual", "owner": "host:1", "status": "succeeded",
             "started_at": now - timedelta(days=30), "finished_at": now - timedelta(days=30), "error": None}])
        c.execute(StepBlock.__table__.insert(), [
            {"subject": world.call_id, "jurisdiction_code": "130000", "step": "close-levels",
             "reason": "2027年法定节假日安排尚未发布，无法计算工作日截止时间", "first_at": now - timedelta(hours=3),
             "last_at": now, "failures": 12},
            {"subject": "guangdong-2026", "jurisdiction_code": "440000", "step": "open-notices",
             "reason": "广东省方案缺少公示天数", "first_at": now, "last_at": now, "failures": 1}])
    return world


def test_a_provincial_admin_sees_the_failing_job_its_next_run_and_its_province_blocks(client, service):
    login(client, "hebei_admin")
    page = client.get("/admin/status")
    assert page.status_code == 200
    text = page.text
    assert ERROR in text and "发送邮件队列" in text
    assert "2026-03-02 09:06" in text           # next run of send-outbox, Beijing time
    assert "2026-03-02 09:14" in text
    jobs = text.split('id="jobs"', 1)[1].split("</section>", 1)[0]
    row = jobs.split("发送邮件队列", 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">3</td><td class="num">3</td>' in row        # 3 runs in the last 7 days, all failed
    assert "无法计算工作日截止时间" in text and "层级办结" in text
    assert "广东省方案缺少公示天数" not in text
    runs = text.split('id="job-runs"', 1)[1]
    assert runs.count("<tr class=") == 4        # the run 30 days ago is older than the window


def test_the_ministry_sees_every_block_a_county_admin_only_its_own(client, service):
    login(client, "ministry_admin")
    assert "广东省方案缺少公示天数" in client.get("/admin/status").text
    client.cookies.clear()
    login(client, "changan_admin")
    page = client.get("/admin/status").text
    assert ERROR not in page and 'id="service-note"' in page and "广东省方案缺少公示天数" not in page


def test_a_non_admin_is_refused(client, service):
    login(client, "hebei")
    assert client.get("/admin/status").status_code == 403
