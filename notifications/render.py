"""Jinja2 rendering of mails and announcements (zh-CN), times shown in Beijing time.

A mail template ``NAME`` is three files in ``templates/mail/``: ``NAME.subject.j2`` (one line),
``NAME.txt.j2`` (plain text) and ``NAME.html.j2`` (HTML; autoescaped).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import jinja2
import markupsafe

from models.clock import local
from models.settings import settings

WEEKDAYS = "一二三四五六日"
RECIPIENT = "\x00recipient\x00"     # stands for the recipient's name in a mail rendered once for many

DEADLINE_KINDS = {
    "level_decision": "审核推荐",
    "notice_close": "公示期满",
    "re_review": "复核",
    "name_change": "更名备案",
    "annual_report": "年度数据报送",
    "allocation_plan": "资金分配方案报送",
    "tranche": "资金拨付",
    "performance_review": "绩效考核",
}


def beijing(value: datetime | None) -> str:
    """2025年10月14日（星期二）17:30"""
    if value is None:
        return ""
    t = local(value)
    return f"{t.year}年{t.month}月{t.day}日（星期{WEEKDAYS[t.weekday()]}）{t:%H:%M}"


def beijing_date(value: datetime | date | None) -> str:
    if value is None:
        return ""
    d = local(value).date() if isinstance(value, datetime) else value
    return f"{d.year}年{d.month}月{d.day}日"


def kind_label(kind: str) -> str:
    return DEADLINE_KINDS.get(kind, kind)


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=4)
def environment(templates_dir: Path | None = None) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir or settings().templates_dir)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(beijing=beijing, beijing_date=beijing_date, kind_label=kind_label)
    return env


def render_template(name: str, context: dict) -> str:
    return environment().get_template(name).render(context)


def render_mail(name: str, context: dict) -> RenderedMail:
    subject = " ".join(render_template(f"mail/{name}.subject.j2", context).split())
    context = {**context, "subject": subject}
    return RenderedMail(
        subject=subject,
        text=render_template(f"mail/{name}.txt.j2", context),
        html=render_template(f"mail/{name}.html.j2", context),
    )


def personalise(mail: RenderedMail, name: str | None, fallback: str = "您好") -> RenderedMail:
    """Put one recipient's name into a mail rendered with ``recipient_name=RECIPIENT``.

    Rendering once per deadline and stage and only substituting the name keeps a sweep of
    thousands of reminders to a few hundred template renders.
    """
    plain = name or fallback
    return RenderedMail(
        subject=mail.subject.replace(RECIPIENT, plain),
        text=mail.text.replace(RECIPIENT, plain),
        html=mail.html.replace(RECIPIENT, str(markupsafe.escape(plain))),
    )
