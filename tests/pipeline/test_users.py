"""Adding users: a bureau's reviewers and an enterprise's applicant account."""

import pytest
from sqlalchemy import select

from models import User
from models.errors import NotFound, RuleViolation
from tasks.people.users import add_user

from .conftest import make_uscc


def test_a_reviewer_is_added_once_and_an_applicant_must_name_a_registered_enterprise(world, programmes_dir, engine):
    with engine.begin() as c:
        first = add_user(c, "zhang.san", "reviewer", "130102", "张三", email="zhang@example.cn")
        again = add_user(c, "zhang.san", "reviewer", "130102", "张三", email="zhang@example.cn")
    assert first["created"] and not again["created"] and first["id"] == again["id"]
    with engine.begin() as c:
        with pytest.raises(RuleViolation, match="用户 zhang.san 已存在，且信息不同"):
            add_user(c, "zhang.san", "reviewer", "130104", "张三")
        with pytest.raises(RuleViolation, match="须指定所属企业的统一社会信用代码"):
            add_user(c, "qiye", "applicant", "130102", "企业经办人")
        with pytest.raises(NotFound, match="行政区划代码 999999 不存在"):
            add_user(c, "li.si", "reviewer", "999999", "李四")
        with pytest.raises(RuleViolation, match="system 是流程的身份"):
            add_user(c, "robot", "system", "130102", "机器")
    call = world.open("ladder")
    [app_id] = world.apply(call, {"130102": 1})
    uscc = make_uscc(1, "130102")
    with engine.begin() as c:
        added = add_user(c, "qiye", "applicant", "130102", "企业经办人", enterprise_uscc=uscc)
        enterprise_id = c.execute(select(User.enterprise_id).where(User.username == "qiye")).scalar()
    assert added["created"] and enterprise_id == world.app(app_id).enterprise_id
