"""评审环节 in the browser (TestClient): opening a call, importing a workbook, closing a level with its quota preview.

The Hebei profile is copied into a temporary programmes directory with a municipal quota of two
(``quota_programme``), so closing 石家庄's municipal window ranks three candidates and cuts one.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from models import Application, User
from models.enums import ApplicationStatus, ReviewLevel, Role
from models.programme import Call
from models.review import LevelWindow
from models.settings import REPO_ROOT
from srdi.demo.sample_workbook import write_sample_workbook
from tests.web.conftest import ENTERPRISES, HEBEI, csrf_of, login

A1, A2, A3, Q1, Q2, J1, J2 = (name for _, name in ENTERPRISES)
SJZ = "130100"
CITY_QUOTA = 2


@pytest.fixture
def quota_programme(tmp_path, monkeypatch) -> Path:
    """The Hebei profile with a quota of two per city at the municipal level; console files under tmp."""
    directory = tmp_path / "programmes"
    directory.mkdir()
    data = yaml.safe_load((REPO_ROOT / "programmes" / f"{HEBEI}.yaml").read_text(encoding="utf-8"))
    municipal = next(step for step in data["route"] if step["level"] == "municipal")
    municipal["quota"] = {"max": CITY_QUOTA, "rank_by": ["score_desc", "submitted_at_asc", "ref_asc"],
                          "sub_caps": [{"category": "c", "max": 1, "label": "上年度营业收入不足5000万元的企业（c类）"}]}
    (directory / f"{HEBEI}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("SRDI_PROGRAMMES_DIR", str(directory))
    monkeypatch.setenv("SRDI_CALENDAR_DIR", str(REPO_ROOT / "programmes" / "calendar"))
    monkeypatch.setenv("SRDI_HOME", str(tmp_path / "home"))
    return directory


@pytest.fixture
def staff(engine, password_hash):
    """A provincial administrator (who may open calls) beside the world's reviewers."""
    with engine.begin() as c:
        c.execute(User.__table__.insert(), [{"username": "hebei-admin", "display_name": "河北省厅管理员", "role": Role.admin,
                                             "jurisdiction_code": "130000", "active": True, "password_hash": password_hash}])
    return "hebei-admin"


def decide_counties(world, engine, clock) -> None:
    """The counties decide (长安×2, 桥西×1, 竞秀×1 recommended) and close once the intake has ended."""
    from tasks.review.decisions import decide
    from tasks.review.level_close import close_due_levels

    apps = world.apps
    with engine.begin() as c:
        for name, user in ((A1, "changan"), (A2, "changan"), (Q1, "qiaoxi"), (J1, "jingxiu")):
            decide(c, apps[name], "recommend", user)
        for name, user in ((A3, "changan"), (Q2, "qiaoxi"), (J2, "jingxiu")):
            decide(c, apps[name], "reject", user, reason="研发投入强度不达标")
    clock.advance(timedelta(hours=2))     # past the intake's close: the counties may close early
    with engine.begin() as c:
        close_due_levels(c, clock.now())


@pytest.fixture
def city_stage(quota_programme, world, engine, clock):
    """Counties decided and closed: 石家庄 has 长安×2 and 桥西×1 pending at the municipal level."""
    decide_counties(world, engine, clock)
    return world


def score_city(engine, world, scores: dict[str, str]) -> None:
    from tasks.review.decisions import decide

    with engine.begin() as c:
        for name, score in scores.items():
            decide(c, world.apps[name], "recommend", "sjz", score=Decimal(score))


def categorise(engine, world, categories: dict[str, str]) -> None:
    """分类 as the eligibility engine would have set it (test set-up of a column no rule of Hebei fills)."""
    with engine.begin() as c:
        for name, category in categories.items():
            c.execute(update(Application).where(Application.id == world.apps[name]).values(category=category))


def where(engine, app_id: int) -> tuple[ReviewLevel, ApplicationStatus]:
    with engine.connect() as c:
        row = c.execute(select(Application.level, Application.status).where(Application.id == app_id)).one()
    return ReviewLevel(row.level), ApplicationStatus(row.status)


