"""Mail exactly once across crashes: `srdi mail send-queued` killed with SIGKILL again and again, then
run to the end, delivers every mail with at most one duplicate per kill (the mail in flight, with its
own Message-ID); `--retry-now` takes back the claims of a dead sender; an unreachable server is said
and ends the sweep with a non-zero exit, everything still queued."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path

from sqlalchemy import select, update
from typer.testing import CliRunner

from models.clock import SHANGHAI
from models.clock import clock as srdi_clock
from models.outbox import MailState, OutgoingMail
from notifications.claims import host_tag
from notifications.outbox import queue_mails
from srdi.cli.main import app
from tasks.reminders.deadlines import register_deadlines

ROOT = Path(__file__).resolve().parents[2]
SRDI = [sys.executable, "-c", "import sys; from srdi.cli.main import run; sys.exit(run())"]
runner = CliRunner()


def _queue(engine, n: int) -> None:
    with engine.begin() as c:
        queue_mails(c, [{"dedupe_key": f"crash:{i}", "kind": "reminder", "to_addr": f"u{i}@gxj.example.cn",
                         "subject": f"【截止提醒】第{i}项", "body_text": f"第{i}项将于三个工作日后截止。"} for i in range(n)],
                    "gxt.hebei.example.cn")


def _mailbox(directory: Path) -> list[tuple[str, str]]:
    """(Message-ID, Subject) of every message the server filed."""
    parser = BytesHeaderParser(policy=default_policy)
    headers = [parser.parsebytes(path.read_bytes()) for path in sorted(directory.glob("*.eml"))]
    return [(str(h["Message-ID"]), str(h["Subject"])) for h in headers]


def _states(engine) -> Counter:
    with engine.connect() as c:
        return Counter(c.execute(select(OutgoingMail.state)).scalars())


def test_send_queued_killed_five_times_then_rerun_loses_nothing_and_resends_at_most_one_per_kill(engine, sink, monkeypatch):
    total = 2000
    _queue(engine, total)
    monkeypatch.setenv("SRDI_SMTP_CONCURRENCY", "4")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rng = random.Random(20251012)
    kills, started = 0, time.monotonic()
    while kills < 5:
        child = subprocess.Popen(SRDI + ["mail", "send-queued"], cwd=ROOT, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        target = sink.handler.accepted + rng.randint(40, 250)          # a random moment while it sends
        while sink.handler.accepted < target and child.poll() is None and time.monotonic() - started < 50:
            time.sleep(0.0005)
        time.sleep(rng.random() * 0.005)
        assert child.poll() is None, f"the sender ended before the kill: {child.stderr.read().decode()}"
        child.kill()
        child.wait()
        child.stderr.close()
        kills += 1
    final = subprocess.run(SRDI + ["mail", "send-queued"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stdout + final.stderr

    with engine.connect() as c:
        queued = dict(c.execute(select(OutgoingMail.message_id, OutgoingMail.subject)).all())
    received = _mailbox(sink.directory)
    per_id = Counter(message_id for message_id, _ in received)
    duplicates = len(received) - len(per_id)
    print(f"\n{kills} kills: {len(received)} messages received for {total} mails, {duplicates} duplicates")
    assert set(per_id) == set(queued)                                   # none lost, none unknown
    assert duplicates <= kills                                          # at most the one in flight per kill
    assert set(received) == set(queued.items())                         # a duplicate carries its mail's Message-ID
    assert _states(engine) == {MailState.sent: total}


def _dead_pid() -> int:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    return int(gone.stdout)


def test_retry_now_takes_back_a_dead_senders_claims_and_keeps_a_live_ones(engine, sink):
    _queue(engine, 5)
    now = srdi_clock.now()
    dead, alive = f"{host_tag()}:{_dead_pid()}:0123456789abcdef", f"{host_tag()}:{os.getpid()}:0123456789abcdef"
    mail = OutgoingMail.__table__
    with engine.begin() as c:
        ids = list(c.execute(select(mail.c.id).order_by(mail.c.id)).scalars())
        lease = now + timedelta(minutes=10)
        c.execute(update(mail).where(mail.c.id.in_(ids[:2])).values(claim=dead, next_attempt_at=lease))
        # accepted by the server just before the dead sender was killed: recorded, must not go out again
        c.execute(update(mail).where(mail.c.id == ids[2]).values(claim=dead, next_attempt_at=lease, sent_at=now, attempts=1))
        c.execute(update(mail).where(mail.c.id == ids[3]).values(claim=alive, next_attempt_at=lease))
        c.execute(update(mail).where(mail.c.id == ids[4]).values(attempts=1, next_attempt_at=now + timedelta(minutes=30)))

    plain = runner.invoke(app, ["mail", "send-queued", "--json"])
    assert plain.exit_code == 0, plain.output
    assert {k: json.loads(plain.output)[k] for k in ("sent", "settled", "released")} == {"sent": 2, "settled": 1, "released": 2}

    result = runner.invoke(app, ["mail", "send-queued", "--retry-now"])
    assert result.exit_code == 0, result.output
    assert "成功 1 封" in result.output                                 # the deferred one, at once
    with engine.connect() as c:
        rows = {r.id: r for r in c.execute(select(mail))}
    assert [rows[i].state for i in ids] == [MailState.sent] * 3 + [MailState.queued, MailState.sent]
    assert rows[ids[3]].claim == alive                                   # a live sender's claim is never taken
    assert rows[ids[2]].sent_at == now and rows[ids[2]].attempts == 1
    subjects = sorted(subject for _, subject in _mailbox(sink.directory))
    assert subjects == sorted(f"【截止提醒】第{i}项" for i in (0, 1, 4))


def test_a_sweep_that_cannot_reach_smtp_says_so_exits_non_zero_and_keeps_everything_queued(people, clock, smtp_env):
    with people.begin() as c:
        register_deadlines(c, [{"key": "level:HB-2025:county:130102", "kind": "level_decision", "title": "长安区县级审核推荐",
                                "due_at": datetime(2025, 10, 14, 17, 30, tzinfo=SHANGHAI), "jurisdiction_code": "130102",
                                "call_id": "HB-2025"}])
    clock.set(datetime(2025, 9, 30, 9, 0, tzinfo=SHANGHAI))
    result = runner.invoke(app, ["reminders", "sweep"])                # nothing listens on the SMTP port
    assert result.exit_code == 2, result.output
    assert "入队邮件 2 封" in result.output and "无法连接" in result.output and "邮件保留在发件箱" in result.output
    clock.advance(timedelta(minutes=2))                                  # due again after the back-off, still down
    again = runner.invoke(app, ["reminders", "sweep", "--json"])
    assert again.exit_code == 2 and "无法连接" in json.loads(again.output)["send"]["server_unavailable"]
    assert _states(people) == {MailState.queued: 2}
    outbox = runner.invoke(app, ["mail", "outbox", "--json"])
    assert json.loads(outbox.output) == {"states": {"queued": 2}, "failed": []}
