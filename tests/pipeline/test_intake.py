"""Intake (create_applications): where applications land, idempotence, and what is refused."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from models import Application, Deadline, Enterprise, EnterpriseFinancialYear, LevelWindow
from models.enums import ApplicationStatus, ReviewLevel, Role
from models.errors import RuleViolation
from tasks.intake.applications import InvalidRecords, check_records, create_applications
from tasks.reference.routing import Tree

from .conftest import XIONGAN, bj, dump, make_uscc, record

pytestmark = pytest.mark.postgres  # also runs on PostgreSQL when SRDI_TEST_POSTGRES_URL is set


def test_applications_land_at_the_entry_level_of_their_county_with_a_submit_in_the_log(world, programmes_dir, engine, clock):
    call = world.open("ladder")
    ids = world.apply(call, {"130102": 2, "130602": 1})
    rows = {world.app(i).jurisdiction_code: world.app(i) for i in ids}
    assert {(r.level, r.review_jurisdiction_code, r.status) for r in rows.values()} == {
        (ReviewLevel.county, "130102", ApplicationStatus.pending), (ReviewLevel.county, "130602", ApplicationStatus.pending)}
    log = world.log(ids[0])
    assert [(t.action, t.to_level, t.to_status, t.actor, t.role) for t in log] == [
        ("submit", ReviewLevel.county, ApplicationStatus.pending, "system", Role.system)]
    with engine.connect() as c:
        windows = c.execute(select(LevelWindow.jurisdiction_code, LevelWindow.due_at)).all()
        deadlines = c.execute(select(Deadline.key, Deadline.due_at, Deadline.title)).all()
        years = c.execute(select(EnterpriseFinancialYear.revenue_wan)).scalars().all()
    assert sorted(w.jurisdiction_code for w in windows) == ["130102", "130602"]
    assert {w.due_at for w in windows} == {bj(2026, 3, 20, 17, 30)}
    assert sorted(d.key for d in deadlines) == [f"level:{call}:county:130102", f"level:{call}:county:130602"]
    assert "长安区" in next(d.title for d in deadlines if d.key.endswith("130102"))
    assert [str(y) for y in years] == ["5200.0000"] * 3


def test_a_unit_without_a_prefecture_reviews_its_own_applications_at_county_and_city_level(world, programmes_dir, engine):
    """雄安新区 sits directly under 河北省 in the table: it is both the county and the municipal desk."""
    call = world.open("ladder")
    [app_id] = world.apply(call, {XIONGAN: 1})
    assert world.desk(app_id) == XIONGAN
    with engine.connect() as c:
        tree = Tree.load(c)
    assert tree.reviewer_at(XIONGAN, ReviewLevel.municipal) == XIONGAN
    assert tree.reviewer_at(XIONGAN, ReviewLevel.provincial) == "130000"
    assert tree.reviewer_at("419001", ReviewLevel.county) == "419001"   # 济源 (Henan), same shape


def test_the_same_records_twice_create_nothing_new(world, programmes_dir, engine, clock):
    call = world.open("ladder")
    records = [record(n, "130102") for n in range(1, 6)]
    first = world.take_in(call, records)
    before = dump(engine)
    clock.advance(timedelta(hours=1))
    again = world.take_in(call, records)
    assert again == first and dump(engine) == before


def test_changed_figures_update_the_enterprise_and_its_year_without_a_second_application(world, programmes_dir, engine):
    call = world.open("ladder")
    original = record(1, "130102")
    world.take_in(call, [original])
    changed = {**original, "name": "测试企业（更名）有限公司",
               "financials": [{**original["financials"][0], "revenue_wan": "6100.5"}]}
    with engine.begin() as c:
        result = create_applications(c, call, [changed], "system", world.clock.now())
    assert (result.created, result.existing, result.enterprises_updated, result.financial_years_written) == (0, 1, 1, 1)
    with engine.connect() as c:
        assert c.execute(select(Enterprise.name)).scalar() == "测试企业（更名）有限公司"
        assert str(c.execute(select(EnterpriseFinancialYear.revenue_wan)).scalar()) == "6100.5000"
        assert c.execute(select(Application.id)).all().__len__() == 1


def test_bad_records_are_refused_with_row_field_value_and_nothing_is_written(world, programmes_dir, engine):
    call = world.open("ladder")
    good = record(1, "130102")
    valid = make_uscc(2, "130102")
    bad_uscc = {**record(2, "130102"), "uscc": valid[:-1] + ("0" if valid[-1] != "0" else "1")}   # wrong check character
    outside = record(3, "110105")                                  # 北京朝阳 in a Hebei call
    city = record(4, "130100")                                     # a city, not a county
    before = dump(engine)
    with pytest.raises(InvalidRecords) as caught:
        world.take_in(call, [good, bad_uscc, outside, city, {**good, "row": 9}])
    problems = {(p.row, p.field) for p in caught.value.problems}
    assert problems == {(3, "uscc"), (4, "jurisdiction_code"), (5, "jurisdiction_code"), (9, "uscc")}
    text = str(caught.value)
    assert "第3行 统一社会信用代码" in text and "校验位错误" in text and "不在本批次组织辖区 河北省 内" in text
    assert "与第2行重复" in text and "未写入任何数据" in text
    assert dump(engine) == before


def test_an_enterprise_under_a_ban_cannot_apply(world, programmes_dir, engine, clock):
    call = world.open("ladder")
    world.take_in(call, [record(1, "130102")])
    with engine.begin() as c:
        c.execute(update(Enterprise).values(banned_until=date(2028, 5, 1), ban_reason="提供虚假材料"))
    second = world.open("ladder", year=2027)
    with pytest.raises(InvalidRecords, match="禁止申报至 2028-05-01（提供虚假材料）"):
        world.take_in(second, [record(1, "130102")])
    with engine.connect() as c:
        assert check_records(c, second, [record(1, "130102")], "system", clock.now())[0].field == "uscc"


def test_a_bureau_user_takes_in_only_its_own_subtree_and_an_applicant_only_its_enterprise(world, programmes_dir, engine):
    call = world.open("ladder")
    clerk = world.reviewer("130100", Role.clerk)                   # 石家庄市
    world.take_in(call, [record(1, "130102")], actor=clerk)
    with pytest.raises(InvalidRecords, match="不在用户 clerk-130100 的辖区 石家庄市 内"):
        world.take_in(call, [record(2, "130602")], actor=clerk)    # 保定
    [app_id] = world.apply(call, {"130104": 1}, start=3)
    applicant = world.applicant(app_id)
    with pytest.raises(InvalidRecords, match="只能为本企业申报"):
        world.take_in(call, [record(4, "130104")], actor=applicant)


def test_intake_is_refused_after_the_call_closes_and_where_the_level_has_closed(world, programmes_dir, engine, clock):
    call = world.open("ladder", closes_at=clock.now() + timedelta(days=2))
    world.apply(call, {"130102": 1})
    with engine.begin() as c:
        c.execute(update(LevelWindow).values(closed_at=clock.now()))
    with pytest.raises(InvalidRecords, match="长安区区县级审核已于"):
        world.apply(call, {"130102": 1}, start=2)
    clock.advance(timedelta(days=3))
    with pytest.raises(RuleViolation, match="已于 .* 截止申报"):
        world.apply(call, {"130104": 1}, start=3)