def city_window(engine) -> LevelWindow:
    with engine.connect() as c:
        row = c.execute(select(LevelWindow).where(LevelWindow.level == ReviewLevel.municipal,
                                                  LevelWindow.jurisdiction_code == SJZ)).one()
    return LevelWindow.model_validate(row._mapping)


def application_count(engine) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(Application)).scalar_one()


CLOSE = f"/stages/calls/{{call}}/close/municipal/{SJZ}"


# --- /stages ---------------------------------------------------------------------------------------

def test_the_stages_page_shows_the_intake_and_each_windows_counts(client, quota_programme, world):
    login(client, "sjz")
    page = client.get("/stages")
    assert page.status_code == 200
    assert world.call_id in page.text and "受理中" in page.text and "导入申报" in page.text
    counties = re.findall(r'<tr class="window[^"]*" data-desk="(\d+)"', page.text)
    assert sorted(counties) == ["130102", "130104"]          # 石家庄's counties, not 保定's
    assert "开启申报批次" not in page.text                    # a city reviewer opens no calls


# --- 开启申报批次 -------------------------------------------------------------------------------------

def test_a_provincial_admin_opens_a_call_from_the_browser(client, quota_programme, world, staff, engine):
    login(client, staff)
    form = client.get("/stages/open-call")
    assert form.status_code == 200 and f'value="{HEBEI}"' in form.text and "national-little-giant" not in form.text
    answer = client.post("/stages/open-call", follow_redirects=True, data={
        "csrf_token": csrf_of(form.text), "programme": HEBEI, "year": "2027", "batch": "", "kind": "recognition",
        "name": "", "opens_at": "2026-03-03T09:00", "closes_at": "2026-04-30T17:30"})
    assert "已开启批次 hebei-provincial-srdi-2027" in answer.text
    with engine.connect() as c:
        call = c.execute(select(Call).where(Call.id == f"{HEBEI}-2027")).one()
    assert call.jurisdiction_code == "130000" and call.status == "open"
    assert f"{HEBEI}-2027" in client.get("/stages").text       # shown before any application arrives


def test_opening_a_call_validates_the_dates_and_the_programme(client, quota_programme, world, staff, engine):
    login(client, staff)
    token = csrf_of(client.get("/stages/open-call").text)
    late = client.post("/stages/open-call", follow_redirects=True, data={
        "csrf_token": token, "programme": HEBEI, "year": "2028", "opens_at": "2026-05-01T09:00", "closes_at": "2026-04-01T09:00"})
    assert "申报截止 2026-04-01 09:00 早于开始时间" in late.text
    foreign = client.post("/stages/open-call", follow_redirects=True, data={
        "csrf_token": token, "programme": "national-little-giant", "year": "2028"})
    assert "不由河北省组织" in foreign.text
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(Call)).scalar_one() == 1


def test_a_reviewer_cannot_open_calls(client, quota_programme, world):
    login(client, "hebei")
    assert client.get("/stages/open-call").status_code == 404


# --- 申报导入 ----------------------------------------------------------------------------------------

def _upload(client, call_id: str, name: str, content: bytes):
    page = client.get(f"/stages/calls/{call_id}/intake")
    return client.post(f"/stages/calls/{call_id}/intake", data={"csrf_token": csrf_of(page.text)},
                       files={"file": (name, content, "application/octet-stream")}, follow_redirects=True)


def test_a_good_workbook_creates_its_applications(client, quota_programme, world, engine, tmp_path):
    sample = write_sample_workbook(tmp_path / "good.xlsx", HEBEI, 2026, ["130102", "130104"], n=6, seed=5)
    before = application_count(engine)
    login(client, "hebei")
    answer = _upload(client, world.call_id, "石家庄申报.xlsx", sample.path.read_bytes())
    assert answer.status_code == 200
    assert "新建申报 <strong>6</strong> 份" in answer.text and "已导入“石家庄申报.xlsx”" in answer.text
    assert application_count(engine) == before + 6


