"""申报材料: upload, list and download evidence files on the application page (TestClient, no browser)."""

from __future__ import annotations

import io
import zipfile
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from models.document import ApplicationDocument
from tests.web.conftest import csrf_of, login

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """Documents go under this test's own SRDI_HOME."""
    monkeypatch.setenv("SRDI_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def stored_files(home) -> list:
    return [p for p in (home / "documents").rglob("*") if p.is_file()] if (home / "documents").exists() else []


def upload(client, app_id: int, name: str, data: bytes, kind: str = "application_form", content_type: str = "application/pdf"):
    page = client.get(f"/applications/{app_id}")
    return client.post(f"/applications/{app_id}/documents", follow_redirects=True,
                       data={"csrf_token": csrf_of(page.text), "kind": kind, "description": "营业执照副本"},
                       files={"file": (name, data, content_type)})


def test_a_county_uploads_a_pdf_lists_and_downloads_it(client, world, home):
    app_id = world.first_in("130102")
    login(client, "changan")
    page = client.get(f"/applications/{app_id}")
    assert 'id="document-upload"' in page.text and "尚未上传申报材料" in page.text
    answer = upload(client, app_id, "营业执照.pdf", PDF)
    assert "已上传材料 营业执照.pdf" in answer.text and "营业执照副本" in answer.text
    (path,) = stored_files(home)
    assert path.read_bytes() == PDF and path.parent.name == path.name[:2]
    with client.app.state.engine.connect() as c:
        row = c.execute(select(ApplicationDocument)).one()
    assert (row.content_type, row.size_bytes, row.uploaded_by, row.uploaded_at.tzinfo is not None) == \
        ("application/pdf", len(PDF), "changan", True)
    got = client.get(f"/applications/{app_id}/documents/{row.id}")
    assert got.status_code == 200 and got.content == PDF and got.headers["content-type"] == "application/pdf"
    assert f"filename*=UTF-8''{quote('营业执照.pdf')}" in got.headers["content-disposition"]
    assert got.headers["content-disposition"].startswith("attachment;")


def test_the_same_file_is_stored_once(client, world, home):
    first, second = (world.apps[name] for name in ("石家庄长安精密机械有限公司", "石家庄长安新材料科技有限公司"))
    login(client, "changan")
    assert "已上传材料" in upload(client, first, "a.pdf", PDF).text
    assert "此前已上传" in upload(client, first, "again.pdf", PDF).text
    assert "已上传材料" in upload(client, second, "b.pdf", PDF).text
    assert len(stored_files(home)) == 1
    with client.app.state.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(ApplicationDocument)).scalar() == 2


def test_a_renamed_executable_and_a_file_over_the_limit_are_refused(client, world, home, monkeypatch):
    app_id = world.first_in("130102")
    login(client, "changan")
    answer = upload(client, app_id, "证明.pdf", EXE)
    assert "内容与扩展名不符" in answer.text
    assert "不受支持" in upload(client, app_id, "setup.exe", EXE, content_type="application/octet-stream").text
    monkeypatch.setenv("SRDI_DOCUMENT_MAX_MB", "1")
    big = PDF + b"0" * (1024 * 1024)
    assert "超过大小上限 1 MB" in upload(client, app_id, "大文件.pdf", big).text
    assert stored_files(home) == []
    with client.app.state.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(ApplicationDocument)).scalar() == 0


def test_office_and_image_files_are_recognised_by_their_content(client, world, home):
    app_id = world.first_in("130102")
    login(client, "changan")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    xlsx = buffer.getvalue()
    assert "已上传材料" in upload(client, app_id, "财务报表.xlsx", xlsx, kind="financial_statement").text
    assert "内容与扩展名不符" in upload(client, app_id, "财务报表.docx", xlsx).text
    assert "已上传材料" in upload(client, app_id, "专利.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40).text
    with client.app.state.engine.connect() as c:
        types = set(c.execute(select(ApplicationDocument.content_type)).scalars())
    assert types == {"image/png", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def test_another_county_gets_404_for_the_documents(client, world, home):
    app_id = world.first_in("130102")
    login(client, "changan")
    upload(client, app_id, "营业执照.pdf", PDF)
    with client.app.state.engine.connect() as c:
        doc_id = c.execute(select(ApplicationDocument.id)).scalar_one()
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/").text)})
    login(client, "qiaoxi")
    assert client.get(f"/applications/{app_id}/documents/{doc_id}").status_code == 404
    token = csrf_of(client.get("/").text)
    refused = client.post(f"/applications/{app_id}/documents", data={"csrf_token": token, "kind": "other"},
                          files={"file": ("x.pdf", PDF, "application/pdf")})
    assert refused.status_code == 404
    client.post("/logout", data={"csrf_token": token})
    login(client, "sjz")      # the city above 长安区 sees them
    assert client.get(f"/applications/{app_id}/documents/{doc_id}").content == PDF
