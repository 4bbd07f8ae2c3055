"""The one mapping from the forms' Chinese column labels to srdi's fields (申报表字段对照).

Sources: the 79号 申请书 (seed 003 L1072–1479: 企业名称, 统一社会信用代码, 企业规模, 所属行业, 从业人数,
研发人员数, 上市情况, per-year 营业收入 … 上缴税金, 研发经费总额), the Sichuan batch-2 forms (seed 004:
附件1 三 相关指标 L189–263, 附件5 L1282–1347, 附件7 L1384–1522) and the Hebei 入库申报表 (seed 003
L10437–10532: 所属区县, 负债总额, 利润总额). Financial figures are per fiscal year: a header such as
"2025年营业收入（万元）" (or "营业收入（万元）2025") names the year; without a year it means 上年.
Ratios and growth rates are computed, never read: their columns are recognised and ignored.
Fact columns (patents, qualifications …) come from the metric vocabulary in models/metrics.py,
so a rule can only name what a form can carry.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, Optional

from models.metrics import METRICS, Metric

Kind = Literal["text", "uscc", "city", "county", "size", "industry", "date", "board", "listing",
               "decimal", "int", "bool", "enum", "list"]
Target = Literal["enterprise", "location", "year", "fact"]

ZERO = Decimal(0)


@dataclass(frozen=True)
class Column:
    key: str                      # field of Enterprise / EnterpriseFinancialYear, or a fact name
    label: str                    # canonical header (for a yearly column, without the year)
    kind: Kind
    target: Target
    unit: Optional[str] = None    # 万元, 人, 个, %, 年 …
    required: bool = False
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    minimum: Optional[Decimal] = None
    help: str = ""

    def header(self, year: Optional[int] = None) -> str:
        return f"{year}年{self.label}" if year is not None else self.label


SIZE_CHOICES = {"中型": "medium", "小型": "small", "微型": "micro", "中": "medium", "小": "small", "微": "micro",
                "中型企业": "medium", "小型企业": "small", "微型企业": "micro"}
SIZE_LABELS = {"medium": "中型", "small": "小型", "micro": "微型"}

# 上市板块: the canonical names are what profiles list in an exclusion's ``boards``.
BOARDS = ("上交所主板", "上交所科创板", "深交所主板", "深交所中小板", "深交所创业板", "北交所", "新三板", "境外")
BOARD_CHOICES = {**{b: b for b in BOARDS}, "科创板": "上交所科创板", "创业板": "深交所创业板", "中小板": "深交所中小板",
                 "上海证券交易所主板": "上交所主板", "深圳证券交易所主板": "深交所主板", "北京证券交易所": "北交所",
                 "全国中小企业股份转让系统": "新三板", "境外上市": "境外", "香港": "境外", "港交所": "境外"}
LISTING_CHOICES = {"无上市计划": "none", "无": "none", "未上市": "none", "否": "none",
                   "有上市计划": "plan", "拟上市": "plan", "已上市": "listed"}
LISTING_LABELS = {"none": "无上市计划", "plan": "有上市计划", "listed": "已上市"}
OWNERSHIP = ("国有", "合资", "民营", "其他")
BATCH_CHOICES = {"1": "1", "2": "2", "3": "3", "第一批": "1", "第二批": "2", "第三批": "3", "一": "1", "二": "2", "三": "3"}

ENTERPRISE_COLUMNS: list[Column] = [
    Column("name", "企业名称", "text", "enterprise", required=True,
           aliases=("企业名称（盖章）", "企业名称（须与工业和信息化部公布的名称一致）", "单位名称"),
           help="须与营业执照一致"),
    Column("uscc", "统一社会信用代码", "uscc", "enterprise", required=True,
           help="18位，末位为 GB 32100-2015 校验位"),
    Column("city", "所在市（州）", "city", "location", required=True,
           aliases=("市（州）", "所在市", "所在地市", "设区市", "所属市"), help="如 石家庄市"),
    Column("county", "区（县）", "county", "location", required=True,
           aliases=("所在区（县）", "所属区县", "区县", "区（市、县）", "县（市、区）", "所属区（县）"),
           help="须在所填市（州）辖区内，如 正定县"),
    Column("size", "企业规模", "size", "enterprise", required=True, choices=("中型", "小型", "微型"),
           aliases=("企业规模（中型/小型/微型）",), help="按工信部联企业〔2011〕300号：中型、小型或微型"),
    Column("industry_code", "所属行业", "industry", "enterprise", required=True,
           aliases=("行业大类", "所属行业（2位码及名称）", "所属行业(大类)", "行业代码"),
           help="《国民经济行业分类》(GB/T 4754-2017) 大类2位码及名称，如“14 食品制造业”"),
    Column("registered_on", "注册时间", "date", "enterprise", aliases=("注册日期", "成立时间", "成立日期"),
           help="如 2015-06-30；连续经营年限据此计算"),
    Column("listing", "上市情况", "listing", "enterprise", choices=tuple(LISTING_LABELS.values()),
           help="无上市计划、有上市计划或已上市"),
    Column("listed_board", "上市板块", "board", "enterprise", choices=BOARDS, aliases=("上市地", "上市板块（已上市填写）"),
           help="已上市的填写：" + "、".join(BOARDS)),
    Column("ownership_type", "企业类型", "enum", "fact", choices=OWNERSHIP, help="国有、合资、民营或其他"),
    Column("niche_field", "具体细分领域名称", "text", "fact", aliases=("具体细分领域",)),
    Column("main_product_name", "主导产品名称", "text", "fact",
           aliases=("主导产品名称（拟对外发布）", "主导产品名称（中文）", "主导产品")),
    Column("main_product_category", "主导产品类别", "text", "fact",
           help="《统计用产品分类目录》第四或第五级名称及8位或10位代码"),
    Column("key_field_statement", "该企业属于制造强国、网络强国建设重点领域且主导产品技术含量高的说明（不超过100字）",
           "text", "fact", aliases=("重点领域说明",)),
    Column("four_base_field", "“四基”具体领域", "text", "fact",
           aliases=("《工业“四基”发展目录》所列重点领域/具体领域",)),
    Column("ten_key_field", "十大产业具体领域", "text", "fact", aliases=("制造强国十大产业领域/具体领域",)),
    Column("shortboard_field", "“补短板”具体领域或环节", "text", "fact",
           aliases=("关键领域“补短板”/具体领域或环节", "关键领域“补短板”/具体领域")),
    Column("gap_scope", "填补空白（国内/国际）", "enum", "fact", choices=("国内", "国际"),
           aliases=("国内或国际空白/国内/国际",)),
    Column("gap_field", "填补空白具体领域", "text", "fact", aliases=("国内或国际空白/具体领域",)),
    Column("leader_project", "协同创新具体企业及创新项目", "text", "fact",
           aliases=("与重点龙头企业协同创新/具体企业及创新项目",)),
    Column("serious_dishonesty", "存在严重失信行为", "bool", "fact", aliases=("是否存在严重失信行为", "严重失信"),
           help="是/否（留空视为否）"),
    Column("major_accident_year", "最近一次重大安全、质量、环境污染事故年份", "int", "fact",
           aliases=("重大事故年份",), minimum=Decimal(1949), help="无则留空"),
    Column("accident_year", "最近一次安全、质量、环境事故年份（含一般事故）", "int", "fact",
           aliases=("事故年份",), minimum=Decimal(1949), help="无则留空"),
    Column("titles", "已获称号", "list", "fact", aliases=("已获荣誉称号",),
           help="多个用“、”分隔，如 制造业单项冠军"),
]

YEARLY_COLUMNS: list[Column] = [
    Column("revenue_wan", "营业收入（万元）", "decimal", "year", "万元", minimum=ZERO),
    Column("main_business_revenue_wan", "主营业务收入（万元）", "decimal", "year", "万元", minimum=ZERO),
    Column("rd_expense_wan", "研发经费总额（万元）", "decimal", "year", "万元", minimum=ZERO,
           aliases=("研发经费支出（万元）", "研发投入（万元）", "当年研发投入（万元）")),
    Column("total_profit_wan", "利润总额（万元）", "decimal", "year", "万元"),
    Column("net_profit_wan", "净利润（万元）", "decimal", "year", "万元", aliases=("净利润总额（万元）",)),
    Column("total_assets_wan", "资产总额（万元）", "decimal", "year", "万元", minimum=ZERO),
    Column("total_liabilities_wan", "负债总额（万元）", "decimal", "year", "万元", minimum=ZERO),
    Column("taxes_paid_wan", "上缴税金（万元）", "decimal", "year", "万元", minimum=ZERO, aliases=("实缴税金（万元）",)),
    Column("employees", "从业人数（人）", "int", "year", "人", minimum=ZERO, aliases=("企业人员总数（人）", "职工总数（人）")),
    Column("rd_staff", "研发人员数（人）", "int", "year", "人", minimum=ZERO, aliases=("其中研发人员数（人）", "研发人员（人）")),
]

# Columns a clerk may find in a sheet that carry no input (序号, our error columns, computed figures).
IGNORED_LABELS = ("序号", "备注", "原行号", "错误原因", "所属分类", "申报编号", "资格审查结果")

_FACT_HEADERS = {
    "invention_patents": ("有效发明专利数量（个）", ("有效发明专利（个）", "有效发明专利", "有效发明专利数")),
    "little_giant_batch": ("认定批次", ("专精特新“小巨人”企业批次", "小巨人认定批次")),
    "provincial_srdi": ("是否省级“专精特新”中小企业", ("是否省级“专精特新”中小企业（拥有省级“专精特新”产品）",)),
    "four_base_catalogue": ("属于《工业“四基”发展目录》所列重点领域", ("《工业“四基”发展目录》所列重点领域/是否属于",)),
    "ten_key_industries": ("属于制造强国十大产业领域", ("制造强国十大产业领域/是否属于",)),
    "shortboard_or_longboard": ("属于关键领域“补短板”", ("关键领域“补短板”/是否属于",)),
    "fills_gap": ("填补国内或国际空白", ("国内或国际空白/是否填补",)),
    "collaborates_with_leader": ("与重点龙头企业协同创新", ("与重点龙头企业协同创新/是否填补", "与重点龙头企业协同创新/是否")),
}
_UNIT_TEXT = {"万元": "万元", "%": "%", "个": "个", "人": "人", "年": "年", "位": "位"}


def _fact_column(metric: Metric) -> Column:
    label, aliases = _FACT_HEADERS.get(metric.name, (None, ()))
    if metric.unit == "bool":
        return Column(metric.name, label or metric.label, "bool", "fact", aliases=aliases, help="是/否")
    if metric.unit == "enum":
        choices = metric.choices
        return Column(metric.name, label or metric.label, "enum", "fact", choices=choices, aliases=aliases,
                      help="、".join(choices))
    unit = _UNIT_TEXT[metric.unit]
    label = label or (metric.label if metric.label.endswith("）") else f"{metric.label}（{unit}）")
    kind = "int" if metric.unit in ("个", "人", "位") else "decimal"
    return Column(metric.name, label, kind, "fact", unit, aliases=aliases, minimum=ZERO)


_DECLARED = {c.key for c in ENTERPRISE_COLUMNS}
FACT_COLUMNS: list[Column] = [_fact_column(m) for m in METRICS.values() if m.source == "fact" and m.name not in _DECLARED]
COMPUTED_METRICS: list[Metric] = [m for m in METRICS.values() if m.computed]

ALL_COLUMNS: list[Column] = ENTERPRISE_COLUMNS + YEARLY_COLUMNS + FACT_COLUMNS
BY_KEY: dict[str, Column] = {c.key: c for c in ALL_COLUMNS}


# ---------------------------------------------------------------- header recognition

_DROP = re.compile(r"[\s*：:“”\"'‘’《》「」【】]")
_TRAILING_PAREN = re.compile(r"\([^()]*\)$")
_YEAR_AT_START = re.compile(r"^((?:19|20)\d{2})年?(?:度)?")
_YEAR_AT_END = re.compile(r"((?:19|20)\d{2})年?(?:度)?$")


def label_key(text: str) -> str:
    """How two spellings of one label compare: NFKC, no spaces, quotes, stars or colons."""
    return _DROP.sub("", unicodedata.normalize("NFKC", text or "")).lower()


def _keys(text: str) -> list[str]:
    """The label's key, then the key with trailing unit brackets removed one by one."""
    key = label_key(text)
    keys = [key]
    while _TRAILING_PAREN.search(key):
        key = _TRAILING_PAREN.sub("", key)
        if key:
            keys.append(key)
    return keys


