"""The official summary tables, generated from stored data, never typed (汇总表导出).

- Sichuan batch-2 call (seed 004): 附件5 重点"小巨人"企业名单汇总表 (L1282–1347), 附件6 公共服务示范平台
  名单汇总表 (L1349–1382) and 附件7 企业情况汇总表 (L1384–1522), one set per 市（州）;
- 工信厅企业函〔2021〕79号 附件3 推荐汇总表 (seed 003 L1495–1539), per province;
- the list of a 公示 (Notice).

Headers are the seed's. 附件7 keeps its two header rows (group over sub-label) and a title naming the
市（州）, so the import reads it back (tasks/intake/workbook_import.py): exporting and re-importing gives the same
data. srdi has no table of service platforms yet, so 附件6 is written with its headers and notes and
no rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection

from models.application import Application
from models.enterprise import Enterprise, EnterpriseFinancialYear
from models.enums import ApplicationStatus, ReviewLevel
from models.errors import NotFound, RuleViolation
from models.jurisdiction import Jurisdiction
from models.notice import Notice, NoticeEntry, NoticeEntryStatus
from models.recognition import Recognition
from tasks.eligibility.metrics import fmt
from tasks.intake.fields import SIZE_LABELS
from tasks.people.scope import subtree_codes
from tasks.reference.calls import get_call, get_profile
from tasks.reports.safe_cells import append_row
from tasks.reports.sheet_format import batch_words, chinese_number, finish_sheet

NOT_FORWARDED = (ApplicationStatus.rejected, ApplicationStatus.withdrawn, ApplicationStatus.quota_cut,
                 ApplicationStatus.lapsed, ApplicationStatus.removed)
BOLD = Font(bold=True)


@dataclass(frozen=True)
class Form:
    """An official table (附件N) and the document it is an annex of: its 文号, or its seed file when it has none."""

    name: str
    document: str


SICHUAN_CALL = "004_003bf4f7a3377d33.txt"    # the Sichuan batch-2 call (无文号)
ANNEX5_FORM = Form("四川 附件5 重点“小巨人”企业名单汇总表", SICHUAN_CALL)
ANNEX6_FORM = Form("四川 附件6 公共服务示范平台名单汇总表", SICHUAN_CALL)
ANNEX7_FORM = Form("四川 附件7 企业情况汇总表", SICHUAN_CALL)
ANNEX3_FORM = Form("工信厅企业函〔2021〕79号 附件3 推荐汇总表", "工信厅企业函〔2021〕79号")


def form_call(connection: Connection, call_id: str, form: Form):
    """The call, if ``form`` belongs to its programme (the programme encodes the form's document); else refused."""
    call = get_call(connection, call_id)
    profile = get_profile(call.programme_id)
    if not any(form.document in (document.number, document.seed) for document in profile.documents):
        raise RuleViolation(f"{form.name}不适用于批次 {call.id}：该表格属于{_owner(form)}，"
                            f"而该批次的项目是“{profile.name}”（{profile.id}）")
    return call


def _owner(form: Form) -> str:
    """Which document a form belongs to, as a clerk knows it."""
    return "四川省第二批重点“小巨人”申报通知" if form.document == SICHUAN_CALL else form.document


@dataclass
class ExportResult:
    path: Path
    rows: int
    note: str = ""


def _recommended(level: ReviewLevel):
    """Applications a bureau at ``level`` has recommended: decided there, or already above it."""
    order = list(ReviewLevel)
    above = [higher for higher in order if order.index(higher) > order.index(level)]
    return and_(Application.status.not_in(NOT_FORWARDED),
                or_(Application.level.in_(above), and_(Application.level == level, Application.status == ApplicationStatus.recommended)))


def _applications(connection: Connection, call_id: str, under: str, scope: str, level: ReviewLevel) -> list:
    path = connection.execute(select(Jurisdiction.path).where(Jurisdiction.code == under)).scalar()
    if path is None:
        raise NotFound(f"辖区 {under} 不存在")
    places = subtree_codes(path)
    query = (select(Application.id, Application.ref, Application.category, Application.facts, Application.jurisdiction_code,
                    Application.eligible, Enterprise.id.label("enterprise_id"), Enterprise.name, Enterprise.uscc,
                    Enterprise.size, Enterprise.industry_code)
             .join(Enterprise, Enterprise.id == Application.enterprise_id)
             .where(Application.call_id == call_id, Application.jurisdiction_code.in_(places.scalar_subquery()))
             .order_by(Application.ref))
    if scope == "recommended":
        query = query.where(_recommended(level))
    elif scope == "eligible":
        query = query.where(Application.eligible.is_(True), Application.status.not_in(NOT_FORWARDED))
    else:
        query = query.where(Application.status != ApplicationStatus.withdrawn)
    return connection.execute(query).all()


def _names(connection: Connection, codes: set[str]) -> dict[str, tuple[str, str]]:
    """county code → (city name, county name)."""
    rows = {r.code: r for r in connection.execute(select(Jurisdiction.code, Jurisdiction.name, Jurisdiction.parent_code,
                                                          Jurisdiction.level).where(Jurisdiction.code.in_(codes)))}
    parents = {r.parent_code for r in rows.values() if r.parent_code}
    parent_names = dict(connection.execute(select(Jurisdiction.code, Jurisdiction.name).where(Jurisdiction.code.in_(parents))).all())
    out = {}
    for code, row in rows.items():
        out[code] = (row.name, "") if row.level == "prefecture" else (parent_names.get(row.parent_code, ""), row.name)
    return out


def _yes(value: Any) -> str:
    return "" if value is None else ("是" if value else "否")


def _industry(code: str, facts: dict) -> str:
    division = (code or "")[1:3]
    name = facts.get("industry_name") or ""
    return f"{division} {name}".strip()


def _save(book: Workbook, path: Path, header_row: int = 3) -> Path:
    """Fit the columns, freeze the title and header rows (the first ``header_row``), write the file."""
    sheet = book.active
    book.properties.title = sheet["A1"].value
    finish_sheet(sheet, header_row, first_row=header_row)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def _sheet(title: str, subtitle: str):
    book = Workbook()
    sheet = book.active
    sheet.title = "汇总表"
    append_row(sheet, [title])
    sheet["A1"].font = Font(bold=True, size=14)
    append_row(sheet, [subtitle])
    return book, sheet


def _header(sheet, labels: list[str]) -> None:
    append_row(sheet, labels)
    for cell in sheet[sheet.max_row]:
        cell.font = BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def _city(connection: Connection, code: str) -> str:
    name = connection.execute(select(Jurisdiction.name).where(Jurisdiction.code == code)).scalar()
    if name is None:
        raise NotFound(f"辖区 {code} 不存在")
    return name


ANNEX5 = ["序号", "企业名称（须与工业和信息化部公布的名称一致）", "专精特新“小巨人”企业批次", "所属行业(2位码及名称）",
          "该企业属于制造强国、网络强国建设重点领域且主导产品技术含量高的说明（不超过100字）"]


def sichuan_annex5(connection: Connection, call_id: str, city: str, path: Path, scope: str = "recommended") -> ExportResult:
    """附件5 XX市（州）第二批重点"小巨人"企业名单汇总表 (seed 004 L1282–1347)."""
    call = form_call(connection, call_id, ANNEX5_FORM)
    name = _city(connection, city)
    book, sheet = _sheet(f"{name}{batch_words(call.year, call.batch)}重点“小巨人”企业名单汇总表",
                         f"市（州）中小企业主管部门：{name}（盖章）")
    _header(sheet, ANNEX5)
    rows = _applications(connection, call_id, city, scope, ReviewLevel.municipal)
    for number, app in enumerate(rows, start=1):
        facts = app.facts or {}
        append_row(sheet, [number, app.name, facts.get("little_giant_batch"), _industry(app.industry_code, facts),
                            facts.get("key_field_statement")])
    append_row(sheet, [])
    append_row(sheet, ["注：按照《国民经济行业分类（GB/T4754-2017）》的大类行业，补充所推荐的重点“小巨人”企业所属行业（2位码及名称）"])
    return ExportResult(_save(book, path), len(rows))


ANNEX6 = ["序号", "国家（或省级）中小企业公共服务示范平台名称", "提供服务内容", "工业和信息化部（或经济和信息化厅）认定文号", "申报类别"]


def sichuan_annex6(connection: Connection, call_id: str, city: str, path: Path) -> ExportResult:
    """附件6 平台名单汇总表 (seed 004 L1349–1382): headers and notes; srdi does not store platforms yet."""
    call = form_call(connection, call_id, ANNEX6_FORM)
    name = _city(connection, city)
    book, sheet = _sheet(f"{name}{batch_words(call.year, call.batch)}支持“专精特新”中小企业高质量发展公共服务示范平台名单汇总表",
                         f"市（州）中小企业主管部门：{name}（盖章）")
    _header(sheet, ANNEX6)
    append_row(sheet, [])
    append_row(sheet, ["备注：1.示范平台具有独立法人资格，名称须与公布名称一致。"])
    append_row(sheet, ["      2.申报类别为重点支持国家级专精特新“小巨人”企业服务平台或统筹支持“专精特新”中小企业服务平台，"
                        "两种类别不得同时申报。"])
    note = "srdi 尚无服务平台数据表，附件6 只含表头与备注，无数据行"
    return ExportResult(_save(book, path), 0, note)


ANNEX7_BASIC = ["序号", "企业名称", "认定批次", "区（县）", "统一社会信用代码", "企业规模", "企业类型", "行业大类",
                "具体细分领域名称", "主导产品类别", "主导产品名称"]
ANNEX7_GROUPS = [
    ("《工业“四基”发展目录》所列重点领域", [("是否属于", "four_base_catalogue"), ("具体领域", "four_base_field")]),
    ("制造强国十大产业领域", [("是否属于", "ten_key_industries"), ("具体领域", "ten_key_field")]),
    ("关键领域“补短板”", [("是否属于", "shortboard_or_longboard"), ("具体领域或环节", "shortboard_field")]),
    ("国内或国际空白", [("是否填补", "fills_gap"), ("国内/国际", "gap_scope"), ("具体领域", "gap_field")]),
    ("与重点龙头企业协同创新", [("是否填补", "collaborates_with_leader"), ("具体企业及创新项目", "leader_project")]),
]
ANNEX7_YEARLY = ["营业收入", "主营业务收入", "主营业务收入增长率", "主营业务收入占营业收入比重"]


def _annex7_headers(years: list[int]) -> tuple[list, list]:
    top, sub = list(ANNEX7_BASIC), [None] * len(ANNEX7_BASIC)
    for group, items in ANNEX7_GROUPS:
        top += [group] + [None] * (len(items) - 1)
        sub += [label for label, _ in items]
    for label in ANNEX7_YEARLY:
        top += [label] + [None] * (len(years) - 1)
        sub += [str(y) for y in years]
    return top, sub


def _yearly_values(figures: dict[int, Any], years: list[int]) -> list:
    revenue = [figures.get(y, {}).get("revenue_wan") for y in years]
    main = [figures.get(y, {}).get("main_business_revenue_wan") for y in years]
    growth, share = [], []
    for y, value in zip(years, main):
        previous = figures.get(y - 1, {}).get("main_business_revenue_wan")
        growth.append(float(fmt((value - previous) * 100 / previous)) if value is not None and previous else None)
        total = figures.get(y, {}).get("revenue_wan")
        share.append(float(fmt(value * 100 / total)) if value is not None and total else None)
    as_number = [None if v is None else float(v) for v in revenue + main]
    return as_number + growth + share


def sichuan_annex7(connection: Connection, call_id: str, city: str, path: Path, scope: str = "recommended") -> ExportResult:
    """附件7 XX市（州）第二批重点支持国家级专精特新"小巨人"企业情况汇总表 (seed 004 L1384–1522).

    The seed's column list ends at 主营业务收入占营业收入比重 (its text is cut there, programme-core.md §7
    question 11); the years are the call's 上年 and the two before it (2018–2020 for the 2021 call).
    Growth and shares are computed here; the import ignores them.
    """
    call = form_call(connection, call_id, ANNEX7_FORM)
    reference = call.year - 1
    years = [reference - 2, reference - 1, reference]
    name = _city(connection, city)
    book, sheet = _sheet(f"{name}{batch_words(call.year, call.batch)}重点支持国家级专精特新“小巨人”企业情况汇总表",
                         "单位：%、个、项、万元")
    top, sub = _annex7_headers(years)
    _header(sheet, top)
    _header(sheet, sub)
    rows = _applications(connection, call_id, city, scope, ReviewLevel.municipal)
    figures = _financials(connection, [r.enterprise_id for r in rows], years[0] - 1, reference)
    places = _names(connection, {r.jurisdiction_code for r in rows})
    for number, app in enumerate(rows, start=1):
        facts = app.facts or {}
        size = app.size.value if hasattr(app.size, "value") else app.size
        line = [number, app.name, facts.get("little_giant_batch"), places.get(app.jurisdiction_code, ("", ""))[1], app.uscc,
                SIZE_LABELS.get(size, size), facts.get("ownership_type"), _industry(app.industry_code, facts),
                facts.get("niche_field"), facts.get("main_product_category"), facts.get("main_product_name")]
        for _, items in ANNEX7_GROUPS:
            line += [_yes(facts.get(key)) if key in _BOOL_KEYS else facts.get(key) for _, key in items]
        append_row(sheet, line + _yearly_values(figures.get(app.enterprise_id, {}), years))
    append_row(sheet, [])
    for note in ("备注：1.本表数据应与附件1、附件2、附件3中数据一致；", "      2.认定批次是指国家级专精特新“小巨人”企业认定批次；",
                 "      3.所属行业按照《国民经济行业分类（GB/T4754-2017）》，填写2位行业代码及行业名称；"):
        append_row(sheet, [note])
    return ExportResult(_save(book, path, header_row=4), len(rows))


_BOOL_KEYS = {"four_base_catalogue", "ten_key_industries", "shortboard_or_longboard", "fills_gap", "collaborates_with_leader"}


def _financials(connection: Connection, enterprise_ids: list[int], first: int, last: int) -> dict[int, dict[int, dict]]:
    table = EnterpriseFinancialYear.__table__
    out: dict[int, dict[int, dict]] = {}
    for start in range(0, len(enterprise_ids), 500):
        chunk = enterprise_ids[start : start + 500]
        for row in connection.execute(select(table).where(table.c.enterprise_id.in_(chunk), table.c.fiscal_year.between(first, last))):
            out.setdefault(row.enterprise_id, {})[row.fiscal_year] = dict(row._mapping)
    return out


ANNEX3 = ["序号", "企业名称", "主导产品名称（拟对外发布）", "是否省级“专精特新”中小企业（拥有省级“专精特新”产品）",
          "所属分类（填写附件1“六 初核推荐”中“分类指标（3选1）”的字母序号）"]


def recommendation_summary(connection: Connection, call_id: str, province: str, path: Path, scope: str = "recommended") -> ExportResult:
    """工信厅企业函〔2021〕79号 附件3 推荐第N批专精特新"小巨人"企业汇总表 (seed 003 L1495–1539): the batch is the call's."""
    call = form_call(connection, call_id, ANNEX3_FORM)
    name = _city(connection, province)
    batch = f"第{chinese_number(call.batch)}批" if call.batch else ""
    book, sheet = _sheet(f"{call.year}年推荐{batch}专精特新“小巨人”企业汇总表", f"省级中小企业主管部门（盖章）：{name}")
    _header(sheet, ANNEX3)
    rows = _applications(connection, call_id, province, scope, ReviewLevel.provincial)
    held = _active_tiers(connection, [r.enterprise_id for r in rows], "provincial_srdi")
    for number, app in enumerate(rows, start=1):
        facts = app.facts or {}
        provincial = facts.get("provincial_srdi")
        provincial = True if app.enterprise_id in held else provincial
        append_row(sheet, [number, app.name, facts.get("main_product_name"), _yes(provincial), app.category])
    append_row(sheet, [])
    append_row(sheet, ["说明：省级“专精特新”中小企业（产品）包括：各省级中小企业主管部门培育认定的“专精特新”中小企业（产品）、"
                        "省级专精特新“小巨人”企业、“小巨人”企业、高成长中小企业、成长型中小企业、“隐形冠军”（不含制造业单项冠军）等。"])
    return ExportResult(_save(book, path), len(rows))


def _active_tiers(connection: Connection, enterprise_ids: list[int], tier: str) -> set[int]:
    held = set()
    for start in range(0, len(enterprise_ids), 500):
        chunk = enterprise_ids[start : start + 500]
        held.update(connection.execute(select(Recognition.enterprise_id).where(
            Recognition.enterprise_id.in_(chunk), Recognition.tier == tier, Recognition.status == "active")).scalars())
    return held


NOTICE = ["序号", "企业名称", "统一社会信用代码", "所在市（州）", "区（县）", "主导产品名称", "所属分类"]


def notice_list(connection: Connection, notice_id: int, path: Path, include_removed: bool = False) -> ExportResult:
    """The list of one 公示, in the notice's order (entries removed after an upheld objection left out)."""
    notice = connection.execute(select(Notice).where(Notice.id == notice_id)).first()
    if notice is None:
        raise NotFound(f"公示 {notice_id} 不存在")
    query = (select(NoticeEntry.position, NoticeEntry.status, Enterprise.name, Enterprise.uscc, Application.jurisdiction_code,
                    Application.facts, Application.category)
             .join(Application, Application.id == NoticeEntry.application_id)
             .join(Enterprise, Enterprise.id == NoticeEntry.enterprise_id)
             .where(NoticeEntry.notice_id == notice_id).order_by(NoticeEntry.position))
    if not include_removed:
        query = query.where(NoticeEntry.status != NoticeEntryStatus.removed)
    rows = connection.execute(query).all()
    places = _names(connection, {r.jurisdiction_code for r in rows})
    book, sheet = _sheet(notice.title, f"公示期：{notice.opens_at:%Y-%m-%d} 至 {notice.closes_at:%Y-%m-%d}")
    _header(sheet, NOTICE)
    for number, row in enumerate(rows, start=1):
        city, county = places.get(row.jurisdiction_code, ("", ""))
        append_row(sheet, [number, row.name, row.uscc, city, county, (row.facts or {}).get("main_product_name"), row.category])
    return ExportResult(_save(book, path), len(rows))
