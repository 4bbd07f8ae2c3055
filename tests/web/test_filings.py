"""Certificates (认定证书), re-review (复核) and name-change (更名) filings in the console (TestClient)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from models import Application, Enterprise, Recognition
from models.name_change import NameChange, NameChangeStatus
from models.rereview import ReReviewCase
from tasks.recognition.titles import add_years
from tests.web.conftest import ENTERPRISES, HEBEI, csrf_of, login

A1, A2, A3, Q1, Q2, J1, J2 = (name for _, name in ENTERPRISES)


@pytest.fixture
def recognised(round_on_notice, engine, clock) -> dict[str, int]:
    """The round's notice has ended: 长安 ×2 and 竞秀 ×1 hold certificates."""
    from tasks.notice.publication import close_due_notices

    clock.advance(timedelta(days=14))
    with engine.begin() as c:
        assert close_due_notices(c, clock.now())["recognised"] == 3
    return round_on_notice


def relogin(client, user: str) -> None:
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/notices").text)})
    login(client, user)


def certificate_rows(html: str) -> list[str]:
    return re.findall(r'<tr><td class="mono">([^<]+)</td>', html.split('id="recognitions"')[1].split("</table>")[0])


def test_each_bureau_sees_the_certificates_of_its_own_enterprises(client, recognised):
    seen = {}
    login(client, "hebei")
    for user in ("hebei", "sjz", "changan", "jingxiu", "qiaoxi"):
        if user != "hebei":
            relogin(client, user)
        page = client.get("/recognitions")
        assert page.status_code == 200
        seen[user] = page.text
    assert len(certificate_rows(seen["hebei"])) == 3
    assert len(certificate_rows(seen["sjz"])) == 2 and A1 in seen["sjz"] and J1 not in seen["sjz"]
    assert len(certificate_rows(seen["changan"])) == 2
    assert certificate_rows(seen["jingxiu"]) and J1 in seen["jingxiu"] and A1 not in seen["jingxiu"]
    assert certificate_rows(seen["qiaoxi"]) == [] and "没有符合条件的认定证书" in seen["qiaoxi"]


def test_filters_live_in_the_url_and_pages_are_numbered(client, recognised, engine):
    with engine.connect() as c:
        numbers = c.execute(select(Recognition.certificate_no).order_by(Recognition.certificate_no)).scalars().all()
    login(client, "hebei")
    baoding = client.get("/recognitions?jurisdiction=130600").text
    assert len(certificate_rows(baoding)) == 1 and J1 in baoding and A1 not in baoding
    assert certificate_rows(client.get(f"/recognitions?q={numbers[1]}").text) == [numbers[1]]
    assert certificate_rows(client.get("/recognitions?status=revoked").text) == []
    assert len(certificate_rows(client.get("/recognitions?due=2029").text)) == 3
    assert certificate_rows(client.get("/recognitions?due=2030").text) == []
    first = client.get("/recognitions?per_page=1&status=active").text
    assert certificate_rows(first) == [numbers[0]] and "第 1 / 3 页" in first
    assert 'href="/recognitions?per_page=1&amp;status=active&amp;page=3"' in first
    assert certificate_rows(client.get("/recognitions?per_page=1&status=active&page=2").text) == [numbers[1]]
    assert client.get("/recognitions?jurisdiction=110000").status_code == 404     # outside the subtree
    relogin(client, "changan")
    assert client.get("/recognitions?jurisdiction=130602").status_code == 404


def title_of(engine, name: str) -> int:
    with engine.connect() as c:
        return c.execute(select(Recognition.id).join(Enterprise, Enterprise.id == Recognition.enterprise_id)
                         .where(Enterprise.name == name)).scalar_one()


def test_a_county_files_a_name_change_in_time(client, recognised, engine, clock):
    rid = title_of(engine, A1)
    login(client, "changan")
    page = client.get(f"/recognitions/{rid}/rename")
    assert page.status_code == 200 and "登记更名备案" in page.text
    changed_on = (clock.now() - timedelta(days=3)).date().isoformat()
    answer = client.post(f"/recognitions/{rid}/rename", follow_redirects=True, data={
        "csrf_token": csrf_of(page.text), "new_name": "石家庄长安精密智造有限公司", "changed_on": changed_on})
    assert "按期备案 1 项" in answer.text and "石家庄长安精密智造有限公司" in answer.text
    with engine.connect() as c:
        assert c.execute(select(NameChange.status)).scalar_one() == NameChangeStatus.filed
        assert c.execute(select(Enterprise.name).where(Enterprise.uscc.in_(
            select(Enterprise.uscc).join(Recognition, Recognition.enterprise_id == Enterprise.id).where(Recognition.id == rid))
        )).scalar_one() == "石家庄长安精密智造有限公司"


