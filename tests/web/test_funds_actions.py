"""The funds workflow in the console: 实施方案 versions, opinions and 批复, the annual review, each
tranche's dry-run preview and confirmed run, the 分配方案 download — through the same domain functions
as `srdi funds`, only for the level that may act, and 404 for another province."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from models.enums import Role
from models.funding import DisbursementRun, FundingRecipient, FundTranche, Payment
from models.funding_plan import ImplementationPlan, PlanStatus
from models.jurisdiction import User
from models.performance import PerformanceReview
from srdi.demo.funding_seed import create_key_enterprises
from tests.funding.conftest import BEIJING, approve, key_rows, platform
from tests.web.conftest import csrf_of, login

OFFICERS = (("bj-funds", "110000"), ("tj-funds", "120000"), ("miit", "000000"))


@pytest.fixture
def officers(engine, clock, password_hash, tmp_path, monkeypatch):
    """A Beijing and a Tianjin provincial funds officer and a ministry user; allocation plans go to tmp_path."""
    monkeypatch.setenv("SRDI_HOME", str(tmp_path))
    with engine.begin() as c:
        c.execute(User.__table__.insert(), [
            {"username": u, "display_name": u, "role": Role.clerk, "jurisdiction_code": code, "active": True,
             "password_hash": password_hash} for u, code in OFFICERS])


@pytest.fixture
def beijing_plan(engine, officers, clock) -> int:
    """Beijing batch 1 approved on 2021-07-20: ten key enterprises and one 重点支持 platform, nothing paid."""
    from tasks.funding.rules import funding_profile
    from tests.funding.conftest import enterprises

    rows = key_rows(enterprises(engine, 10)) + [platform(BEIJING, 1, "key_support", 200)]
    return approve(engine, funding_profile(), rows)


def as_user(client, username: str) -> None:
    client.cookies.clear()
    assert login(client, username).status_code == 303


def post(client, url: str, page_url: str, data: dict, **kwargs):
    data = {**data, "csrf_token": csrf_of(client.get(page_url).text)}
    return client.post(url, data=data, follow_redirects=True, **kwargs)


def payments(engine) -> list[tuple[str, Decimal]]:
    with engine.connect() as c:
        return sorted((n, Decimal(str(a))) for n, a in c.execute(
            select(FundingRecipient.name, Payment.amount_wan).join(FundingRecipient, FundingRecipient.id == Payment.recipient_id)))


def count(engine, table) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(table)).scalar()


def preview_rows(html: str) -> list[tuple[str, Decimal]]:
    body = html.split('id="preview-payable"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>([^<]+)</td>.*?<td class=\"num\">([\d,.]+)</td></tr>", body, flags=re.S)
    return sorted((name, Decimal(amount.replace(",", ""))) for name, amount in rows)


def test_a_plan_goes_from_submission_through_opinions_to_approval_each_step_by_its_own_level(client, engine, officers, clock):
    with engine.begin() as c:
        ents = create_key_enterprises(c, BEIJING, 4, name_prefix="网页精密", county="110101",
                                      valid_from=date(2025, 1, 1), valid_to=date(2028, 12, 31))
    rows = key_rows(ents) + [platform(BEIJING, 1, "key_support", 150, "北京网页服务平台")]
    text = "item_type,uscc,name,platform_category,amount_wan\n" + "".join(
        f"{r['item_type']},{r['uscc']},{r['name']},{r.get('platform_category') or ''},{r['amount_wan']}\n" for r in rows)
    upload = {"file": ("名单.csv", text.encode("utf-8"), "text/csv")}

    as_user(client, "bj-funds")
    page = post(client, "/funds/versions", "/funds", {"batch": "1", "kind": "submission"}, files=upload)
    assert "已登记报送版（第1版，5 行）" in page.text
    with engine.connect() as c:
        plan_id, status = c.execute(select(ImplementationPlan.id, ImplementationPlan.status)).one()
    assert status == PlanStatus.submitted and "名单.csv" in page.text
    version = page.text.split('id="versions"', 1)[1].split("</table>", 1)[0]
    assert "第1版" in version and '<td class="num">5</td>' in version and '<td class="num">1,810.00</td>' in version
    refused = post(client, f"/funds/plans/{plan_id}/opinions", "/funds", {"stage": "preliminary"})
    assert "由工业和信息化部（会同财政部）办理" in refused.text

    as_user(client, "miit")
    for stage, shown in (("preliminary", "已登记初步合规性审核意见"), ("formal", "已登记正式合规性审核意见")):
        assert shown in post(client, f"/funds/plans/{plan_id}/opinions", f"/funds?plan={plan_id}",
                             {"stage": stage, "doc_ref": f"{stage}意见"}).text
    early = post(client, f"/funds/plans/{plan_id}/approve", f"/funds?plan={plan_id}", {"doc_no": "工信部联企业函〔2026〕1号"})
    assert "只有已报送备案版的方案才能批复" in early.text

    as_user(client, "bj-funds")
    filed = post(client, "/funds/versions", "/funds", {"batch": "1", "kind": "filed"}, files=upload)
    assert "已登记备案版（第2版，5 行）" in filed.text
    assert "批复实施方案由工业和信息化部" in post(client, f"/funds/plans/{plan_id}/approve", "/funds", {"doc_no": "x"}).text

    as_user(client, "miit")
    page = post(client, f"/funds/plans/{plan_id}/approve", f"/funds?plan={plan_id}", {"doc_no": "工信部联企业函〔2026〕1号"})
    assert "已批复：5 个支持对象" in page.text
    tranches = page.text.split('id="tranches"', 1)[1].split("</table>", 1)[0]
    assert tranches.count("<tr><td>第") == 3 and "批复当年" in tranches
    with engine.connect() as c:
        assert c.execute(select(ImplementationPlan.status)).scalar() == PlanStatus.approved
        assert c.execute(select(func.count()).select_from(FundingRecipient)).scalar() == 5

    as_user(client, "tj-funds")
    assert client.post(f"/funds/plans/{plan_id}/opinions", data={"stage": "formal", "csrf_token": csrf_of(client.get("/funds").text)},
                       follow_redirects=False).status_code == 404


def test_a_list_that_fails_a_check_is_refused_whole(client, engine, officers):
    as_user(client, "bj-funds")
    bad = "item_type,uscc,name,platform_category,amount_wan\nkey_enterprise,91110101MA00000000,无此企业,,300\n"
    page = post(client, "/funds/versions", "/funds", {"batch": "1", "kind": "submission"},
                files={"file": ("bad.csv", bad.encode(), "text/csv")})
    assert "未通过检查" in page.text or "不是" in page.text
    assert count(engine, ImplementationPlan.__table__) == 0
    missing = post(client, "/funds/versions", "/funds", {"batch": "1", "kind": "submission"},
                   files={"file": ("x.csv", b"uscc,name\n", "text/csv")})
    assert "缺少列 item_type、amount_wan" in missing.text


def test_the_tranche_list_shows_amounts_due_dates_and_the_review_gate(client, engine, beijing_plan):
    as_user(client, "bj-funds")
    page = client.get(f"/funds?plan={beijing_plan}").text
    tranches = page.split('id="tranches"', 1)[1].split("</table>", 1)[0]
    assert "2021-07-20" in tranches and "无需考核" in tranches
    assert "第1年度考核 0/11；继续支持名单未录入" in tranches
    with engine.connect() as c:
        approved = Decimal(str(c.execute(select(func.sum(FundingRecipient.approved_amount_wan))).scalar()))
    first = approved * Decimal("33.34") / 100
    assert f'<td class="num">{first.quantize(Decimal("0.01")):,.2f}</td>' in tranches


def test_the_dry_run_changes_nothing_and_the_confirmation_pays_exactly_the_preview(client, engine, beijing_plan):
    as_user(client, "bj-funds")
    url = f"/funds/plans/{beijing_plan}/tranches/1"
    page = client.get(url).text
    shown = preview_rows(page)
    assert len(shown) == 11 and count(engine, Payment.__table__) == 0 and count(engine, DisbursementRun.__table__) == 0
    with engine.connect() as c:
        assert c.execute(select(FundTranche.received_at).where(FundTranche.tranche_index == 1)).scalar() is None
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]{64})"', page).group(1)
    done = client.post(f"{url}/run", data={"fingerprint": fingerprint, "doc_no": "财建〔2021〕1号", "csrf_token": csrf_of(page)},
                       follow_redirects=True)
    assert "新增拨付 11 笔" in done.text
    paid = payments(engine)
    assert [(n, a.quantize(Decimal("0.01"))) for n, a in paid] == shown
    total = sum(a for _, a in paid)
    assert f"本笔合计 {total:,.2f} 万元" in done.text
    assert done.text.split('id="payments"', 1)[1].split("</table>", 1)[0].count("<tr><td>") == 11
    assert "没有新的拨付" in done.text and count(engine, DisbursementRun.__table__) == 1


def test_a_confirmation_of_a_stale_preview_is_refused(client, engine, beijing_plan):
    from tasks.funding.disbursement import run_disbursement

    as_user(client, "bj-funds")
    url = f"/funds/plans/{beijing_plan}/tranches/1"
    page = client.get(url).text
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]{64})"', page).group(1)
    run_disbursement(engine, BEIJING, 1, batch=1, actor="cli")            # someone ran it from the command line meanwhile
    before = payments(engine)
    done = client.post(f"{url}/run", data={"fingerprint": fingerprint, "csrf_token": csrf_of(page)}, follow_redirects=True)
    assert "方案已变化，请重新预览" in done.text
    assert payments(engine) == before


def test_another_provinces_officer_gets_404_and_a_city_of_no_plan_sees_nothing(client, engine, beijing_plan):
    as_user(client, "tj-funds")
    token = csrf_of(client.get("/funds").text)
    base = f"/funds/plans/{beijing_plan}"
    for path in (f"{base}/tranches/1", f"{base}/tranches/1/workbook", f"{base}/performance"):
        assert client.get(path).status_code == 404, path
    assert client.post(f"{base}/tranches/1/run", data={"fingerprint": "0" * 64, "csrf_token": token}).status_code == 404
    assert client.post(f"{base}/reviews", data={"year": "1", "csrf_token": token}).status_code == 404
    assert count(engine, Payment.__table__) == 0


def test_the_ministry_sees_the_tranche_but_does_not_run_it(client, engine, beijing_plan):
    as_user(client, "miit")
    page = client.get(f"/funds/plans/{beijing_plan}/tranches/1").text
    assert 'id="confirm-run"' not in page
    done = client.post(f"/funds/plans/{beijing_plan}/tranches/1/run", data={"fingerprint": "0" * 64, "csrf_token": csrf_of(page)},
                       follow_redirects=True)
    assert "拨付资金由该省级主管部门办理" in done.text and count(engine, Payment.__table__) == 0


def test_the_allocation_workbook_downloads_as_a_valid_xlsx_with_exact_amounts(client, engine, beijing_plan):
    as_user(client, "bj-funds")
    url = f"/funds/plans/{beijing_plan}/tranches/1"
    page = client.get(url).text
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]{64})"', page).group(1)
    client.post(f"{url}/run", data={"fingerprint": fingerprint, "csrf_token": csrf_of(page)})
    answer = client.get(f"{url}/workbook")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(answer.content)).active
    amounts = {row[2]: row[9] for row in sheet.iter_rows(min_row=4, values_only=True) if isinstance(row[0], int)}
    assert {n: Decimal(str(a)) for n, a in amounts.items()} == dict(payments(engine))
    assert "下载分配方案" in client.get(url).text


def test_an_annual_review_is_entered_and_shown_per_recipient(client, engine, beijing_plan):
    from tasks.funding.performance import record_actuals, record_targets

    with engine.begin() as c:
        usccs = c.execute(select(FundingRecipient.uscc).where(FundingRecipient.item_type == "key_enterprise")).scalars().all()
        record_targets(c, beijing_plan, [{"uscc": u, "indicator": "rd_ratio_pct", "initial_value": 5, "target_y1": 6, "target_y2": 7}
                                         for u in usccs])
        record_actuals(c, beijing_plan, [{"uscc": u, "indicator": "rd_ratio_pct", "period_end": "2021-12-31",
                                          "value": 6 if i % 2 else 5} for i, u in enumerate(usccs)])
    as_user(client, "bj-funds")
    perf = f"/funds/plans/{beijing_plan}/performance"
    assert "研发经费支出占营业收入比重：5 → 6 → 7%" in client.get(perf).text
    page = post(client, f"{perf.rsplit('/', 1)[0]}/reviews", perf, {"year": "1"})
    assert "第1年度考核：新增 10 条" in page.text and "无目标表 1 个" in page.text
    with engine.connect() as c:
        grades = dict(c.execute(select(FundingRecipient.uscc, PerformanceReview.grade)
                                .join(PerformanceReview, PerformanceReview.recipient_id == FundingRecipient.id)).all())
    assert len(grades) == 10
    table = page.text.split('id="performance"', 1)[1]
    assert "第1年等次" in table and all(g in table for g in grades.values())
    assert "改定绩效考核等次由工业和信息化部" in post(client, f"/funds/plans/{beijing_plan}/grades", perf,
                                                {"uscc": usccs[0], "year": "1", "value": "优秀", "reason": "复核"}).text
    as_user(client, "miit")
    changed = post(client, f"/funds/plans/{beijing_plan}/grades", perf, {"uscc": usccs[0], "year": "1", "value": "优秀", "reason": "复核"})
    assert f"{usccs[0]} 第1年度考核等次改定为“优秀”" in changed.text and "部改定：复核" in changed.text


def test_a_deduction_is_recorded_against_a_payment_and_cannot_exceed_it(client, engine, beijing_plan):
    from models.funding import PaymentAdjustment

    as_user(client, "bj-funds")
    url = f"/funds/plans/{beijing_plan}/tranches/1"
    page = client.get(url).text
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]{64})"', page).group(1)
    client.post(f"{url}/run", data={"fingerprint": fingerprint, "csrf_token": csrf_of(page)})
    with engine.connect() as c:
        payment_id, paid = c.execute(select(Payment.id, Payment.amount_wan).order_by(Payment.id)).first()
    form = {"payment": str(payment_id), "kind": "deduction", "reason": "platform_working_expenses"}
    assert "已登记扣减 10 万元" in post(client, f"{url}/adjustments", url, {**form, "amount": "10"}).text
    too_much = post(client, f"{url}/adjustments", url, {**form, "amount": str(Decimal(str(paid)))})
    assert "超过该笔拨付尚余的" in too_much.text
    assert count(engine, PaymentAdjustment.__table__) == 1
