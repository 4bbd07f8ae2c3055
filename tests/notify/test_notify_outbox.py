"""The outbox survives an SMTP outage: nothing lost, nothing sent twice; refusals are recorded."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from models.clock import SHANGHAI
from models.outbox import MailState, OutgoingMail
from notifications.config import SmtpConfig
from notifications.outbox import queue_mails
from notifications.sender import send_queued
from notifications.smtp_sink import EmlDirectory, read_messages, running_sink
from tasks.reminders.deadlines import register_deadlines
from tasks.reminders.sweep import sweep


def _deadline(engine):
    with engine.begin() as c:
        register_deadlines(c, [
            {"key": "level:HB-2025:county:130102", "kind": "level_decision", "title": "长安区县级审核推荐",
             "due_at": datetime(2025, 10, 14, 17, 30, tzinfo=SHANGHAI), "jurisdiction_code": "130102", "call_id": "HB-2025"},
            {"key": "name-change:1", "kind": "name_change", "title": "企业更名备案",
             "due_at": datetime(2025, 10, 13, 17, 30, tzinfo=SHANGHAI), "jurisdiction_code": "130102", "enterprise_id": 1},
        ])


def _mail(engine):
    with engine.connect() as c:
        return {r.to_addr: r for r in c.execute(select(OutgoingMail))}


@pytest.mark.postgres
def test_smtp_down_during_the_sweep_then_back_delivers_every_reminder_exactly_once(people, clock, smtp_env, tmp_path):
    engine = people
    _deadline(engine)
    clock.set(datetime(2025, 9, 30, 9, 0, tzinfo=SHANGHAI))
    assert sweep(engine).mails == 3

    down = send_queued(engine)                      # nothing listens on the port
    assert (down.sent, down.deferred) == (0, 3) and "无法连接" in down.server_unavailable
    mails = _mail(engine)
    assert {m.state for m in mails.values()} == {MailState.queued}
    assert all(m.attempts == 1 and "无法连接" in m.last_error for m in mails.values())

    clock.advance(timedelta(minutes=2))             # still down at the first retry
    assert send_queued(engine).deferred == 3
    sweep(engine)                                   # the sweep runs again meanwhile: no new mail
    assert len(_mail(engine)) == 3

    with running_sink(tmp_path / "mail", port=smtp_env) as sink:
        assert send_queued(engine).claimed == 0     # back-off: not yet due again
        clock.advance(timedelta(minutes=3))
        back = send_queued(engine)
        assert (back.sent, back.deferred, back.failed) == (3, 0, 0)
        assert send_queued(engine).claimed == 0     # and never again
        sweep(engine)
        send_queued(engine)
        received = read_messages(sink.directory)

    assert sorted(m["To"].addresses[0].addr_spec for m in received) == sorted(
        ["changan@gxj.example.cn", "li@gxj.example.cn", "chen@jinggong.example.cn"])
    assert len({m["Message-ID"] for m in received}) == 3
    mails = _mail(engine)
    assert all(m.state == MailState.sent and m.attempts == 3 and m.sent_at == clock.now() for m in mails.values())
    assert {m.message_id for m in mails.values()} == {m["Message-ID"] for m in received}


class Greylisting(EmlDirectory):
    """Answers 451 to the first attempt of every message, 550 for an unknown mailbox."""

    def __init__(self, directory):
        super().__init__(directory)
        self.seen: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 用户不存在 / mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        key = envelope.rcpt_tos[0]
        if key not in self.seen:
            self.seen.add(key)
            return "451 4.7.1 Greylisted, try again later"
        return await super().handle_DATA(server, session, envelope)


def test_temporary_refusals_are_retried_and_permanent_ones_recorded_as_failed(engine, clock, smtp_env, tmp_path):
    with engine.begin() as c:
        queue_mails(c, [{"dedupe_key": f"t:{addr}", "kind": "reminder", "to_addr": addr, "subject": "【截止提醒】测试",
                         "body_text": "正文"} for addr in ("a@gxj.example.cn", "b@gxj.example.cn", "nobody@gxj.example.cn")])
    handler = Greylisting(tmp_path / "mail")
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_env)
    controller.start()
    try:
        first = send_queued(engine)
        assert (first.sent, first.deferred, first.failed) == (0, 2, 1)
        clock.advance(timedelta(minutes=1))
        second = send_queued(engine)
        assert (second.sent, second.deferred, second.failed) == (2, 0, 0)
    finally:
        controller.stop()
    mails = _mail(engine)
    assert mails["nobody@gxj.example.cn"].state == MailState.failed
    assert mails["nobody@gxj.example.cn"].last_error.startswith("550")
    assert mails["a@gxj.example.cn"].state == MailState.sent and mails["a@gxj.example.cn"].attempts == 2
    assert len(read_messages(tmp_path / "mail")) == 2


@pytest.mark.postgres
def test_two_senders_at_once_never_send_the_same_mail(engine, sink):
    with engine.begin() as c:
        queue_mails(c, [{"dedupe_key": f"t:{i}", "kind": "reminder", "to_addr": f"u{i}@gxj.example.cn",
                         "subject": f"【截止提醒】第{i}项", "body_text": "正文"} for i in range(300)])
    import threading

    reports = []
    threads = [threading.Thread(target=lambda: reports.append(send_queued(engine, SmtpConfig.from_settings(), batch=50)))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.sent for r in reports) == 300
    subjects = [str(m["Subject"]) for m in read_messages(sink.directory)]
    assert len(subjects) == len(set(subjects)) == 300


class RefusesOurSender(EmlDirectory):
    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        return "553 5.7.1 Sender address rejected: not owned by user"


def test_a_server_refusing_our_sender_fails_no_mail_and_keeps_all_queued(engine, clock, smtp_env, tmp_path):
    with engine.begin() as c:
        queue_mails(c, [{"dedupe_key": f"t:{i}", "kind": "reminder", "to_addr": f"u{i}@gxj.example.cn",
                         "subject": "【截止提醒】测试", "body_text": "正文"} for i in range(5)])
    controller = Controller(RefusesOurSender(tmp_path / "mail"), hostname="127.0.0.1", port=smtp_env)
    controller.start()
    try:
        report = send_queued(engine)
    finally:
        controller.stop()
    assert (report.sent, report.failed, report.deferred) == (0, 0, 5)
    assert "拒绝发件人 srdi@gxt.hebei.example.cn" in report.server_unavailable
    assert {m.state for m in _mail(engine).values()} == {MailState.queued}
