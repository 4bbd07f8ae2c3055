"""The demo's mail room: a real SMTP server on 127.0.0.1 and a folder of published announcements.

    with DemoMailbox(Path("var/demo")) as mailbox:
        ... move the clock, run the pipeline ...
        mailbox.remind()            # today's sweep + send, into var/demo/mail/*.eml
        mailbox.announce()          # every notice's 公示公告 / 结果公告 into var/demo/announcements/
        print(mailbox.summary())
"""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from models.db import get_engine
from notifications.announcements import opening_from_db, publish_opening, publish_result, result_from_db
from notifications.config import SmtpConfig
from notifications.sender import send_queued
from notifications.smtp_sink import Sink, read_messages, start_sink
from tasks.reminders.sweep import sweep


class DemoMailbox:
    def __init__(self, out_dir: Path, engine: Engine | None = None):
        self.mail_dir = Path(out_dir) / "mail"
        self.announcement_dir = Path(out_dir) / "announcements"
        self.engine = engine
        self.sink: Sink | None = None
        self.config: SmtpConfig | None = None

    def __enter__(self) -> "DemoMailbox":
        self.sink = start_sink(self.mail_dir)
        self.config = SmtpConfig.from_settings().with_(host=self.sink.host, port=self.sink.port, tls="none",
                                                       username=None, password=None)
        return self

    def __exit__(self, *exc) -> None:
        if self.sink is not None:
            self.sink.stop()

    def remind(self) -> dict:
        """Today's reminder sweep (nothing on a day off), then deliver the outbox to the sink."""
        engine = self.engine or get_engine()
        result = sweep(engine, config=self.config).as_dict()
        result["send"] = send_queued(engine, self.config).as_dict()
        return result

    def announce(self) -> list[Path]:
        """Publish the opening announcement of every notice, and the result of every closed one."""
        from models.notice import Notice, NoticeStatus

        paths = []
        with (self.engine or get_engine()).connect() as connection:
            for notice_id, status in connection.execute(select(Notice.id, Notice.status).order_by(Notice.id)):
                paths.append(publish_opening(opening_from_db(connection, notice_id), self.announcement_dir))
                if status == NoticeStatus.closed:
                    paths.append(publish_result(result_from_db(connection, notice_id), self.announcement_dir))
        return paths

    def messages(self) -> list[EmailMessage]:
        return read_messages(self.mail_dir)

    def summary(self) -> str:
        mails = len(list(self.mail_dir.glob("*.eml")))
        pages = len(list(self.announcement_dir.glob("*.html"))) if self.announcement_dir.is_dir() else 0
        return f"邮件 {mails} 封（.eml）：{self.mail_dir}\n公告 {pages} 份（HTML）：{self.announcement_dir}"