def test_a_bad_workbook_shows_each_problem_and_writes_nothing(client, quota_programme, world, engine, tmp_path):
    sample = write_sample_workbook(tmp_path / "bad.xlsx", HEBEI, 2026, ["130102"], n=8, seed=6, invalid=3)
    before = application_count(engine)
    login(client, "hebei")
    answer = _upload(client, world.call_id, "bad.xlsx", sample.path.read_bytes())
    assert "未写入任何数据" in answer.text and "发现 3 处问题" in answer.text
    shown = re.findall(r'<tr><td class="num">(\d+)</td>', answer.text.split('id="intake-problems"')[1])
    assert sorted(map(int, shown)) == sorted(sample.invalid)
    assert application_count(engine) == before
    link = re.search(r'href="(/stages/calls/[^"]+/intake/errors/[0-9a-f]+)"', answer.text).group(1)
    errors = client.get(link)
    assert errors.status_code == 200 and errors.content[:2] == b"PK"
    (tmp_path / "errors.xlsx").write_bytes(errors.content)
    rejected = load_workbook(tmp_path / "errors.xlsx")["被拒绝的行"]
    assert rejected.max_row == 1 + 3
    login(client, "sjz")                     # another user cannot fetch it
    assert client.get(link).status_code == 404


def test_a_file_that_is_not_an_xlsx_workbook_is_refused(client, quota_programme, world, engine):
    before = application_count(engine)
    login(client, "hebei")
    fake = _upload(client, world.call_id, "申报.xlsx", "统一社会信用代码,企业名称\n".encode())
    assert "的内容不是 .xlsx 工作簿" in fake.text
    csv = _upload(client, world.call_id, "申报.csv", "统一社会信用代码,企业名称\n".encode())
    assert "只能上传 .xlsx 工作簿" in csv.text
    assert application_count(engine) == before


def test_a_file_over_the_size_limit_is_refused_unread(client, quota_programme, world, engine, tmp_path, monkeypatch):
    from srdi.web import stage_intake

    sample = write_sample_workbook(tmp_path / "big.xlsx", HEBEI, 2026, ["130102"], n=3, seed=7)
    monkeypatch.setattr(stage_intake, "MAX_UPLOAD_BYTES", 1024)
    before = application_count(engine)
    login(client, "hebei")
    answer = _upload(client, world.call_id, "big.xlsx", sample.path.read_bytes())
    assert f"文件超过 {stage_intake.MAX_UPLOAD_MB} MB，未导入" in answer.text
    assert application_count(engine) == before


def test_the_empty_template_downloads_with_the_programmes_headers(client, quota_programme, world, tmp_path):
    login(client, "changan")
    answer = client.get(f"/stages/calls/{world.call_id}/intake/template")
    assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
    (tmp_path / "t.xlsx").write_bytes(answer.content)
    headers = [cell.value for cell in load_workbook(tmp_path / "t.xlsx").worksheets[0][1]]
    assert "统一社会信用代码" in headers and "企业名称" in headers


# --- 结束审核与名额预览 -------------------------------------------------------------------------------

def test_the_quota_preview_ranks_and_cuts_without_writing(client, city_stage, engine):
    world = city_stage
    score_city(engine, world, {A1: "88", A2: "92.5", Q1: "75"})
    before = {name: where(engine, world.apps[name]) for name in (A1, A2, Q1)}
    login(client, "sjz")
    page = client.get(CLOSE.format(call=world.call_id))
    assert page.status_code == 200
    rows = page.text.split('id="preview-rows"')[1]
    order = [name for name in re.findall(r"<td>([^<]*有限公司|[^<]*股份有限公司)</td>", rows)]
    assert order == [A2, A1, Q1]                              # by score, high to low
    cut = rows.split(Q1)[1].split("</tr>")[0]
    assert "超出名额" in cut and f"推荐名额（{CITY_QUOTA}名），按评分从高到低" in cut and "排第3名" in cut
    assert "确认结束" in page.text and 'id="close-form"' in page.text
    caps = page.text.split('id="quota-caps"')[1].split("</table>")[0]
    assert re.search(rf'<td class="num">{CITY_QUOTA}</td><td class="num">2</td><td class="num">1</td>', caps)
    assert {name: where(engine, world.apps[name]) for name in (A1, A2, Q1)} == before
    assert city_window(engine).closed_at is None


