"""用户管理 and 申报材料 in Debian's Chromium: an administrator adds a clerk, who signs in and files a document."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import User
from models.document import ApplicationDocument
from models.enums import Role
from tests.web.browsing import needs_chromium, sign_in

pytestmark = needs_chromium

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def admin(world, engine, password_hash, tmp_path, monkeypatch):
    monkeypatch.setenv("SRDI_HOME", str(tmp_path / "home"))
    with engine.begin() as c:
        c.execute(User.__table__.insert(), [{"username": "hebei_admin", "display_name": "河北省管理员", "role": Role.admin,
                                             "jurisdiction_code": "130000", "active": True, "password_hash": password_hash}])
    return world


def test_an_admin_adds_a_clerk_who_signs_in_and_uploads_a_document(page, admin, engine, tmp_path):
    app_id = admin.first_in("130102")
    sign_in(page, "hebei_admin")
    page.click("nav >> text=用户管理")
    page.fill("#add-user-form input[name=username]", "changan_clerk")
    page.fill("#add-user-form input[name=display_name]", "长安区经办人")
    page.select_option("#add-user-form select[name=role]", "clerk")
    page.fill("#add-user-form input[name=jurisdiction]", "130102")
    page.click("#add-user-form button[type=submit]")          # password left blank: generated, shown once
    password = page.inner_text("#new-password").strip()
    assert "已新增用户 changan_clerk" in page.inner_text(".flash.ok") and len(password) >= 10
    assert "长安区经办人" in page.inner_text("#users")
    page.click("header .who button[type=submit]")
    page.wait_for_url("**/login")

    sign_in(page, "changan_clerk", password)
    assert "经办人" in page.inner_text("header .who")
    page.goto(f"/applications/{app_id}")
    evidence = tmp_path / "营业执照.pdf"
    evidence.write_bytes(PDF)
    page.set_input_files("#document-upload input[type=file]", str(evidence))
    page.select_option("#document-upload select[name=kind]", "certificate")
    page.click("#document-upload button[type=submit]")
    page.wait_for_selector(".flash.ok")
    assert "已上传材料 营业执照.pdf" in page.inner_text(".flash.ok")
    listed = page.inner_text("#document-list")
    assert "营业执照.pdf" in listed and "资质证书" in listed and "changan_clerk" in listed
    with page.expect_download() as download:
        page.click("#document-list a")
    assert download.value.suggested_filename == "营业执照.pdf"
    assert open(download.value.path(), "rb").read() == PDF
    with engine.connect() as c:
        assert c.execute(select(ApplicationDocument.uploaded_by)).scalar_one() == "changan_clerk"
