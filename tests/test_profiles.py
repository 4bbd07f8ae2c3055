"""Programme profiles: each shipped file encodes its documents' rules; bad profiles are refused.

Each test names the document whose rule it checks, so a failing test says which policy broke.
"""

from __future__ import annotations

import os
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from models.calendar import StatutoryCalendar
from models.clock import SHANGHAI
from models.enums import ReviewLevel
from models.jurisdiction import Jurisdiction
from models.metrics import METRICS
from models.profile import DeadlineRule, ProfileError, parse_profile
from models.programme import Programme
from models.rules import Bands, Criterion, walk
from models.settings import settings
from tasks.reference.programmes import get_profile, load_all, sync_programmes

SHIPPED = {
    "national-little-giant",
    "key-little-giant-funding",
    "sichuan-key-little-giant-batch2",
    "hebei-provincial-srdi",
    "beijing-provincial-srdi",
    "qinghai-provincial-srdi",
}


def node(profile, node_id):
    rules = profile.eligibility
    roots = [rules.rule] + [b.when for b in rules.bonus] + [r.when for r in rules.relaxations if r.when]
    return next(n for root in roots for n in walk(root) if n.id == node_id)


def shipped_text(programme_id: str) -> str:
    return (settings().programmes_dir / f"{programme_id}.yaml").read_text(encoding="utf-8")


# ---------------------------------------------------------------- every shipped profile


def test_all_shipped_profiles_load_and_cite_their_documents():
    profiles = load_all()
    assert set(profiles) == SHIPPED
    for profile in profiles.values():
        assert all(doc.seed and doc.lines for doc in profile.documents), profile.id
        for step in profile.route:
            rule = step.deadline
            assert rule.cite or (rule.assumed and rule.note), f"{profile.id} {step.level}: deadline without cite or assumption"


def test_every_rule_names_a_metric_of_the_vocabulary():
    for profile in load_all().values():
        for n in walk(profile.eligibility.rule):
            if isinstance(n, (Criterion, Bands)):
                assert n.metric in METRICS, (profile.id, n.id)


# ---------------------------------------------------------------- 79号 national 小巨人


def test_79hao_quota_200_per_province_of_which_10_class_c():
    """工信厅企业函〔2021〕79号 L989–991: ≤200 per province, ≤10 with revenue < 5000万 (class c)."""
    profile = get_profile("national-little-giant")
    assert [s.level for s in profile.route] == [ReviewLevel.provincial, ReviewLevel.ministry]
    quota = profile.step(ReviewLevel.provincial).quota
    assert quota.max == 200 and not quota.soft
    assert [(c.category, c.max) for c in quota.sub_caps] == [("c", 10)]
    assert "79号" in quota.cite and "L989" in quota.sub_caps[0].cite


def test_79hao_three_year_validity_with_re_review_and_three_year_ban():
    """79号 L978–982: 有效期3年, 满3年复核, 未提交复核材料撤销; L1059–1063: 弄虚作假三年内不得申请."""
    profile = get_profile("national-little-giant")
    assert profile.validity.years == 3
    assert profile.validity.re_review.every_years == 3 and profile.validity.re_review.missing_revokes
    assert profile.ban.years == 3 and "L1059" in profile.ban.cite


def test_79hao_classes_a_b_c_by_prior_year_revenue():
    """79号 L916–938: a ≥1亿 & R&D ≥3%; b 5000万–1亿 & ≥6%; c <5000万 & 股权融资≥8000万 & 研发≥3000万 & 研发人员≥50%."""
    profile = get_profile("national-little-giant")
    bands = node(profile, "class")
    assert bands.metric == "revenue_wan" and bands.years == "last"
    spans = {b.id: (b.min, b.max) for b in bands.bands}
    assert spans == {"a": (Decimal(10000), None), "b": (Decimal(5000), Decimal(10000)), "c": (Decimal(0), Decimal(5000))}
    assert node(profile, "a-rd").value == 3 and node(profile, "b-rd").value == 6
    c = {n.metric: n.value for n in node(profile, "c-conditions").items if n.value is not None}
    assert c == {"equity_financing_2y_wan": 8000, "rd_expense_wan": 3000, "rd_staff_share_pct": 50}


