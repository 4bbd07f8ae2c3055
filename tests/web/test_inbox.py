"""待我办理 (the inbox at /): what waits for each user's own desk, and bulk decisions recorded one row each."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from models import Application
from models.enums import ApplicationStatus, Role
from models.jurisdiction import User
from models.transition import Transition
from tests.web.conftest import ENTERPRISES, csrf_of, login


def refs_on(html: str) -> set[str]:
    return set(re.findall(r'data-ref="([^"]+)"', html))


def ref_of(engine, app_id: int) -> str:
    with engine.connect() as c:
        return c.execute(select(Application.ref).where(Application.id == app_id)).scalar_one()


def version_of(engine, app_id: int) -> int:
    with engine.connect() as c:
        return c.execute(select(Application.version).where(Application.id == app_id)).scalar_one()


def test_a_county_sees_its_pending_applications_with_their_deadline(client, world, engine):
    login(client, "changan")
    page = client.get("/").text
    assert "待我办理" in page and "待审核申报" in page
    mine = {ref_of(engine, world.apps[n]) for code, n in ENTERPRISES if code == "130102"}
    assert refs_on(page) == mine                   # 桥西区's and 竞秀区's are not here
    assert "2026-03-16 23:59" in page              # the county window's deadline, 10 working days away
    assert re.search(r'class="num workdays">10<', page)


def test_a_city_sees_its_own_desk_not_the_counties(client, world):
    login(client, "sjz")
    page = client.get("/").text
    assert refs_on(page) == set()                  # all 7 wait at the counties, none at the city yet
    assert "目前没有待您办理的事项" in page


def test_the_city_and_province_desks_after_the_counties_decide(client, world, engine, clock):
    from tasks.review.decisions import decide
    from tasks.review.level_close import close_due_levels

    with engine.begin() as c:
        for name, user in (("石家庄长安精密机械有限公司", "changan"), ("桥西工业软件有限公司", "qiaoxi"),
                           ("竞秀电力装备有限公司", "jingxiu")):
            decide(c, world.apps[name], "recommend", user)
        for name, user in (("石家庄长安新材料科技有限公司", "changan"), ("长安智能传感股份有限公司", "changan"),
                           ("桥西生物医药科技有限公司", "qiaoxi"), ("保定竞秀光电有限公司", "jingxiu")):
            decide(c, world.apps[name], "reject", user, reason="不符合条件")
    clock.advance(timedelta(hours=2))
    with engine.begin() as c:
        close_due_levels(c, clock.now())
    login(client, "sjz")
    page = client.get("/").text
    assert refs_on(page) == {ref_of(engine, world.apps["石家庄长安精密机械有限公司"]), ref_of(engine, world.apps["桥西工业软件有限公司"])}
    client.post("/logout", data={"csrf_token": csrf_of(page)})
    login(client, "hebei")
    assert refs_on(client.get("/").text) == set()  # the province's desk is still empty


def test_the_province_sees_an_objection_to_decide_and_a_clerk_no_applications(client, round_on_notice, engine, password_hash):
    from tasks.notice.objections import record_objection

    with engine.begin() as c:
        record_objection(c, ref_of(engine, round_on_notice["a2"]), objector="某同行企业", contact="0311-00000000",
                         grounds="质疑专利归属", username="hebei")
        c.execute(User.__table__.insert().values(username="hbclerk", display_name="河北省厅办事员", role=Role.clerk,
                                                 jurisdiction_code="130000", active=True, password_hash=password_hash))
    login(client, "hebei")
    page = client.get("/").text
    assert "待处理异议" in page and "某同行企业提出异议" in page and f"/notices/{round_on_notice['notice']}#objection-" in page
    assert "2026-03-" in page                       # due by the notice's close
    client.post("/logout", data={"csrf_token": csrf_of(page)})
    login(client, "hbclerk")
    page = client.get("/?kind=objection").text
    assert "某同行企业提出异议" in page and "inbox-applications" not in page
    login(client, "changan")
    assert "某同行企业提出异议" not in client.get("/").text   # the county did not publish the notice


def test_an_overdue_window_is_red_and_the_filters_stay_in_the_url(client, world, engine, clock):
    clock.advance(timedelta(days=20))               # past the county deadline of 2026-03-16
    login(client, "changan")
    page = client.get("/?sort=name&dir=desc&overdue=1").text
    assert page.count('<tr class="overdue"') >= 3 and "已逾期" in page and "逾期" in page
    names = re.findall(r'<td><a href="/applications/\d+">[^<]+</a></td><td>([^<]+)</td>', page)
    assert names == sorted(names, reverse=True)
    assert 'name="back" value="/?sort=name&amp;dir=desc&amp;overdue=1"' in page
    assert "待结束审核" in page and "/stages?call=" in page    # the county's own window, due


def test_bulk_recommend_records_one_row_each(client, world, engine):
    ids = [world.apps["石家庄长安精密机械有限公司"], world.apps["石家庄长安新材料科技有限公司"]]
    login(client, "changan")
    page = client.get("/").text
    with engine.connect() as c:
        before = c.execute(select(func.count()).select_from(Transition)).scalar_one()
    answer = client.post("/inbox/decisions", data={
        "csrf_token": csrf_of(page), "decision": "recommend", "score": "85", "back": "/?sort=ref",
        "pick": [f"{i}:{version_of(engine, i)}" for i in ids],
        "row_id": ids, "row_score": ["91.5", ""]}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/?sort=ref"
    assert "已记录：同意推荐 2 件" in client.get("/").text
    with engine.connect() as c:
        rows = c.execute(select(Transition.application_id, Transition.score, Transition.actor)
                         .order_by(Transition.id).offset(before)).all()
        statuses = set(c.execute(select(Application.status).where(Application.id.in_(ids))).scalars())
    assert sorted((r.application_id, str(r.score), r.actor) for r in rows) == sorted(
        [(ids[0], "91.50", "changan"), (ids[1], "85.00", "changan")])
    assert statuses == {ApplicationStatus.recommended}


def test_a_stale_bulk_post_records_nothing(client, world, engine):
    from tasks.review.decisions import decide

    a, b = world.apps["石家庄长安精密机械有限公司"], world.apps["长安智能传感股份有限公司"]
    login(client, "changan")
    page = client.get("/").text
    picks = [f"{a}:{version_of(engine, a)}", f"{b}:{version_of(engine, b)}"]
    with engine.begin() as c:                        # someone else decides b meanwhile
        decide(c, b, "return", "changan", reason="请补充材料")
    answer = client.post("/inbox/decisions", data={"csrf_token": csrf_of(page), "decision": "reject", "reason": "不符合条件",
                                                   "pick": picks}, follow_redirects=True)
    assert "批量办理未保存" in answer.text and "已被他人修改" in answer.text and ref_of(engine, b) in answer.text
    with engine.connect() as c:
        assert c.execute(select(Application.status).where(Application.id == a)).scalar_one() == ApplicationStatus.pending


def test_a_bulk_return_needs_a_reason_and_another_county_is_404(client, world, engine):
    a = world.apps["石家庄长安精密机械有限公司"]
    login(client, "changan")
    token = csrf_of(client.get("/").text)
    answer = client.post("/inbox/decisions", data={"csrf_token": token, "decision": "return", "pick": [f"{a}:{version_of(engine, a)}"]})
    assert "须写明原因" in answer.text
    other = world.apps["竞秀电力装备有限公司"]
    assert client.post("/inbox/decisions", data={"csrf_token": token, "decision": "recommend",
                                                 "pick": [f"{other}:1"]}).status_code == 404
    assert client.post("/inbox/decisions", data={"decision": "recommend", "pick": [f"{a}:1"]}).status_code == 403


def test_the_dashboard_moved_and_lists_the_ministry_deadlines_per_province(client, world, engine, password_hash):
    with engine.begin() as c:
        c.execute(User.__table__.insert().values(username="miit", display_name="工业和信息化部审核员", role=Role.reviewer,
                                                 jurisdiction_code="000000", active=True, password_hash=password_hash))
    login(client, "miit")
    page = client.get("/dashboard").text
    assert "工作台" in page and 'id="deadlines-below"' in page
    below = page.split('id="deadlines-below"', 1)[1].split("</table>", 1)[0]
    assert "河北省" in below and "长安区" not in below and "<td class=\"num\">3</td>" in below
    assert "目前没有待您办理的事项" in client.get("/").text