def test_a_category_sub_cap_cuts_the_second_c_class_candidate(client, city_stage, engine):
    world = city_stage
    categorise(engine, world, {A1: "c", Q1: "c"})
    score_city(engine, world, {A1: "90", Q1: "88", A2: "80"})
    login(client, "sjz")
    page = client.get(CLOSE.format(call=world.call_id))
    cut = page.text.split('id="preview-rows"')[1].split(Q1)[1].split("</tr>")[0]
    assert "超出上年度营业收入不足5000万元的企业（c类）名额（1名）" in cut and "排第2名" in cut
    caps = page.text.split('id="quota-caps"')[1].split("</table>")[0]
    assert re.search(r'（c类）</td><td class="num">1</td><td class="num">1</td><td class="num">1</td>', caps)
    assert where(engine, world.apps[A2]) == (ReviewLevel.municipal, ApplicationStatus.recommended)


def test_confirming_closes_the_window_and_moves_the_applications(client, city_stage, engine):
    world = city_stage
    score_city(engine, world, {A1: "88", A2: "92.5", Q1: "75"})
    login(client, "sjz")
    page = client.get(CLOSE.format(call=world.call_id))
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]+)"', page.text).group(1)
    answer = client.post(CLOSE.format(call=world.call_id), follow_redirects=True,
                         data={"csrf_token": csrf_of(page.text), "fingerprint": fingerprint})
    assert "已结束石家庄市市（州）审核：报送上级 2 件，超出名额 1 件" in answer.text
    assert where(engine, world.apps[A1]) == (ReviewLevel.provincial, ApplicationStatus.pending)
    assert where(engine, world.apps[A2]) == (ReviewLevel.provincial, ApplicationStatus.pending)
    assert where(engine, world.apps[Q1]) == (ReviewLevel.municipal, ApplicationStatus.quota_cut)
    window = city_window(engine)
    assert window.closed_by == "sjz" and window.outcome["quota_cut"] == 1
    assert 'id="close-done"' in answer.text and 'id="close-form"' not in answer.text
    overview = client.get("/stages").text
    row = overview.split(f'data-desk="{SJZ}"')[1].split("</tr>")[0]
    assert "已结束" in row and "报送上级 2，超出名额 1" in row


def test_a_confirmation_of_a_different_plan_than_the_current_one_is_refused(client, city_stage, engine):
    world = city_stage
    score_city(engine, world, {A1: "88", A2: "92.5", Q1: "75"})
    login(client, "sjz")
    page = client.get(CLOSE.format(call=world.call_id))
    shown = re.search(r'name="fingerprint" value="([0-9a-f]+)"', page.text).group(1)
    stale = "0" * len(shown)                  # the plan of an older page (other scores, other candidates)
    answer = client.post(CLOSE.format(call=world.call_id), follow_redirects=True,
                         data={"csrf_token": csrf_of(page.text), "fingerprint": stale})
    assert "预览之后名单已有变化" in answer.text
    assert city_window(engine).closed_at is None
    assert where(engine, world.apps[A1]) == (ReviewLevel.municipal, ApplicationStatus.recommended)


def test_a_county_cannot_preview_or_close_the_citys_window(client, city_stage, engine):
    world = city_stage
    score_city(engine, world, {A1: "88", A2: "92.5", Q1: "75"})
    login(client, "changan")
    assert client.get(CLOSE.format(call=world.call_id)).status_code == 404
    token = csrf_of(client.get("/stages").text)
    answer = client.post(CLOSE.format(call=world.call_id), data={"csrf_token": token, "fingerprint": "0" * 16})
    assert answer.status_code == 404
    assert city_window(engine).closed_at is None
    login(client, "baoding")                 # another city: 404 as well
    assert client.get(CLOSE.format(call=world.call_id)).status_code == 404


def test_a_window_that_cannot_close_yet_says_why_and_offers_no_confirmation(client, city_stage, engine):
    world = city_stage
    score_city(engine, world, {A1: "88"})     # 2 still undecided, before the deadline of 31 May
    login(client, "sjz")
    page = client.get(CLOSE.format(call=world.call_id))
    assert page.status_code == 200
    assert "暂不能结束：尚有 2 件未办结，截止时间 2026-05-31" in page.text
    assert 'id="close-form"' not in page.text and "确认结束" not in page.text
    token = csrf_of(page.text)
    answer = client.post(CLOSE.format(call=world.call_id), follow_redirects=True, data={"csrf_token": token, "fingerprint": "x"})
    assert "暂不能结束" in answer.text and city_window(engine).closed_at is None