def test_79hao_special_conditions_and_exclusions():
    """79号 L890–914 专项条件 and L886–888/L991 不得推荐."""
    profile = get_profile("national-little-giant")
    assert node(profile, "debt-ratio").op == "<=" and node(profile, "debt-ratio").value == 70
    assert node(profile, "main-business-share").value == 70
    assert node(profile, "niche-rank").op == "<=" and node(profile, "niche-rank").value == 3
    assert {n.value for n in node(profile, "ip").items} == {2, 5}
    kinds = {e.id: e for e in profile.eligibility.exclusions}
    assert kinds["major-accident"].years == 3 and kinds["major-accident"].severity == "major"
    assert kinds["single-champion"].kind == "holds_title"


def test_79hao_notice_length_is_marked_as_an_assumption():
    """79号 states no 公示 period; the 5 working days used are MIIT custom, flagged as assumed."""
    notice = get_profile("national-little-giant").notice
    assert notice.assumed and notice.length == 5 and notice.unit == "working_days" and notice.note


def test_79hao_provincial_deadline_is_may_28_of_the_call_year():
    """79号 L1015: 于5月28日前 — an annual month-day, resolved in each call's year."""
    rule = get_profile("national-little-giant").step(ReviewLevel.provincial).deadline
    assert rule.kind == "annual" and rule.month_day == "05-28"
    assert rule.due_at(2026) == datetime(2026, 5, 28, 23, 59, 59, tzinfo=SHANGHAI)


# ---------------------------------------------------------------- 财建〔2021〕2号 key 小巨人 funding


def test_2hao_tranches_and_grade_factors():
    """财建〔2021〕2号 L303–307: 批复当年、实施期满1年、满2年; shares unstated → equal thirds, flagged."""
    funding = get_profile("key-little-giant-funding").funding
    assert [(t.label, t.years_after_approval) for t in funding.tranches] == [("批复当年", 0), ("实施期满1年", 1), ("实施期满2年", 2)]
    assert sum(t.share_pct for t in funding.tranches) == 100 and all(t.assumed for t in funding.tranches)
    assert not funding.tranches[0].requires_review and all(t.requires_review for t in funding.tranches[1:])
    assert funding.grade_factors["不合格"] == 0 and set(funding.grade_factors) == {"优秀", "良好", "合格", "不合格"}
    assert funding.grade_factors_assumed


def test_2hao_allocation_rules():
    """2号 L309–315: ≥90% directly to enterprises, plan within 30 days; L248: ≤3 platforms; 000 L47: ≤200万 (原则上)."""
    funding = get_profile("key-little-giant-funding").funding
    assert funding.min_direct_enterprise_share_pct == 90
    assert funding.max_platforms_per_batch == 3
    assert funding.max_per_institution_wan == 200 and funding.max_per_institution_soft
    assert funding.allocation_plan_days == 30 and funding.allocation_plan_unit == "natural_days"


def test_2hao_listed_boards_excluded_and_growth_waived_in_batch_1():
    """2号 L243–244 (不含已上市); L436 成长性不作为第一批申报条件."""
    profile = get_profile("key-little-giant-funding")
    (listed,) = profile.eligibility.exclusions
    assert set(listed.boards) == {"上交所主板", "科创板", "深交所主板", "中小板", "创业板", "境外公开发行"}
    (relax,) = profile.eligibility.relaxations
    assert relax.call_batches == [1] and relax.waives == ["growth"]
    assert node(profile, "rd-ratio").value == 4 and node(profile, "specialisation").value == 70


# ---------------------------------------------------------------- Sichuan batch 2 (004)


def test_sichuan_route_and_july_12_municipal_deadline():
    """004 L77/L81: 按程序报当地主管部门 (optional county) → 市（州）于7月12日前 → 省."""
    profile = get_profile("sichuan-key-little-giant-batch2")
    assert [s.level for s in profile.route] == [ReviewLevel.county, ReviewLevel.municipal, ReviewLevel.provincial]
    assert profile.route[0].optional and not profile.route[1].optional
    municipal = profile.step(ReviewLevel.municipal)
    assert municipal.co_sign_finance
    due = municipal.deadline.due_at(2021)
    assert due == datetime(2021, 7, 12, 23, 59, 59, tzinfo=SHANGHAI)
    assert municipal.deadline.in_time(datetime(2021, 7, 12, 23, 0, tzinfo=SHANGHAI), due)
    assert not municipal.deadline.in_time(datetime(2021, 7, 13, 0, 0, tzinfo=SHANGHAI), due)


