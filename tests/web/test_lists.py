"""申报列表 that scale: numbered pages, sort by any whitelisted column (ties by id), the level deadline column,
filters and sort kept in every link; the same in /api/v1/applications."""

from __future__ import annotations

import re

from tests.web.conftest import ENTERPRISES, login


def names_in(html: str) -> list[str]:
    return re.findall(r'<td><a href="/applications/\d+">[^<]+</a></td><td>([^<]+)</td>', html)


def test_sorting_by_name_both_ways_and_a_bad_column_falls_back_to_id(client, world):
    login(client, "hebei")
    up = names_in(client.get("/applications?sort=name").text)
    down = names_in(client.get("/applications?sort=name&dir=desc").text)
    assert up == sorted(name for _, name in ENTERPRISES) and down == list(reversed(up))
    by_id = names_in(client.get("/applications?sort=drop+table").text)
    assert by_id == [name for name, _ in sorted(world.apps.items(), key=lambda kv: kv[1])]


def test_numbered_pages_keep_filter_and_sort(client, world):
    login(client, "hebei")
    page = client.get("/applications?per_page=2&page=2&sort=name&dir=desc&level=county").text
    assert "共 7 条，第 2 / 4 页" in page
    pager = page.split('class="pager"', 1)[1].split("</nav>", 1)[0]
    for label in ("首页", "上一页", "下一页", "末页", ">1<", ">3<", ">4<"):
        assert label in pager, label
    assert 'aria-current="page">2<' in pager
    assert "page=4" in pager and "sort=name" in pager and "dir=desc" in pager and "level=county" in pager
    assert names_in(page) == sorted((n for _, n in ENTERPRISES), reverse=True)[2:4]
    assert '<input type="hidden" name="sort" value="name">' in page     # the filter form keeps the sort


def test_the_deadline_column_and_sorting_by_it(client, world):
    login(client, "changan")
    page = client.get("/applications?sort=deadline").text
    assert "审核截止" in page and page.count("2026-03-16 23:59") == 3


def test_the_api_sorts_too(client, world):
    login(client, "hebei")
    data = client.get("/api/v1/applications?sort=name&dir=desc&per_page=3").json()
    assert data["total"] == 7 and [i["enterprise_name"] for i in data["items"]] == sorted((n for _, n in ENTERPRISES), reverse=True)[:3]
    assert all(i["deadline_at"].startswith("2026-03-16") for i in data["items"])
