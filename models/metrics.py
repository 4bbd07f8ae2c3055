"""The vocabulary of metrics an eligibility rule may name (指标词表).

Every ``metric`` of a criterion or band, and every ``fact`` of an exclusion, must be one of
these names; a profile naming anything else is refused when it loads. A metric comes from one
of two sources:

- ``financial``: computed from the enterprise's ``EnterpriseFinancialYear`` rows (one value per
  fiscal year). ``column`` names the stored raw column; ``ratio_of`` = (numerator, denominator)
  for a ratio in percentage points (so a 2-year aggregate is Σnumerator / Σdenominator);
  ``growth_of`` names the metric whose year-on-year growth this is.
- ``fact``: a value stored in ``Application.facts`` under the metric's name (counts of patents,
  yes/no qualifications, ranks …), captured from the application form or set by a reviewer.

``yearly`` says whether the metric has one value per fiscal year; only yearly metrics take a
year window (上年, 近两年 …) in a rule, and only non-yearly ones may use window ``none``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

Unit = Literal["万元", "%", "个", "人", "年", "位", "bool", "enum"]
Source = Literal["financial", "fact"]

NUMERIC_UNITS = frozenset({"万元", "%", "个", "人", "年", "位"})


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    unit: Unit
    source: Source
    yearly: bool
    column: Optional[str] = None                      # raw column of EnterpriseFinancialYear
    ratio_of: Optional[tuple[str, str]] = None        # (numerator metric, denominator metric)
    growth_of: Optional[str] = None                   # year-on-year growth of this metric
    choices: tuple[str, ...] = ()                     # allowed values of an enum

    @property
    def numeric(self) -> bool:
        return self.unit in NUMERIC_UNITS

    @property
    def computed(self) -> bool:
        return self.ratio_of is not None or self.growth_of is not None


def _raw(name: str, label: str, unit: Unit = "万元") -> Metric:
    return Metric(name, label, unit, "financial", True, column=name)


def _ratio(name: str, label: str, numerator: str, denominator: str) -> Metric:
    return Metric(name, label, "%", "financial", True, ratio_of=(numerator, denominator))


def _growth(name: str, label: str, of: str) -> Metric:
    return Metric(name, label, "%", "financial", True, growth_of=of)


def _fact(name: str, label: str, unit: Unit, choices: tuple[str, ...] = ()) -> Metric:
    return Metric(name, label, unit, "fact", False, choices=choices)


_FINANCIAL = [
    _raw("revenue_wan", "营业收入"),
    _raw("main_business_revenue_wan", "主营业务收入"),
    _raw("rd_expense_wan", "研发经费总额"),
    _raw("total_profit_wan", "利润总额"),
    _raw("net_profit_wan", "净利润"),
    _raw("total_assets_wan", "资产总额"),
    _raw("total_liabilities_wan", "负债总额"),
    _raw("taxes_paid_wan", "上缴税金"),
    _raw("employees", "从业人数", "人"),
    _raw("rd_staff", "研发人员数", "人"),
    _ratio("main_business_share_pct", "主营业务收入占营业收入比重", "main_business_revenue_wan", "revenue_wan"),
    _ratio("rd_ratio_pct", "研发经费占营业收入比重", "rd_expense_wan", "revenue_wan"),
    _ratio("asset_liability_ratio_pct", "资产负债率", "total_liabilities_wan", "total_assets_wan"),
    _ratio("rd_staff_share_pct", "研发人员占职工总数比重", "rd_staff", "employees"),
    _ratio("rd_to_main_business_pct", "研发经费占主营业务收入比重", "rd_expense_wan", "main_business_revenue_wan"),
    _growth("revenue_growth_pct", "营业收入增长率", "revenue_wan"),
    _growth("main_business_growth_pct", "主营业务收入增长率", "main_business_revenue_wan"),
    _growth("net_profit_growth_pct", "净利润增长率", "net_profit_wan"),
    _growth("total_profit_growth_pct", "利润总额增长率", "total_profit_wan"),
]

_FACTS = [
    # 基本情况
    _fact("years_operating", "连续经营年限", "年"),
    _fact("registered_in_province", "在本省（市）工商注册登记", "bool"),
    _fact("independent_legal_person", "具有独立法人资格", "bool"),
    _fact("is_sme", "符合《中小企业划型标准规定》的中小企业", "bool"),
    _fact("provincial_srdi", "省级认定或重点培育的“专精特新”中小企业", "bool"),
    _fact("in_cultivation_pool", "已入“专精特新”培育库", "bool"),
    _fact("development_plan_2y", "有两年以上发展规划", "bool"),
    _fact("industrial_enterprise", "工业企业（含软件和信息技术服务业企业）", "bool"),
    _fact("priority_industry", "符合本地城市战略定位和产业发展政策", "bool"),
    _fact("pillar_industry", "主导产品属于国家或本地重点鼓励发展的支柱和优势特色产业", "bool"),
    # 产业导向 / 重点领域
    _fact("key_field", "主导产品属于重点领域（四基、十大重点产业、补短板锻长板填空白等）", "bool"),
    _fact("four_base_catalogue", "属于《工业“四基”发展目录》重点领域", "bool"),
    _fact("ten_key_industries", "属于制造强国战略十大重点产业领域", "bool"),
    _fact("shortboard_or_longboard", "主导产品在关键领域“补短板”“锻长板”", "bool"),
    _fact("key_core_tech", "开展关键核心技术攻关", "bool"),
    _fact("fills_gap", "填补国际国内空白", "bool"),
    _fact("collaborates_with_leader", "与重点行业龙头企业协同创新", "bool"),
    _fact("chokepoint_link", "主导产品属于产业链“卡脖子”环节", "bool"),
    _fact("import_substitution", "有效实现进口产品替代", "bool"),
    _fact("key_tech_breakthrough", "创新成果属于重点领域细分行业关键技术并有重大突破", "bool"),
    # 专业化
    _fact("niche_market_years", "从事特定细分市场年限", "年"),
    _fact("niche_market_rank_province", "主导产品细分市场占有率全省排名", "位"),
    _fact("main_product_sales_share_pct", "主导产品销售收入占营业收入比重", "%"),
    _fact("supplies_leading_firms", "为大企业、大项目配套（签订合同）", "bool"),
    _fact("own_brand", "拥有自主品牌", "bool"),
    _fact("trademark_years", "自主品牌或注册商标持有年限", "年"),
    _fact("special_resources", "利用特色资源、传统工艺或独特工艺、配方生产", "bool"),
    # 创新能力
    _fact("invention_patents", "有效发明专利（含集成电路布图设计专有权）", "个"),
    _fact("other_ip_count", "实用新型专利、外观设计专利、软件著作权", "个"),
    _fact("main_business_ip_count", "与主营业务相关的自主知识产权", "个"),
    _fact("ip_or_proprietary_tech", "拥有专利权、软件著作权或近2年经专门机构认定的专有技术", "个"),
    _fact("recent_ip_3y", "3年内获得的发明专利、软件著作权或省级鉴定的专有技术", "个"),
    _fact("rd_institution", "自建或与高校、科研机构联合建立研发机构", "bool"),
    _fact("rd_institution_grade", "研发机构等级（河北省分级）", "enum", ("A", "B", "C", "D")),
    _fact("standards_count", "主持或参与制（修）订国际、国家或行业标准", "个"),
    _fact("standards_count_2y", "近两年主持或参与制（修）订国际、国家、行业或地方标准", "个"),
    _fact("info_system_core_business", "至少1项核心业务采用信息系统支撑", "bool"),
    _fact("cloud_migration", "业务系统云端迁移", "bool"),
    _fact("equity_financing_2y_wan", "近2年新增股权融资额（实缴）", "万元"),
    _fact("latest_valuation_wan", "最近一轮融资估值", "万元"),
    _fact("innovation_new_format", "技术、管理或商业模式创新，发展新业态", "bool"),
    _fact("national_major_project_2y", "近两年承担国家重大科研项目", "bool"),
    # 经营管理
    _fact("quality_cert", "取得相关管理体系认证（如ISO9000、ISO14000）", "bool"),
    _fact("product_standard", "产品生产执行国际、国内、行业标准", "bool"),
    _fact("qualification_cert", "获得技术、质量、工程、环保、安全等资质或资格认定", "bool"),
    _fact("developed_country_cert", "产品通过发达国家和地区产品认证", "bool"),
    _fact("listing_plan", "有上市计划（已递交申请书或已进入辅导期）", "bool"),
    # 称号与名单
    _fact("little_giant_recognised", "已认定的国家级专精特新“小巨人”企业", "bool"),
    _fact("little_giant_batch", "“小巨人”认定批次", "enum", ("1", "2", "3")),
    _fact("on_batch3_notice_list", "列入第三批“小巨人”公示名单", "bool"),
    # 排除事实（exclusions of kind fact_true）
    _fact("false_information", "申请过程中提供虚假信息", "bool"),
    _fact("serious_dishonesty", "有严重失信行为（列入失信惩戒对象名单等）", "bool"),
    _fact("major_accident_year", "最近一次重大安全、质量、环境污染事故发生年份", "年"),
    _fact("accident_year", "最近一次安全、质量、环境污染事故（不限重大）发生年份", "年"),
    _fact("tax_evasion_or_violation", "有偷漏税或其他违法违规行为", "bool"),
    _fact("restricted_industry", "不符合国家和本地产业政策导向（含新增产业禁止和限制目录）", "bool"),
    _fact("bad_credit_record", "有不良会计信用、纳税信用或银行信用记录", "bool"),
    _fact("infringes_employee_rights", "侵犯职工合法权益", "bool"),
]

METRICS: dict[str, Metric] = {m.name: m for m in _FINANCIAL + _FACTS}


class UnknownMetric(KeyError):
    """A rule names a metric that is not in the vocabulary."""

    def __str__(self) -> str:  # KeyError quotes its argument; the message must read plainly
        return str(self.args[0])


def get_metric(name: str) -> Metric:
    try:
        return METRICS[name]
    except KeyError:
        raise UnknownMetric(f"未知指标 {name!r}（可用指标见 models/metrics.py）") from None


def is_known(name: str) -> bool:
    return name in METRICS


def financial_metrics() -> list[Metric]:
    return [m for m in METRICS.values() if m.source == "financial"]


def fact_metrics() -> list[Metric]:
    return [m for m in METRICS.values() if m.source == "fact"]


__all__ = ["METRICS", "Metric", "UnknownMetric", "get_metric", "is_known", "financial_metrics", "fact_metrics"]