def test_sichuan_e1_to_e7():
    """004 L10–26: E2 主营≥70%; E3 近2年研发≥4% + 三项之一; E5 成长性不作为第二批条件; E7 exclusions."""
    profile = get_profile("sichuan-key-little-giant-batch2")
    assert node(profile, "E2").value == 70 and node(profile, "E3a").value == 4
    assert len(node(profile, "E1").items) == 6 and len(node(profile, "E3b").items) == 3
    assert node(profile, "E5").gating is False
    assert all(n.gating for n in walk(profile.eligibility.rule) if n.id != "E5" and not n.id.startswith("E5-"))
    assert {e.kind for e in profile.eligibility.exclusions} == {"earlier_batch_recipient", "listed_on_board"}


# ---------------------------------------------------------------- Hebei 冀工信中小函〔2021〕116号


def test_hebei_route_notice_and_validity():
    """116号 Art.11: 县→市→省, 公示五个工作日; Art.15: 有效期三年、每三年复核; Art.18: 一个月内更名备案."""
    profile = get_profile("hebei-provincial-srdi")
    assert [s.level for s in profile.route] == [ReviewLevel.county, ReviewLevel.municipal, ReviewLevel.provincial]
    assert (profile.notice.length, profile.notice.unit, profile.notice.publisher) == (5, "working_days", ReviewLevel.provincial)
    assert profile.validity.years == 3 and profile.validity.re_review.every_years == 3
    assert profile.validity.name_change_within_months == 1


def test_hebei_basic_plus_any_one_of_four_special_with_fast_track():
    """116号 Art.6: 基本条件 + 任何一项专项条件; Art.8: 重点领域经营满一年即可申报."""
    profile = get_profile("hebei-provincial-srdi")
    special = node(profile, "special")
    assert special.type == "any_of" and [i.id for i in special.items] == ["specialised", "refined", "distinctive", "novel"]
    assert node(profile, "basic-revenue").years == "each_last_2" and node(profile, "basic-revenue").value == 1000
    (fast,) = profile.eligibility.relaxations
    assert set(fast.waives) == {"basic-pool", "basic-years"} and node(profile, "ft-years").value == 1
    accident = next(e for e in profile.eligibility.exclusions if e.id == "accident")
    assert accident.years == 3 and accident.severity == "any"


# ---------------------------------------------------------------- Beijing 2021 自荐通知


def test_beijing_district_to_city_with_third_party_evaluation(session):
    """Beijing L7285–7292: 市经信局委托第三方评价, 公示5个工作日; districts are county nodes under 110100."""
    profile = get_profile("beijing-provincial-srdi")
    assert [s.level for s in profile.route] == [ReviewLevel.county, ReviewLevel.provincial]
    assert profile.step(ReviewLevel.provincial).third_party_evaluation
    assert (profile.notice.length, profile.notice.unit) == (5, "working_days")
    district = session.get(Jurisdiction, "110105")
    city = session.get(Jurisdiction, district.parent_code)
    assert district.level == ReviewLevel.county.jurisdiction_level
    assert city.code == "110100" and city.parent_code == profile.jurisdiction == "110000"


def test_beijing_business_conditions_one_of_three_and_bonus():
    """Beijing L7214–7220: 营收≥1500万 或 近两年净利润累计≥600万 或 估值≥1亿; L7257–7271 激励条件; L7302–7306 3年/3年."""
    profile = get_profile("beijing-provincial-srdi")
    business = node(profile, "business")
    assert business.type == "any_of"
    assert [(i.metric, i.value, i.years) for i in business.items] == [
        ("revenue_wan", 1500, "last"), ("net_profit_wan", 600, "sum_last_2"), ("latest_valuation_wan", 10000, "none")]
    assert node(profile, "basic-main-business").value == 50 and node(profile, "basic-years").value == 2
    assert not node(profile, "innovation").gating
    assert len(profile.eligibility.bonus) == 4
    assert profile.validity.years == 3 and profile.ban.years == 3


# ---------------------------------------------------------------- Qinghai 认定管理办法 (natural days)


def test_qinghai_notice_counts_natural_days():
    """Qinghai 办法第十条 L29665–29669: 公示5个自然日."""
    profile = get_profile("qinghai-provincial-srdi")
    assert (profile.notice.length, profile.notice.unit) == (5, "natural_days")
    assert profile.ban.years == 3 and profile.validity.re_review.every_years == 3


