"""`srdi user`: an admin adds a bureau user and sets the password the console then accepts."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from models import User
from models.errors import NotFound, RuleViolation
from srdi.cli.main import app
from tests.web.conftest import login

runner = CliRunner()
NEW_PASSWORD = "Xinhua-2026-review"


def test_add_set_password_and_log_in(engine, client):
    added = runner.invoke(app, ["user", "add", "xinhua", "--name", "新华区审核员", "--jurisdiction", "130105"])
    assert added.exit_code == 0, added.output
    assert login(client, "xinhua", NEW_PASSWORD).status_code == 401          # no password yet
    result = runner.invoke(app, ["user", "set-password", "xinhua", "--password-stdin"], input=NEW_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    with engine.connect() as c:
        stored = c.execute(select(User.password_hash).where(User.username == "xinhua")).scalar_one()
    assert stored.startswith("$argon2id$") and NEW_PASSWORD not in stored
    assert login(client, "xinhua", NEW_PASSWORD).status_code == 303
    assert client.get("/api/v1/me").json()["jurisdiction_name"] == "新华区"
    listed = runner.invoke(app, ["user", "list", "--jurisdiction", "130100", "--json"])
    assert '"username": "xinhua"' in listed.output and '"has_password": true' in listed.output


def test_weak_password_and_unknown_user_are_refused_and_change_nothing(engine):
    runner.invoke(app, ["user", "add", "xinhua", "--name", "新华区审核员", "--jurisdiction", "130105"])
    weak = runner.invoke(app, ["user", "set-password", "xinhua", "--password-stdin"], input="12345678901\n")
    assert isinstance(weak.exception, RuleViolation) and "字母" in str(weak.exception)
    short = runner.invoke(app, ["user", "set-password", "xinhua", "--password-stdin"], input="abc12\n")
    assert isinstance(short.exception, RuleViolation) and "至少 10 位" in str(short.exception)
    with engine.connect() as c:
        assert c.execute(select(User.password_hash).where(User.username == "xinhua")).scalar_one() is None
    missing = runner.invoke(app, ["user", "set-password", "nobody", "--password-stdin"], input=NEW_PASSWORD + "\n")
    assert isinstance(missing.exception, NotFound)
