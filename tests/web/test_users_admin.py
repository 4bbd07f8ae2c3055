"""用户管理 at /admin/users: administrators act only inside their subtree (TestClient, no browser)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import User, UserChange
from models.enums import Role
from tests.web.conftest import PASSWORD, csrf_of, login


@pytest.fixture
def admins(world, engine, password_hash):
    """A county administrator at 长安区 and a provincial one at 河北省."""
    with engine.begin() as c:
        c.execute(User.__table__.insert(), [
            {"username": u, "display_name": name, "role": Role.admin, "jurisdiction_code": code, "active": True,
             "password_hash": password_hash}
            for u, name, code in (("changan_admin", "长安区管理员", "130102"), ("hebei_admin", "河北省管理员", "130000"))])
    return world


def user_row(engine, username: str):
    with engine.connect() as c:
        return c.execute(select(User.role, User.active, User.jurisdiction_code).where(User.username == username)).first()


def changes_of(engine, username: str) -> list[tuple[str, str]]:
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(select(UserChange.kind, UserChange.changed_by)
                                             .where(UserChange.username == username).order_by(UserChange.id))]


def post(client, path: str, **data):
    token = csrf_of(client.get("/admin/users").text)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=True)


def test_a_non_admin_is_refused(client, admins):
    login(client, "changan")
    assert client.get("/admin/users").status_code == 403
    token = csrf_of(client.get("/").text)
    assert client.post("/admin/users/qiaoxi/active", data={"csrf_token": token, "active": "false"}).status_code == 403
    assert user_row(client.app.state.engine, "qiaoxi").active


def test_a_county_admin_lists_adds_and_the_new_user_signs_in(client, admins, engine):
    login(client, "changan_admin")
    page = client.get("/admin/users")
    assert page.status_code == 200 and "changan" in page.text and "user-sjz" not in page.text and "user-qiaoxi" not in page.text
    answer = post(client, "/admin/users", username="changan_clerk", display_name="长安区经办人", role="clerk",
                  jurisdiction="130102", password="Clerk-passw0rd")
    assert "已新增用户 changan_clerk" in answer.text
    assert user_row(engine, "changan_clerk") == (Role.clerk, True, "130102")
    assert changes_of(engine, "changan_clerk") == [("created", "changan_admin"), ("password_set", "changan_admin")]
    client.post("/logout", data={"csrf_token": csrf_of(answer.text)})
    assert login(client, "changan_clerk", "Clerk-passw0rd").status_code == 303


def test_a_county_admin_cannot_reach_beyond_its_county(client, admins, engine):
    login(client, "changan_admin")
    refused = post(client, "/admin/users", username="x_city", display_name="市里的人", role="reviewer",
                   jurisdiction="130100", password="Passw0rd-1234")
    assert "不在您的辖区" in refused.text and user_row(engine, "x_city") is None
    for action, data in (("active", {"active": "false"}), ("password", {"password": "Another-passw0rd"}), ("role", {"role": "admin"})):
        assert post(client, f"/admin/users/sjz/{action}", **data).status_code == 404
    assert user_row(engine, "sjz") == (Role.reviewer, True, "130100") and changes_of(engine, "sjz") == []
    assert "不可授予" in post(client, "/admin/users", username="x_app", display_name="企业", role="applicant",
                              jurisdiction="130102", password="Passw0rd-1234").text
    assert "不可授予" in post(client, "/admin/users/changan/role", role="system").text


def test_an_admin_cannot_disable_or_re_role_themself(client, admins, engine):
    login(client, "changan_admin")
    assert "不能停用自己的账号" in post(client, "/admin/users/changan_admin/active", active="false").text
    assert "不能变更自己的角色" in post(client, "/admin/users/changan_admin/role", role="reviewer").text
    assert user_row(engine, "changan_admin") == (Role.admin, True, "130102")


def test_disable_enable_and_change_role_are_recorded(client, admins, engine):
    login(client, "hebei_admin")
    assert "已停用用户 jingxiu" in post(client, "/admin/users/jingxiu/active", active="false").text
    assert login(client, "jingxiu").status_code == 401
    login(client, "hebei_admin")
    assert "已启用用户 jingxiu" in post(client, "/admin/users/jingxiu/active", active="true").text
    assert "已变更用户 sjz 的角色" in post(client, "/admin/users/sjz/role", role="clerk").text
    assert user_row(engine, "sjz").role == Role.clerk
    assert changes_of(engine, "jingxiu") == [("disabled", "hebei_admin"), ("enabled", "hebei_admin")]
    page = client.get("/admin/users").text
    assert "reviewer → clerk" in page and "停用" in page


def test_reset_with_a_typed_password_and_with_a_generated_one(client, admins, engine):
    login(client, "hebei_admin")
    assert "至少 10 位" in post(client, "/admin/users/qiaoxi/password", password="short1").text
    assert "已重置用户 qiaoxi 的密码" in post(client, "/admin/users/qiaoxi/password", password="Reset-passw0rd").text
    answer = post(client, "/admin/users/baoding/password", password="")
    shown = re.search(r'id="new-password">([^<]+)<', answer.text).group(1)
    assert "仅显示这一次" in answer.text and len(shown) >= 10
    assert shown not in client.get("/admin/users").text and "generated-password" not in client.get("/admin/users").text
    assert login(client, "qiaoxi", PASSWORD).status_code == 401
    assert login(client, "qiaoxi", "Reset-passw0rd").status_code == 303
    assert login(client, "baoding", shown).status_code == 303
    assert changes_of(engine, "baoding") == [("password_set", "hebei_admin")]