def test_qinghai_relaxation_waives_at_most_two_quantitative_indicators():
    """Qinghai 办法第五条 L29535: 可适当放宽第1、2条条件，但不超过2项（含）量化指标."""
    (relax,) = get_profile("qinghai-provincial-srdi").eligibility.relaxations
    assert relax.max_waived == 2 and len(relax.waives) == 4


# ---------------------------------------------------------------- deadline arithmetic


def test_after_event_working_days_skip_national_day_and_count_make_up_saturday(tmp_path):
    rule = DeadlineRule(kind="after_event", event="level_opens", days=5, unit="working_days", cite="test")
    opened = datetime(2025, 9, 30, 10, 0, tzinfo=SHANGHAI)
    assert rule.due_at(2025, opened, StatutoryCalendar(tmp_path)).date() == date(2025, 10, 14)


def test_exclusive_cutoff_8am_means_8_00_00_is_late():
    """000 L61: 5月12日（周三）上午8:00前 — exclusive."""
    rule = DeadlineRule(kind="annual", month_day="05-12", cutoff="08:00", exclusive=True, cite="000 L61")
    due = rule.due_at(2021)
    assert rule.in_time(datetime(2021, 5, 12, 7, 59, 59, tzinfo=SHANGHAI), due)
    assert not rule.in_time(datetime(2021, 5, 12, 8, 0, 0, tzinfo=SHANGHAI), due)


def test_natural_days_are_plain_date_arithmetic():
    rule = DeadlineRule(kind="after_event", event="level_opens", days=5, unit="natural_days", cite="test")
    assert rule.due_at(2025, datetime(2025, 9, 30, 9, tzinfo=SHANGHAI)).date() == date(2025, 10, 5)


# ---------------------------------------------------------------- refusals


def mutated(programme_id: str, change) -> str:
    data = yaml.safe_load(shipped_text(programme_id))
    change(data)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        (lambda d: d["eligibility"]["rule"]["items"][0]["items"][0].update(metric="employee_happiness"),
         "eligibility.rule.items.0.items.0.metric", "未知指标 'employee_happiness'"),
        (lambda d: d["notice"].update(length=-5), "notice.length", "-5"),
        (lambda d: d["notice"].update(lenght=5), "notice.lenght", "未知字段"),
        (lambda d: d["route"][0]["deadline"].update(month_day="02-30"), "route.0.deadline.month_day", "MM-DD"),
        (lambda d: d["route"][0]["deadline"].update(month_day="02-29"), "route.0.deadline.month_day", "每一年"),
        (lambda d: d["eligibility"]["rule"]["items"][1]["items"][0]["items"][1].update(years="none"),
         "eligibility.rule.items.1.items.0.items.1.years", "按年度取值"),
        (lambda d: d["route"][0]["quota"]["sub_caps"][0].update(category="d"), "route.0.quota.sub_caps.0.category", "分档"),
        (lambda d: d["eligibility"]["exclusions"][0].update(fact="years_operating"), "eligibility.exclusions.0.fact", "是/否指标"),
        (lambda d: d["route"][1]["deadline"].pop("note"), "route.1.deadline.note", "assumed"),
        (lambda d: d["notice"].update(unit="days"), "notice.unit", "'working_days'"),
    ],
    ids=["unknown-metric", "negative-notice", "unknown-field", "bad-month-day", "feb-29", "yearly-without-window",
         "sub-cap-not-a-band", "exclusion-fact-not-bool", "assumed-without-note", "unknown-unit"],
)
def test_bad_profile_is_refused_naming_file_and_field(change, field, expected):
    with pytest.raises(ProfileError) as err:
        parse_profile(mutated("national-little-giant", change), "programmes/bad.yaml")
    message = str(err.value)
    assert message.startswith("programmes/bad.yaml: 字段 ") and "\n" not in message
    assert field in message and expected in message


def test_tranche_shares_must_add_up_to_100():
    def change(d):
        d["funding"]["tranches"][2]["share_pct"] = 30
    with pytest.raises(ProfileError, match="funding.tranches: 各期 share_pct 合计应为 100"):
        parse_profile(mutated("key-little-giant-funding", change), "bad.yaml")


def test_relaxation_must_waive_existing_rules():
    def change(d):
        d["eligibility"]["relaxations"][0]["waives"] = ["no-such-rule"]
    with pytest.raises(ProfileError, match="no-such-rule"):
        parse_profile(mutated("hebei-provincial-srdi", change), "bad.yaml")


# ---------------------------------------------------------------- loading and syncing