@dataclass(frozen=True)
class Resolved:
    """What one header cell means: a column (and fiscal year), a computed figure, or nothing."""

    column: Optional[Column] = None
    year: Optional[int] = None
    computed: Optional[str] = None     # label of a computed ratio/growth column (ignored)
    ignored: bool = False


@dataclass
class _Registry:
    columns: dict[str, Column] = field(default_factory=dict)
    computed: dict[str, str] = field(default_factory=dict)
    ignored: set[str] = field(default_factory=set)

    def add(self, text: str, column: Column) -> None:
        for key in _keys(text):
            existing = self.columns.setdefault(key, column)
            if existing is not column and key == label_key(text):
                raise RuntimeError(f"表头 {text!r} 同时对应 {existing.key} 与 {column.key}")


def _build_registry() -> _Registry:
    registry = _Registry()
    for column in ALL_COLUMNS:
        for text in (column.label, column.key, *column.aliases):
            registry.add(text, column)
    for metric in COMPUTED_METRICS:
        for key in _keys(metric.label) + [metric.name]:
            registry.computed.setdefault(key, metric.label)
    for extra in ("研发经费支出占营业收入比重", "利润增长率", "研发人员占全部职工比重", "研发经费占比", "研发人员占比"):
        registry.computed.setdefault(label_key(extra), extra)
    registry.ignored = {label_key(text) for text in IGNORED_LABELS}
    return registry


REGISTRY = _build_registry()


def _lookup(text: str) -> Resolved | None:
    for key in _keys(text):
        if key in REGISTRY.ignored:
            return Resolved(ignored=True)
        if key in REGISTRY.computed:
            return Resolved(computed=REGISTRY.computed[key])
        if key in REGISTRY.columns:
            return Resolved(column=REGISTRY.columns[key])
    return None


def resolve_header(text: str) -> Resolved | None:
    """Recognise one header cell; None when srdi does not know the label."""
    found = _lookup(text)
    if found is not None and not (found.column and found.column.target == "year"):
        return found
    folded = unicodedata.normalize("NFKC", text or "").strip()
    candidates = []
    start = _YEAR_AT_START.match(folded)
    if start:
        candidates.append((int(start[1]), folded[start.end():]))
    base = _TRAILING_PAREN.sub("", folded)
    end = _YEAR_AT_END.search(base)
    if end:
        candidates.append((int(end[1]), base[: end.start()] + folded[len(base):]))
    for year, rest in candidates:
        inner = _lookup(rest.strip("/ "))
        if inner is not None and inner.column is not None and inner.column.target == "year":
            return Resolved(column=inner.column, year=year)
        if inner is not None and inner.computed:
            return inner
    return found
