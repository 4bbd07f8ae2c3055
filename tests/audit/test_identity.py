"""`--as` names an existing, active user; every run is logged with the OS account; user changes are logged."""

import getpass
import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from models.audit_chain import verify
from models.audit_log import OperatorLog, UserChange
from models.transition import Transition
from srdi.cli.main import app
from tasks.people.operators import check_operator

runner = CliRunner()


@pytest.fixture(autouse=True)
def _ladder(programmes_dir):
    return programmes_dir


def srdi(*args, **kw):
    return runner.invoke(app, [str(a) for a in args], **kw)


def counts(engine) -> tuple[int, int]:
    with engine.connect() as c:
        return (c.execute(select(func.count()).select_from(Transition)).scalar(),
                c.execute(select(func.count()).select_from(OperatorLog)).scalar())


def test_an_unknown_disabled_or_system_operator_is_refused_and_nothing_changes(world, engine):
    call = world.open("ladder")
    (first,) = world.apply(call, {"130102": 1})
    reviewer = world.reviewer("130102")
    before = counts(engine)
    unknown = srdi("review", "decide", first, "--decision", "recommend", "--as", "nobody")
    assert unknown.exit_code == 1 and "--as 指定的用户 nobody 不存在" in str(unknown.exception)
    system = srdi("review", "decide", first, "--decision", "recommend", "--as", "system")
    assert system.exit_code == 1 and "system 是流程的身份" in str(system.exception)
    assert srdi("user", "disable", reviewer).exit_code == 0
    disabled = srdi("review", "decide", first, "--decision", "recommend", "--as", reviewer)
    assert disabled.exit_code == 1 and f"--as 指定的用户 {reviewer} 已停用" in str(disabled.exception)
    assert counts(engine) == before
    assert srdi("user", "enable", reviewer).exit_code == 0
    done = srdi("review", "decide", first, "--decision", "recommend", "--as", reviewer, "--json")
    assert done.exit_code == 0, done.output
    with engine.connect() as c:
        log = c.execute(select(OperatorLog).order_by(OperatorLog.id.desc())).first()
    assert (log.as_user, log.os_user) == (reviewer, getpass.getuser()) and log.command.startswith("srdi review decide")


def test_system_is_accepted_only_where_the_command_makes_it_the_default(world, engine):
    with engine.connect() as c:
        assert check_operator(c, None, system_allowed=True) == "system"
        assert check_operator(c, "system", system_allowed=True) == "system"
    result = srdi("recognition", "revoke", "X-1", "--reason", "r", "--as", "system")
    assert result.exit_code == 1 and "system 是流程的身份" in str(result.exception)


def test_user_changes_are_logged_without_the_password_and_chained(engine):
    assert srdi("user", "add", "li.clerk", "--name", "李", "--jurisdiction", "130102", "--role", "clerk").exit_code == 0
    set_password = srdi("user", "set-password", "li.clerk", "--password-stdin", input="Correct-horse-battery-9\n")
    assert set_password.exit_code == 0, set_password.output
    assert srdi("user", "disable", "li.clerk").exit_code == 0
    assert "此前已停用" in srdi("user", "disable", "li.clerk").stdout
    with engine.connect() as c:
        rows = c.execute(select(UserChange).where(UserChange.username == "li.clerk").order_by(UserChange.id)).all()
        reports = {r.table: r for r in verify(c)}
    assert [r.kind for r in rows] == ["created", "password_set", "disabled"]
    assert all(r.changed_by == f"os:{getpass.getuser()}" for r in rows)
    assert "Correct-horse" not in json.dumps([dict(r._mapping) for r in rows], default=str)
    assert reports["user_change"].ok and reports["user_change"].rows == 3


def test_system_is_no_username(engine):
    result = srdi("user", "add", "system", "--name", "x", "--jurisdiction", "130102")
    assert result.exit_code == 1 and "保留身份" in str(result.exception)
