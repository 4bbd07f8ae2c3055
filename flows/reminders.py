"""The daily reminder sweep (每日提醒) and the outbox sender, as Prefect flows.

Run by the embedded scheduler (srdi/scheduler.py) or by a Prefect server from prefect.yaml. A
cron "Mon–Fri" knows nothing of 调休, so the sweep checks the statutory calendar itself and does
nothing on a day off — and is scheduled every day so that make-up Saturdays are not missed.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from models.calendar import statutory_calendar
from models.clock import clock
from models.errors import SrdiError
from notifications.sender import send_queued
from tasks.reminders.sweep import sweep


class MailServerUnavailable(SrdiError):
    """The SMTP server could not be reached; the mail stays queued for the next run."""


@task(name="queue-due-reminders", cache_policy=NONE)
def queue_due_reminders() -> dict:
    """Plan today's reminders from the deadline registry and queue their mails (one transaction)."""
    return sweep().as_dict()


@task(name="send-outbox", cache_policy=NONE, retries=2, retry_delay_seconds=[10, 60])
def deliver_outbox() -> dict:
    """Send every due mail in the outbox; an unreachable server fails the task (and is retried)."""
    report = send_queued()
    if report.server_unavailable:
        raise MailServerUnavailable(f"{report.server_unavailable}；{report.deferred} 封邮件保留在发件箱待重发")
    return report.as_dict()


@flow(name="reminder-sweep", log_prints=True)
def reminder_sweep(send: bool = True) -> dict:
    """Every day: on a statutory working day queue the due reminders, then send the outbox."""
    logger = get_run_logger()
    today = clock.today()
    if not statutory_calendar().is_workday(today):
        logger.info("%s 不是法定工作日：不发送提醒", today)
        return {"today": today.isoformat(), "skipped": "non-working day"}
    result = queue_due_reminders()
    logger.info("提醒：%s 项到期，新增提醒 %s 条，入队邮件 %s 封，转为已逾期 %s 项",
                result["deadlines"], result["reminders"], result["mails"], result["missed"])
    if send:
        result["send"] = deliver_outbox()
    return result


@flow(name="send-outbox", log_prints=True)
def send_outbox() -> dict:
    """Send whatever is queued and due (mail deferred by an outage goes out once the server is back)."""
    return deliver_outbox()