def copy_shipped(target: Path) -> Path:
    target.mkdir()
    for pid in SHIPPED:
        (target / f"{pid}.yaml").write_text(shipped_text(pid), encoding="utf-8")
    return target


def test_edited_profile_is_reloaded_by_hash(tmp_path):
    directory = copy_shipped(tmp_path / "programmes")
    assert get_profile("hebei-provincial-srdi", directory).notice.length == 5
    path = directory / "hebei-provincial-srdi.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("  length: 5\n", "  length: 7\n"), encoding="utf-8")
    assert get_profile("hebei-provincial-srdi", directory).notice.length == 7


def test_profile_id_must_match_file_name(tmp_path):
    directory = tmp_path / "programmes"
    directory.mkdir()
    (directory / "hebei.yaml").write_text(shipped_text("hebei-provincial-srdi"), encoding="utf-8")
    with pytest.raises(ProfileError, match="字段 id"):
        load_all(directory)


def test_sync_programmes_is_idempotent_and_picks_up_changes(engine, clock, tmp_path):
    directory = copy_shipped(tmp_path / "programmes")
    with engine.begin() as connection:
        assert sync_programmes(connection, directory) == len(SHIPPED)
    with engine.begin() as connection:
        assert sync_programmes(connection, directory) == 0
        rows = {r.id: r for r in connection.execute(select(Programme.__table__))}
    assert set(rows) == SHIPPED
    assert rows["national-little-giant"].documents[0]["number"] == "工信厅企业函〔2021〕79号"
    first_loaded = rows["national-little-giant"].loaded_at

    path = directory / "qinghai-provincial-srdi.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n# 注释修改也改变文件哈希\n", encoding="utf-8")
    clock.advance(datetime.resolution * 10**6)
    with engine.begin() as connection:
        assert sync_programmes(connection, directory) == 1
        rows = {r.id: r for r in connection.execute(select(Programme.__table__))}
    assert rows["national-little-giant"].loaded_at == first_loaded
    assert rows["qinghai-provincial-srdi"].loaded_at != first_loaded


def _age(directory: Path, seconds: int = 3600) -> None:
    """Back-date every file (and the directory) as an editor would have left them long ago."""
    old = time.time() - seconds
    for path in [*directory.iterdir(), directory]:
        os.utime(path, (old, old))


def test_unchanged_profiles_are_stat_not_read_and_an_edited_one_alone_is_parsed_again(tmp_path, monkeypatch):
    import tasks.reference.programmes as programmes

    directory = copy_shipped(tmp_path / "programmes")
    _age(directory)
    reads, parses = [], []
    read, parse = programmes._read, programmes.parse_profile
    monkeypatch.setattr(programmes, "_read", lambda path: reads.append(path.name) or read(path))
    monkeypatch.setattr(programmes, "parse_profile", lambda text, source: parses.append(Path(source).name) or parse(text, source))

    assert get_profile("hebei-provincial-srdi", directory).notice.length == 5
    assert len(reads) == len(parses) == len(SHIPPED)
    reads.clear(), parses.clear()
    for _ in range(3):
        get_profile("hebei-provincial-srdi", directory)
    assert reads == [] and parses == []                 # stat only: nothing read, nothing parsed

    path = directory / "hebei-provincial-srdi.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("  length: 5\n", "  length: 7\n"), encoding="utf-8")
    assert get_profile("hebei-provincial-srdi", directory).notice.length == 7
    assert reads == parses == ["hebei-provincial-srdi.yaml"]

    reads.clear(), parses.clear()
    os.utime(directory / "qinghai-provincial-srdi.yaml")     # touched, content unchanged: read and hashed, not parsed
    get_profile("hebei-provincial-srdi", directory)
    assert "qinghai-provincial-srdi.yaml" in reads and "qinghai-provincial-srdi.yaml" not in parses


def test_a_new_profile_file_is_found_without_restarting(tmp_path):
    directory = copy_shipped(tmp_path / "programmes")
    _age(directory)
    assert "extra-hebei" not in load_all(directory)
    (directory / "extra-hebei.yaml").write_text(
        shipped_text("hebei-provincial-srdi").replace("id: hebei-provincial-srdi", "id: extra-hebei"), encoding="utf-8")
    assert "extra-hebei" in load_all(directory)


# ---------------------------------------------------------------- rules that used to be constants


