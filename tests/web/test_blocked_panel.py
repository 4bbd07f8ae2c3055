"""The dashboard shows what the running service could not do: blocked steps and failed jobs."""

from __future__ import annotations

from models.operations import JobStatus, ScheduledJob, StepBlock
from tasks.pipeline.blocks import record_block
from tests.web.conftest import login


def test_a_blocked_call_and_a_failed_job_are_on_the_dashboard_of_those_concerned(client, world, engine, clock):
    with engine.begin() as c:
        record_block(c, world.call_id, "close-levels", "层级办结", "缺少2027年法定节假日安排", clock.now())
        c.execute(StepBlock.__table__.insert().values(subject="tranche:9", step="disburse-tranche", reason="其他省份的事",
                                                      jurisdiction_code="110000", first_at=clock.now(), last_at=clock.now()))
        c.execute(ScheduledJob.__table__.insert().values(id="send-outbox", name="发送邮件队列", trigger="every 10",
                                                         last_status=JobStatus.failed, last_finished_at=clock.now()))
    login(client, "changan")                     # a county of the blocked Hebei call
    page = client.get("/dashboard").text
    assert "流程受阻" in page and "缺少2027年法定节假日安排" in page
    assert "其他省份的事" not in page and "定时任务异常" not in page     # jobs: for those who run the service


def test_the_province_also_sees_the_failed_job(client, world, engine, clock):
    with engine.begin() as c:
        c.execute(ScheduledJob.__table__.insert().values(id="send-outbox", name="发送邮件队列", trigger="every 10",
                                                         last_status=JobStatus.failed, last_finished_at=clock.now()))
    login(client, "hebei")
    page = client.get("/dashboard").text
    assert "定时任务异常" in page and "发送邮件队列" in page and "失败" in page
