"""`srdi mail`: the outbox (发件箱) — send what is queued, see what failed, run a local sink."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from srdi.cli.output import JSON_OPTION, emit, table

app = typer.Typer(help="邮件：发送队列、查看发件箱、本地测试邮件服务器", no_args_is_help=True)


@app.command("send-queued")
def send_queued_command(
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="本次最多发送的封数"),
    retry_now: bool = typer.Option(False, "--retry-now", help="收回已中断的发送进程占用的邮件，不等退避时间立即重试待重发的邮件"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Send every due queued mail (SMTP settings from the environment or SRDI_CONFIG); exit 2 when the
    server could not be reached. ``--retry-now`` also takes back at once the mails claimed by a sender
    process that died on this host (every run does that) and makes deferred mails due now."""
    from models.db import get_engine
    from notifications.outbox import retry_now as make_due
    from notifications.sender import send_queued

    if retry_now:
        with get_engine().begin() as connection:
            make_due(connection)
    report = send_queued(limit=limit)

    def render(r: dict) -> None:
        if r["settled"] or r["released"]:
            typer.echo(f"上次发送中断：服务器已接收的 {r['settled']} 封记为已发送，收回未发出的 {r['released']} 封")
        typer.echo(f"发送：成功 {r['sent']} 封，待重发 {r['deferred']} 封，失败 {r['failed']} 封（{r['seconds']} 秒）")
        if r["server_unavailable"]:
            typer.echo(f"{r['server_unavailable']}；邮件保留在发件箱，服务器恢复后自动发送")
        for error in r["errors"]:
            typer.echo(f"  {error}")

    emit(report.as_dict(), as_json, render)
    if report.server_unavailable:
        raise typer.Exit(2)


@app.command("outbox")
def outbox_command(as_json: bool = JSON_OPTION) -> None:
    """Mails per state, and the failed ones with the server's answer."""
    from sqlalchemy import select

    from models.db import get_engine
    from models.outbox import MailState, OutgoingMail
    from notifications.outbox import counts

    with get_engine().connect() as connection:
        states = counts(connection)
        failed = [dict(r._mapping) for r in connection.execute(
            select(OutgoingMail.id, OutgoingMail.to_addr, OutgoingMail.subject, OutgoingMail.attempts, OutgoingMail.last_error)
            .where(OutgoingMail.state == MailState.failed).order_by(OutgoingMail.id))]

    def render(data: dict) -> None:
        typer.echo("，".join(f"{k} {v}" for k, v in sorted(data["states"].items())) or "发件箱为空")
        if data["failed"]:
            table("发送失败", ["#", "收件人", "主题", "次数", "原因"],
                  [[f["id"], f["to_addr"], f["subject"], f["attempts"], f["last_error"]] for f in data["failed"]])

    emit({"states": states, "failed": failed}, as_json, render)


@app.command("sink")
def sink_command(
    directory: Path = typer.Argument(..., help="每封邮件存为此目录下的 .eml 文件"),
    port: int = typer.Option(8025, "--port"),
    host: str = typer.Option("127.0.0.1", "--host"),
) -> None:
    """Run a local SMTP server that files every message it receives (for the demo and tests)."""
    import signal
    import threading

    from notifications.smtp_sink import start_sink

    sink = start_sink(directory, port, host)
    typer.echo(f"SMTP 测试服务器 {host}:{port}，邮件存于 {directory}（Ctrl-C 结束）")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sink.stop()
        typer.echo(f"共收到 {sink.handler.accepted} 封")