def test_defaults_keep_todays_rules_withdraw_below_provincial_score_to_99999_99_and_the_2021_work_arrangement():
    """A profile that states none of these keeps the behaviour the code had: 报送省级前可撤回, 评分 0–99999.99
    两位小数, 工作安排 2021-05-12 08:00前 (预通知 三, seed 000 L61)."""
    for pid in SHIPPED:
        profile = get_profile(pid)
        assert profile.withdrawal.levels == [ReviewLevel.county, ReviewLevel.municipal], pid
        assert profile.withdrawal.closes_at == ReviewLevel.provincial
        assert (profile.scoring.min, profile.scoring.max, profile.scoring.decimals) == (0, Decimal("99999.99"), 2)
        assert profile.withdrawal.cite and profile.withdrawal.assumed and profile.scoring.note
    rule = get_profile("key-little-giant-funding").funding.work_arrangement_deadline(2021)
    assert rule.due_at(2021) == datetime(2021, 5, 12, 8, 0, tzinfo=SHANGHAI) and rule.exclusive
    assert "000_44edbe0ec2e74b35.txt L61" in rule.cite

    def drop(d):
        d["funding"].pop("work_arrangement_deadlines")
    default = parse_profile(mutated("key-little-giant-funding", drop), "bare.yaml").funding.work_arrangement_deadline(2021)
    assert (default.due_at(2021), default.exclusive) == (rule.due_at(2021), True) and "L61" in default.cite


def test_a_year_without_a_stated_work_arrangement_cutoff_is_refused_not_guessed():
    with pytest.raises(ProfileError, match="funding.work_arrangement_deadlines 未载明 2022 年"):
        get_profile("key-little-giant-funding").funding.work_arrangement_deadline(2022)

    def add_2022(d):
        d["funding"]["work_arrangement_deadlines"][2022] = {
            "kind": "fixed", "at": "2022-05-20T17:00:00+08:00", "cite": "测试：2022年预通知"}
    funding = parse_profile(mutated("key-little-giant-funding", add_2022), "next.yaml").funding
    assert funding.work_arrangement_deadline(2022).due_at(2022) == datetime(2022, 5, 20, 17, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("programme", "change", "field", "expected"),
    [
        ("hebei-provincial-srdi", lambda d: d.update(withdrawal={"levels": ["ministry"], "assumed": False}),
         "withdrawal.levels", "审核路径"),
        ("hebei-provincial-srdi", lambda d: d.update(withdrawal={"levels": ["municipal", "county"], "assumed": False}),
         "withdrawal.levels", "自下而上"),
        ("hebei-provincial-srdi", lambda d: d.update(withdrawal={"levels": ["county"], "note": None}), "withdrawal.note", "assumed"),
        ("hebei-provincial-srdi", lambda d: d.update(scoring={"max": 100000}), "scoring.max", "99999.99"),
        ("hebei-provincial-srdi", lambda d: d.update(scoring={"min": 60, "max": 60}), "scoring.max", "大于下限"),
        ("hebei-provincial-srdi", lambda d: d.update(scoring={"max": "99.5", "decimals": 0}), "scoring.max", "0 位小数"),
        ("hebei-provincial-srdi", lambda d: d.update(scoring={"max": 100, "decimals": 3}), "scoring.decimals", "2"),
        ("key-little-giant-funding", lambda d: d["funding"]["work_arrangement_deadlines"][2021].update(at="2022-05-12T08:00:00+08:00"),
         "funding.work_arrangement_deadlines.2021.at", "应在 2021 年内"),
        ("key-little-giant-funding", lambda d: d["funding"]["work_arrangement_deadlines"][2021].pop("cite"),
         "funding.work_arrangement_deadlines.2021.cite", "预通知"),
        ("key-little-giant-funding", lambda d: d["funding"]["work_arrangement_deadlines"][2021].update(kind="after_event"),
         "funding.work_arrangement_deadlines.2021", "after_event"),
    ],
    ids=["withdraw-level-off-route", "withdraw-levels-order", "withdraw-assumed-no-note", "score-over-column",
         "score-empty-range", "score-decimals", "score-too-precise", "work-arrangement-wrong-year",
         "work-arrangement-no-cite", "work-arrangement-after-event"],
)
def test_bad_rule_fields_are_refused_naming_the_field(programme, change, field, expected):
    with pytest.raises(ProfileError) as err:
        parse_profile(mutated(programme, change), "programmes/bad.yaml")
    message = str(err.value)
    assert message.startswith("programmes/bad.yaml: 字段 ") and "\n" not in message
    assert field in message and expected in message, message
