"""Benchmark: 10,000 deadline reminders planned, rendered, queued and sent to aiosmtpd on 127.0.0.1.

2,500 county bureaus, each with its mailbox and three staff, each with a level deadline three
working days ahead: the daily sweep plans 10,000 reminders (Jinja2 text + HTML + .ics), queues them
in the outbox, and the sender delivers them over reused aiosmtplib connections to an aiosmtpd
server running in its own process. Baseline: a plain loop with smtplib and a new connection per
message, sending the same MIME bytes (run on --baseline-sample messages and scaled linearly).
Target ≤ 20 s for 10,000.

    python bench/mail.py [--reminders 10000] [--concurrency 8] [--baseline-sample 1000]
"""

from __future__ import annotations

import argparse
import os
import smtplib
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

import models  # noqa: E402,F401
from models.calendar import statutory_calendar  # noqa: E402
from models.clock import SHANGHAI, clock  # noqa: E402
from models.db import make_engine  # noqa: E402
from models.enums import JurisdictionLevel  # noqa: E402
from models.jurisdiction import Bureau, Jurisdiction, User  # noqa: E402
from models.outbox import OutgoingMail  # noqa: E402
from notifications.config import SmtpConfig  # noqa: E402
from notifications.mime import mime_bytes  # noqa: E402
from notifications.sender import send_queued  # noqa: E402
from notifications.smtp_sink import free_port  # noqa: E402
from tasks.reference.jurisdictions import load_jurisdictions  # noqa: E402
from tasks.reminders.deadlines import register_deadlines  # noqa: E402
from tasks.reminders.sweep import sweep  # noqa: E402

TARGET_SECONDS = 20.0
PER_BUREAU = 4          # the bureau's mailbox + three staff
TODAY = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


def seed(engine, bureaus: int) -> None:
    with engine.begin() as c:
        counties = list(c.execute(select(Jurisdiction.code, Jurisdiction.name)
                                  .where(Jurisdiction.level == JurisdictionLevel.county).order_by(Jurisdiction.code).limit(bureaus)))
        if len(counties) < bureaus:
            raise SystemExit(f"only {len(counties)} counties in the table; use --reminders ≤ {len(counties) * PER_BUREAU}")
        c.execute(Bureau.__table__.insert(), [{"id": i + 1, "name": f"{name}工业和信息化局", "kind": "sme",
                                               "jurisdiction_code": code, "email": f"bureau{code}@gxj.example.cn"}
                                              for i, (code, name) in enumerate(counties)])
        c.execute(User.__table__.insert(), [
            {"username": f"u{code}-{k}", "display_name": f"审核员{k}", "role": "reviewer", "jurisdiction_code": code,
             "bureau_id": i + 1, "enterprise_id": None, "email": f"staff{k}.{code}@gxj.example.cn", "active": True}
            for i, (code, _) in enumerate(counties) for k in range(1, PER_BUREAU)])
        due = datetime.combine(statutory_calendar().add_workdays(TODAY.date(), 3),
                               datetime.min.time().replace(hour=17, minute=30), SHANGHAI)
        register_deadlines(c, [{"key": f"level:BENCH:county:{code}", "kind": "level_decision",
                                "title": f"{name}县级审核推荐", "due_at": due, "jurisdiction_code": code} for code, name in counties])


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) of this process or of ``pid`` — the machine is shared, wall time is not enough."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(port: int) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, "-m", "notifications.smtp_sink", "--port", str(port), "--count-only"],
                              stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent)
    server.stdout.readline()            # "SMTP sink on …" once it listens
    return server


def stop_server(server: subprocess.Popen) -> int:
    server.terminate()
    out, _ = server.communicate(timeout=30)
    return int(out.strip().split()[-2]) if "accepted" in out else -1


def baseline(engine, config: SmtpConfig, sample: int) -> float:
    """Seconds for ``sample`` messages with smtplib and one connection per message."""
    with engine.connect() as c:
        rows = list(c.execute(select(OutgoingMail.__table__).order_by(OutgoingMail.id).limit(sample)))
    payloads = [(row.to_addr, mime_bytes(row, config)) for row in rows]
    started = time.perf_counter()
    for to_addr, payload in payloads:
        with smtplib.SMTP(config.host, config.port, local_hostname="localhost") as smtp:
            smtp.sendmail(config.sender, [to_addr], payload)
    return time.perf_counter() - started


def timed(step, server_pid: int):
    """(result, wall seconds, client CPU seconds, server CPU seconds) of ``step()``."""
    wall, cpu, server = time.perf_counter(), cpu_seconds(), cpu_seconds(server_pid)
    result = step()
    return result, time.perf_counter() - wall, cpu_seconds() - cpu, cpu_seconds(server_pid) - server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--baseline-sample", type=int, default=1000)
    args = parser.parse_args()
    bureaus = args.reminders // PER_BUREAU

    workdir = Path(tempfile.mkdtemp(prefix="srdi-bench-mail-"))
    engine = make_engine(f"sqlite:///{workdir / 'bench.db'}")
    SQLModel.metadata.create_all(engine)
    with engine.begin() as c:
        load_jurisdictions(c)
    seed(engine, bureaus)
    os.environ["SRDI_PROGRAMMES_DIR"] = str(workdir)          # default reminder policy (5, 3, 1)
    clock.set(TODAY)
    port = free_port()
    config = SmtpConfig(port=port, concurrency=args.concurrency)
    server = start_server(port)
    try:
        planned, plan_s, plan_cpu, _ = timed(lambda: sweep(engine, config=config), server.pid)
        report, send_s, send_cpu, send_server = timed(lambda: send_queued(engine, config), server.pid)
        sample = min(args.baseline_sample, report.sent)
        base_s, _, base_cpu, base_server = timed(lambda: baseline(engine, config, sample), server.pid)
    finally:
        accepted = stop_server(server)

    total_s = plan_s + send_s
    scale = report.sent / max(sample, 1)
    print(f"reminders planned and queued : {planned.mails:,} in {plan_s:.2f} s, CPU {plan_cpu:.2f} s "
          "(Jinja2 text + HTML, .ics, outbox insert)")
    print(f"sent (aiosmtplib, {config.concurrency} reused connections): {report.sent:,} in {send_s:.2f} s "
          f"= {report.sent / send_s:,.0f} messages/s; CPU client {send_cpu:.2f} s, server {send_server:.2f} s; "
          f"failed {report.failed}, deferred {report.deferred}")
    print(f"server accepted              : {accepted:,} (aiosmtpd on 127.0.0.1:{port}, its own process)")
    print(f"total sweep → delivered      : {total_s:.2f} s = {report.sent / total_s:,.0f} messages/s "
          f"(target ≤ {TARGET_SECONDS:.0f} s)")
    print(f"baseline smtplib, a connection per message: {sample:,} in {base_s:.2f} s = {sample / base_s:,.0f} messages/s; "
          f"CPU client {base_cpu:.2f} s, server {base_server:.2f} s → {base_s * scale:.1f} s for {report.sent:,} "
          "(scaled linearly from the sample)")
    print(f"ratio baseline / srdi, wall time : {base_s * scale / send_s:.1f}×")
    print(f"ratio baseline / srdi, CPU (client + server): "
          f"{(base_cpu + base_server) * scale / (send_cpu + send_server):.1f}×")
    ok = planned.mails == report.sent == args.reminders and accepted == report.sent + sample and total_s <= TARGET_SECONDS
    print("OK" if ok else "NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
