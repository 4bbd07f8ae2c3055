"""Place names as clerks write them → jurisdiction codes (所在市（州）, 区（县）).

Built from the jurisdiction table for one scope (the call's province, or the whole country for a
national call) with one query. "石家庄" finds 石家庄市, "正定" finds 正定县; a six-digit code
works too. A county is looked up only inside its 市（州）, because names repeat across cities
(桥西区 is in 石家庄, 邢台 and 张家口).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Optional

from sqlalchemy import select
from sqlalchemy.engine import Connection

from models.enums import JurisdictionLevel
from models.jurisdiction import MINISTRY_CODE, Jurisdiction
from tasks.intake.cells import fold
from tasks.people.scope import below_clause

SUFFIXES = ("自治州", "自治县", "自治旗", "地区", "新区", "林区", "特区", "市", "州", "盟", "县", "区", "旗")


def name_keys(name: str) -> list[str]:
    text = fold(name).replace(" ", "")
    keys = [text]
    for suffix in SUFFIXES:
        if text.endswith(suffix) and len(text) - len(suffix) >= 2:
            keys.append(text[: -len(suffix)])
            break
    return keys


@dataclass
class Places:
    scope_name: str
    names: dict[str, str] = field(default_factory=dict)            # code → name
    parents: dict[str, str] = field(default_factory=dict)          # code → parent code
    cities: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))      # key → codes
    counties: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))  # city → key → code
    county_names: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # key → codes
    prefectures: set[str] = field(default_factory=set)

    def name(self, code: Optional[str]) -> str:
        return self.names.get(code or "", code or "")

    def parent(self, code: str) -> str:
        return self.parents.get(code, "")

    def city(self, text: str) -> Optional[str]:
        text = fold(text)
        if text in self.prefectures:
            return text
        for key in name_keys(text):
            codes = self.cities.get(key, [])
            if len(codes) == 1:
                return codes[0]
        return None

    def cities_named(self, text: str) -> list[str]:
        """Every 市（州） a name may mean (重庆市 is two prefecture-level nodes: 市辖区 and 县)."""
        for key in name_keys(fold(text)):
            if key in self.cities:
                return list(self.cities[key])
        return []

    def has_counties(self, city: str) -> bool:
        return bool(self.counties.get(city))

    def county(self, city: str, text: str) -> Optional[str]:
        text = fold(text)
        children = self.counties.get(city, {})
        if text in children.values():
            return text
        for key in name_keys(text):
            if key in children:
                return children[key]
        return None

    def county_anywhere(self, text: str) -> list[str]:
        for key in name_keys(text):
            if key in self.county_names:
                return self.county_names[key]
        return []

    def city_in_text(self, text: str) -> Optional[str]:
        """The 市（州） a title such as "石家庄市第二批…汇总表" names (None when none or several)."""
        found = {code for key, codes in self.cities.items() if len(key) >= 2 and key in text for code in codes}
        return found.pop() if len(found) == 1 else None


def load_places(connection: Connection, scope_code: str) -> Places:
    """Cities and counties under ``scope_code`` (a province, or 000000 for the whole country)."""
    table = Jurisdiction.__table__
    query = select(table.c.code, table.c.name, table.c.level, table.c.parent_code)
    if scope_code != MINISTRY_CODE:
        scope = connection.execute(select(table.c.path).where(table.c.code == scope_code)).scalar_one()
        query = query.where(below_clause(table.c.path, scope))
    scope_name = connection.execute(select(table.c.name).where(table.c.code == scope_code)).scalar() or scope_code
    places = Places(scope_name=scope_name if scope_code != MINISTRY_CODE else "全国")
    rows = connection.execute(query).all()
    for row in rows:
        places.names[row.code] = row.name
        places.parents[row.code] = row.parent_code or ""
        if row.level == JurisdictionLevel.prefecture:
            places.prefectures.add(row.code)
            for key in name_keys(row.name):
                places.cities[key].append(row.code)
    for row in rows:
        if row.level == JurisdictionLevel.county:
            for key in name_keys(row.name):
                places.counties[row.parent_code].setdefault(key, row.code)
                places.county_names[key].append(row.code)
    return places
