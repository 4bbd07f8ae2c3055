"""A realistic application workbook for the demo, the tests and the benchmark (模拟申报数据).

Enterprises with valid 统一社会信用代码 (GB 32100-2015 check character via python-stdnum), spread over
several 市（州） and 区（县）, with figures and facts that make some pass and some fail the
programme's rules, typed the way clerks type (千分位, full-width digits, "是"/"√", trailing spaces).
``invalid`` rows each break exactly one validation rule; ``SampleWorkbook.invalid`` says which.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional, Sequence

from openpyxl import Workbook
from stdnum.cn import uscc as stdnum_uscc

from models.enums import JurisdictionLevel
from models.metrics import get_metric
from models.profile import Profile
from tasks.intake.fields import BOARDS, OWNERSHIP, Column
from tasks.intake.template import template_columns
from tasks.reference.calls import get_profile
from tasks.reference.jurisdictions import build_tree, read_national_table

RULES = ("bad_check_char", "main_over_revenue", "negative_assets", "county_outside_city", "duplicate_in_file",
         "already_in_call", "unreadable_number", "missing_name", "bad_size", "unknown_city", "rd_staff_over_employees")
BRANDS = "恒达 宏泰 华信 金诺 博远 中科 瑞丰 鼎盛 天元 正泰 凯锐 晶澳 新润 信德 汇川 长城 海纳 泰和 旭辉 冀中 燕赵 太行 渤海 清源".split()
FIELDS = [("C34", "通用设备制造业", "精密机械"), ("C35", "专用设备制造业", "智能装备"), ("C38", "电气机械和器材制造业", "电气"),
          ("C39", "计算机、通信和其他电子设备制造业", "电子科技"), ("C26", "化学原料和化学制品制造业", "新材料"),
          ("C27", "医药制造业", "生物医药"), ("C29", "橡胶和塑料制品业", "高分子"), ("C33", "金属制品业", "金属科技"),
          ("C36", "汽车制造业", "汽车零部件"), ("C40", "仪器仪表制造业", "仪器仪表"), ("I65", "软件和信息技术服务业", "软件"),
          ("C14", "食品制造业", "食品")]
PRODUCTS = ("高精度减速器 伺服电机 工业传感器 特种轴承 光伏逆变器 医用导管 "
            "液压阀组 工业软件平台 石墨烯涂层 智能电表 防爆电机 食品添加剂").split()
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass
class SampleWorkbook:
    path: Path
    rows: int
    invalid: dict[int, str] = field(default_factory=dict)    # Excel row → rule it breaks
    usccs: list[str] = field(default_factory=list)


def make_uscc(rng: random.Random, region: str) -> str:
    body = "91" + region + "".join(rng.choice("0123456789") for _ in range(8)) + rng.choice(ALPHABET)
    return body + stdnum_uscc.calc_check_digit(body)


def default_places(province: str, cities: int = 4, per_city: int = 3) -> list[str]:
    """Counties spread over several 市（州） of ``province`` (Hebei for a national programme)."""
    province = "130000" if province == "000000" else province
    tree = build_tree(read_national_table())
    chosen: list[str] = []
    prefectures = [d for d in tree if d.parent_code == province and d.level == JurisdictionLevel.prefecture]
    for prefecture in prefectures:
        counties = [d.code for d in tree if d.parent_code == prefecture.code and d.level == JurisdictionLevel.county]
        if len(counties) >= per_city:
            chosen += counties[:per_city]
            if len(chosen) >= cities * per_city:
                break
    return chosen


class _Maker:
    def __init__(self, profile: Profile, call_year: int, counties: Sequence[str], rng: random.Random):
        self.profile, self.call_year, self.rng = profile, call_year, rng
        tree = {d.code: d for d in build_tree(read_national_table())}
        self.places = [(tree[tree[c].parent_code].name, tree[c].name, c) for c in counties]
        self.tree = tree
        self.excluding = {e.fact for e in (profile.eligibility.exclusions if profile.eligibility else []) if e.fact}
        self.seen: set[str] = set()

    def row(self, columns: list[tuple[Column, Optional[int]]]) -> dict[tuple[str, Optional[int]], Any]:
        rng = self.rng
        city, county, code = rng.choice(self.places)
        industry, industry_name, word = rng.choice(FIELDS)
        uscc = make_uscc(rng, code)
        while uscc in self.seen:
            uscc = make_uscc(rng, code)
        self.seen.add(uscc)
        name = f"{city[:-1] if len(city) > 2 else city}{rng.choice(BRANDS)}{word}{rng.choice(['有限公司', '股份有限公司', '科技有限公司'])}"
        values: dict[tuple[str, Optional[int]], Any] = {
            ("_place", None): (city, county, code),
            ("name", None): name + (" " if rng.random() < 0.05 else ""), ("uscc", None): uscc,
            ("city", None): city if rng.random() < 0.9 else city.removesuffix("市"), ("county", None): county,
            ("size", None): rng.choice(["中型", "小型", "小型", "微型"]),
            ("industry_code", None): f"{industry} {industry_name}" if rng.random() < 0.7 else f"{industry[1:]}{industry_name}",
            ("registered_on", None): date(rng.randint(2004, self.call_year - 2), rng.randint(1, 12), rng.randint(1, 28)),
            ("ownership_type", None): rng.choice(OWNERSHIP[1:] + ("民营", "民营")),
            ("main_product_name", None): rng.choice(PRODUCTS), ("niche_field", None): word,
            ("main_product_category", None): f"{rng.randint(10000000, 99999999)}",
        }
        listing = rng.random()
        values[("listing", None)] = "无上市计划" if listing < 0.85 else ("有上市计划" if listing < 0.97 else "已上市")
        if values[("listing", None)] == "已上市":
            values[("listed_board", None)] = rng.choice(BOARDS)
        self._figures(values, columns)
        for column, _year in columns:
            if column.target == "fact" and (column.key, None) not in values:
                values[(column.key, None)] = self._fact(column)
        return values

    def _figures(self, values: dict, columns: list) -> None:
        rng = self.rng
        years = sorted({year for _, year in columns if year is not None})
        low, high = (4000, 80000) if self.profile.tier in ("little_giant", "key_little_giant") else (600, 40000)
        revenue = Decimal(str(round(math.exp(rng.uniform(math.log(low), math.log(high))), 2)))
        share, rd = Decimal(str(rng.uniform(0.6, 1.0))), Decimal(str(rng.uniform(0.015, 0.09)))
        margin, debt = Decimal(str(rng.uniform(-0.02, 0.12))), Decimal(str(rng.uniform(0.3, 0.8)))
        for year in reversed(years):
            assets = revenue * Decimal(str(rng.uniform(0.8, 2.0)))
            employees = max(20, int(revenue / Decimal(str(rng.uniform(50, 150)))))
            figures = {"revenue_wan": revenue, "main_business_revenue_wan": revenue * share, "rd_expense_wan": revenue * rd,
                       "net_profit_wan": revenue * margin, "total_profit_wan": revenue * margin / Decimal("0.85"),
                       "total_assets_wan": assets, "total_liabilities_wan": assets * debt,
                       "taxes_paid_wan": revenue * Decimal(str(rng.uniform(0.02, 0.06))),
                       "employees": employees, "rd_staff": int(employees * rng.uniform(0.08, 0.45))}
            for key, value in figures.items():
                values[(key, year)] = value if isinstance(value, int) else value.quantize(Decimal("0.01"))
            revenue = (revenue / Decimal(str(1 + rng.uniform(-0.08, 0.25)))).quantize(Decimal("0.01"))

    def typed(self, value: Any) -> Any:
        """A figure as a clerk types it: mostly a number, sometimes 千分位 or full-width digits."""
        if not isinstance(value, Decimal):
            return value
        roll = self.rng.random()
        if roll < 0.08:
            return f"{value:,}"                                           # 千分位
        if roll < 0.12:
            return str(value).translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))
        return float(value)

    def _fact(self, column: Column) -> Any:
        rng = self.rng
        if column.key in self.excluding or column.key == "serious_dishonesty":
            return "是" if rng.random() < 0.03 else "否"
        if column.key == "major_accident_year" or column.key == "accident_year":
            return rng.randint(self.call_year - 6, self.call_year - 1) if rng.random() < 0.05 else None
        if column.key == "titles":
            return "制造业单项冠军" if rng.random() < 0.02 else None
        if column.kind == "bool":
            return rng.choice(["是", "是", "√"]) if rng.random() < 0.92 else "否"
        if column.kind == "enum":
            return rng.choice(column.choices)
        if column.kind == "text":
            return rng.choice(PRODUCTS)
        unit = get_metric(column.key).unit if column.key in _metric_names() else column.unit
        if unit == "%":
            return f"{rng.uniform(40, 95):.1f}%"
        if unit == "万元":
            return round(rng.uniform(0, 12000), 1)
        if unit == "位":
            return rng.choice([1, 2, 2, 3, 3, 4, 6])
        if unit == "年":
            return rng.randint(2, 15)
        return rng.choice([0, 1, 2, 2, 3, 5, 6, 8])


def _metric_names() -> set[str]:
    from models.metrics import METRICS

    return set(METRICS)


def _break(values: dict, rule: str, maker: _Maker, reference: int, in_call: Sequence[str], rng: random.Random) -> None:
    if rule == "bad_check_char":
        uscc = values[("uscc", None)]
        values[("uscc", None)] = uscc[:-1] + next(c for c in ALPHABET if c != uscc[-1])
    elif rule == "main_over_revenue":
        values[("main_business_revenue_wan", reference)] = values[("revenue_wan", reference)] * Decimal("1.1")
    elif rule == "negative_assets":
        values[("total_assets_wan", reference)] = Decimal("-1500")
    elif rule == "county_outside_city":
        city, _, code = values[("_place", None)]
        parent = maker.tree[code].parent_code
        here = {d.name for d in maker.tree.values() if d.parent_code == parent}
        others = [p for p in maker.places if p[0] != city and p[1] not in here]
        values[("county", None)] = rng.choice(others)[1]
    elif rule == "already_in_call":
        values[("uscc", None)] = in_call[rng.randrange(len(in_call))]
    elif rule == "unreadable_number":
        values[("revenue_wan", reference)] = "12,3a5"
    elif rule == "missing_name":
        values[("name", None)] = None
    elif rule == "bad_size":
        values[("size", None)] = "大型"
    elif rule == "unknown_city":
        values[("city", None)] = "火星市"
    elif rule == "rd_staff_over_employees":
        values[("rd_staff", reference)] = 5000
        values[("employees", reference)] = 100


def write_sample_workbook(path: Path, programme_id: str, call_year: int, jurisdictions: Optional[Sequence[str]] = None,
                          n: int = 300, seed: int = 0, *, invalid: int = 0, in_call_usccs: Sequence[str] = (),
                          profile: Optional[Profile] = None) -> SampleWorkbook:
    """Write ``n`` enterprises (header in row 1) for a call of ``programme_id`` in ``call_year``."""
    if not 0 <= invalid <= n:
        raise ValueError(f"invalid={invalid}: a workbook of {n} rows can break at most {n} of them")
    profile = profile or get_profile(programme_id)
    rng = random.Random(seed)
    counties = list(jurisdictions or default_places(profile.jurisdiction))
    maker = _Maker(profile, call_year, counties, rng)
    columns = template_columns(profile, call_year)
    reference = max(year for _, year in columns if year is not None)
    rows = [maker.row(columns) for _ in range(n)]
    rules = [r for r in RULES if r != "already_in_call" or in_call_usccs]
    broken = sorted(rng.sample(range(n), invalid)) if invalid else []
    kinds = {index: rules[i % len(rules)] for i, index in enumerate(broken)}
    pairs = [i for i in broken if kinds[i] == "duplicate_in_file"]
    if len(pairs) % 2:
        kinds[pairs.pop()] = "bad_check_char"
    for first, second in zip(pairs[::2], pairs[1::2]):
        rows[second][("uscc", None)] = rows[first][("uscc", None)]
    for index, rule in kinds.items():
        if rule != "duplicate_in_file":
            _break(rows[index], rule, maker, reference, in_call_usccs, rng)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("申报企业")
    sheet.append([column.header(year) for column, year in columns])
    for values in rows:
        sheet.append([maker.typed(values.get((column.key, year))) for column, year in columns])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return SampleWorkbook(path, n, {index + 2: rule for index, rule in kinds.items()},
                          [values[("uscc", None)] for values in rows])
