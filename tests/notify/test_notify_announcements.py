"""公示公告 and 结果公告 rendered to HTML files a bureau can publish."""

from __future__ import annotations

import html as html_lib
import re
from datetime import date, datetime

import pytest

from models import Application, Enterprise
from models.clock import SHANGHAI
from models.notice import Notice, NoticeEntry, NoticeEntryStatus, NoticeStatus
from notifications.announcements import (
    Contact,
    ListedEnterprise,
    NoticeAnnouncement,
    opening_from_db,
    publish_opening,
    publish_result,
    render_opening,
    result_from_db,
)

OPENS = datetime(2025, 9, 30, 9, 0, tzinfo=SHANGHAI)
CLOSES = datetime(2025, 10, 14, 17, 30, tzinfo=SHANGHAI)
NAMES = ["石家庄精工机械有限公司", "保定新材料科技有限公司", "唐山智能装备股份有限公司"]


def _text(page: str) -> str:
    """What a reader sees: the page without its tags."""
    body = re.sub(r"<(style|title)>.*?</\1>", " ", page, flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", body)).split())


def _listed_names(page: str) -> list[str]:
    return [html_lib.unescape(n) for n in re.findall(r'<td class="n">\d+</td><td>(.*?)</td>', page)]


def test_an_opening_announcement_from_plain_data_states_list_period_and_where_to_object():
    office = Contact(office="河北省工业和信息化厅中小企业处", person="张三", phone="0311-12345678",
                     email="zxqy@gxt.example.cn", address="石家庄市桥西区维明南大街46号")
    html = render_opening(NoticeAnnouncement(
        notice_id=7, title="河北省2025年专精特新中小企业拟认定名单公示", publisher="河北省工业和信息化厅",
        call_name="河北省2025年专精特新中小企业认定",
        entries=[ListedEnterprise(i, name, None, "石家庄市") for i, name in enumerate(NAMES, 1)],
        opens_at=OPENS, closes_at=CLOSES, length=5, unit="working_days", objections_to=office, contact=office,
        basis="《优质中小企业梯度培育管理暂行办法》（工信部企业〔2022〕63号）", published_on=date(2025, 9, 30)))
    text = _text(html)
    assert "公示期：2025年9月30日（星期二）09:00至2025年10月14日（星期二）17:30（北京时间），共5个工作日。" in text
    assert "请以书面形式向河北省工业和信息化厅中小企业处反映" in text
    assert "联系电话：0311-12345678" in text and "通讯地址：石家庄市桥西区维明南大街46号" in text
    assert "拟认定名单（共3家）" in text and "2025年9月30日" in text
    assert _listed_names(html) == NAMES


@pytest.fixture
def closed_notice(people):
    engine = people
    now = datetime(2025, 10, 15, tzinfo=SHANGHAI)
    with engine.begin() as c:
        c.execute(Enterprise.__table__.insert(), [
            {"id": 10 + i, "uscc": uscc, "name": name, "size": "small", "industry_code": "C34", "jurisdiction_code": "130102"}
            for i, (uscc, name) in enumerate(zip(["91130102MA0000010X", "91130102MA0000020X", "91130102MA0000030X"], NAMES))])
        c.execute(Application.__table__.insert(), [
            {"id": 10 + i, "ref": f"HB-{i}", "call_id": "HB-2025", "enterprise_id": 10 + i, "jurisdiction_code": "130102",
             "level": "provincial", "status": "recognised", "version": 5, "facts": {}} for i in range(3)])
        c.execute(Notice.__table__.insert(), [{
            "id": 3, "call_id": "HB-2025", "programme_id": "hebei-srdi", "level": "provincial", "jurisdiction_code": "130000",
            "round": 1, "title": "河北省河北省2025年专精特新中小企业认定拟认定名单公示", "opens_at": OPENS, "closes_at": CLOSES,
            "length": 5, "unit": "working_days", "opening_day_counts": False, "status": NoticeStatus.closed,
            "opened_by": "system", "closed_at": now, "cite": "冀工信企业〔2025〕1号", "created_at": OPENS}])
        statuses = [NoticeEntryStatus.recognised, NoticeEntryStatus.removed, NoticeEntryStatus.on_hold]
        c.execute(NoticeEntry.__table__.insert(), [
            {"notice_id": 3, "application_id": 10 + i, "enterprise_id": 10 + i, "position": i + 1, "status": s,
             "updated_at": now} for i, s in enumerate(statuses)])
    return engine


def test_announcements_of_a_notice_in_the_database_are_written_as_html_files(closed_notice, tmp_path):
    with closed_notice.connect() as c:
        opening = opening_from_db(c, 3)
        result = result_from_db(c, 3)
    opening_path = publish_opening(opening, tmp_path / "notices")
    result_path = publish_result(result, tmp_path / "notices")
    assert opening_path.name == "notice-3-opening.html" and result_path.name == "notice-3-result.html"

    published = _text(opening_path.read_text(encoding="utf-8"))
    assert all(name in published for name in NAMES)                      # the whole list as published
    assert "根据冀工信企业〔2025〕1号有关规定" in published
    assert "请以书面形式向河北省工业和信息化厅反映" in published and "电子邮箱：hebei@gxt.example.cn" in published

    outcome = _text(result_path.read_text(encoding="utf-8"))
    assert "认定结果公告" in outcome and "认定名单（共1家）" in outcome
    assert NAMES[0] in outcome and NAMES[1] not in outcome and NAMES[2] not in outcome
    assert "异议成立的1家企业，不予认定" in outcome and "另有1家企业的异议尚在调查核实中" in outcome


def test_the_demo_mailbox_leaves_mail_and_announcements_where_it_says(closed_notice, clock, tmp_path):
    from srdi.demo.mail_room import DemoMailbox
    from tasks.reminders.deadlines import register_deadlines

    with closed_notice.begin() as c:
        register_deadlines(c, [{"key": "level:HB-2025:county:130102", "kind": "level_decision", "title": "长安区县级审核推荐",
                                "due_at": CLOSES, "jurisdiction_code": "130102", "call_id": "HB-2025"}])
    clock.set(OPENS)
    with DemoMailbox(tmp_path / "demo", closed_notice) as mailbox:
        sent = mailbox.remind()
        pages = mailbox.announce()
        summary = mailbox.summary()
    assert sent["send"]["sent"] == 2
    assert {m["To"].addresses[0].addr_spec for m in mailbox.messages()} == {"changan@gxj.example.cn", "li@gxj.example.cn"}
    assert sorted(p.name for p in pages) == ["notice-3-opening.html", "notice-3-result.html"]
    assert str(tmp_path / "demo" / "mail") in summary and "邮件 2 封" in summary and "公告 2 份" in summary