def test_a_name_change_is_refused_outside_the_subtree_and_for_a_bad_date(client, recognised, engine):
    rid = title_of(engine, A1)
    login(client, "qiaoxi")
    assert client.get(f"/recognitions/{rid}/rename").status_code == 404
    token = csrf_of(client.get("/recognitions").text)
    answer = client.post(f"/recognitions/{rid}/rename", data={"csrf_token": token, "new_name": "别人家公司",
                                                             "changed_on": "2026-03-01"}, follow_redirects=False)
    assert answer.status_code == 404
    relogin(client, "changan")
    page = client.get(f"/recognitions/{rid}/rename").text
    answer = client.post(f"/recognitions/{rid}/rename", follow_redirects=True,
                         data={"csrf_token": csrf_of(page), "new_name": "新名称有限公司", "changed_on": "明天"})
    assert "更名日期" in answer.text and "无效" in answer.text
    with engine.connect() as c:
        assert c.execute(select(NameChange.id)).first() is None


def legacy_title(engine, world, name: str) -> int:
    """A Hebei title granted before srdi on 2023-03-20: valid to 2026-03-19, re-review due in 2026."""
    with engine.begin() as c:
        enterprise_id = c.execute(select(Enterprise.id).where(Enterprise.name == name)).scalar_one()
        start = date(2023, 3, 20)
        return c.execute(Recognition.__table__.insert().values(
            certificate_no=f"OLD-{HEBEI}-{enterprise_id:05d}", enterprise_id=enterprise_id, programme_id=HEBEI,
            tier="provincial_srdi", jurisdiction_code="130000", valid_from=start,
            valid_to=add_years(start, 3) - timedelta(days=1), re_review_due=add_years(start, 3) - timedelta(days=1),
            status="active")).inserted_primary_key[0]


def test_the_province_opens_a_rereview_and_a_county_registers_its_enterprise(client, world, engine):
    legacy_title(engine, world, A3)
    legacy_title(engine, world, Q2)
    login(client, "hebei")
    assert "开启复核" in client.get("/rereview").text
    preview = client.get(f"/rereview?programme={HEBEI}&year=2026").text
    assert A3 in preview and Q2 in preview and "本辖区 2 家" in preview
    answer = client.post("/rereview/open", follow_redirects=True, data={
        "csrf_token": csrf_of(preview), "programme": HEBEI, "year": "2026", "closes": "2026-03-05"})
    assert "新增复核名单 2 家" in answer.text and A3 in answer.text and Q2 in answer.text
    call_id = f"{HEBEI}-2026-rereview"

    relogin(client, "changan")
    listing = client.get("/rereview").text
    assert "开启复核" not in listing and call_id in listing          # a county does not open one
    page = client.get(f"/rereview/{call_id}").text
    assert A3 in page and Q2 not in page
    with engine.connect() as c:
        qiaoxi_uscc = c.execute(select(Enterprise.uscc).where(Enterprise.name == Q2)).scalar_one()
        ours = c.execute(select(Enterprise.uscc).where(Enterprise.name == A3)).scalar_one()
    refused = client.post(f"/rereview/{call_id}/apply", follow_redirects=True,
                          data={"csrf_token": csrf_of(page), "uscc": [qiaoxi_uscc]})
    assert "未写入任何数据" in refused.text and "不在用户 changan 的辖区" in refused.text
    answer = client.post(f"/rereview/{call_id}/apply", follow_redirects=True, data={"csrf_token": csrf_of(page), "uscc": [ours]})
    assert "已登记复核申请 1 家" in answer.text
    with engine.connect() as c:
        case = c.execute(select(ReReviewCase.application_id, Application.level).join(
            Application, Application.id == ReReviewCase.application_id)).one()
    assert case.level == "provincial"

    relogin(client, "qiaoxi")
    assert client.get(f"/rereview/{call_id}").status_code == 200
    relogin(client, "jingxiu")                           # no case in 竞秀区
    assert client.get(f"/rereview/{call_id}").status_code == 404


def test_a_city_cannot_open_the_provinces_rereview(client, world, engine):
    legacy_title(engine, world, A3)
    login(client, "sjz")
    assert "开启复核" not in client.get("/rereview").text
    answer = client.post("/rereview/open", follow_redirects=True, data={
        "csrf_token": csrf_of(client.get("/rereview").text), "programme": HEBEI, "year": "2026", "closes": "2026-03-05"})
    assert "无权开启复核" in answer.text
    with engine.connect() as c:
        assert c.execute(select(ReReviewCase.id)).first() is None


def test_a_late_name_change_is_recorded_and_the_title_deemed_waived(client, recognised, engine, clock):
    rid = title_of(engine, A1)
    login(client, "changan")
    page = client.get(f"/recognitions/{rid}/rename").text
    changed_on = (clock.now() - timedelta(days=45)).date().isoformat()        # 河北: file within one month
    answer = client.post(f"/recognitions/{rid}/rename", follow_redirects=True, data={
        "csrf_token": csrf_of(page), "new_name": "石家庄长安精密智造有限公司", "changed_on": changed_on})
    assert "逾期 1 项" in answer.text and "撤销称号 1 项" in answer.text and "逾期备案" in answer.text
    assert 'id="rename-form"' not in answer.text                               # the title is gone
    revoked = client.get("/recognitions?status=revoked").text
    assert certificate_rows(revoked) and "视为自动放弃资格" in revoked
