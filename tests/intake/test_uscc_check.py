"""统一社会信用代码: the fast check of a canonical code agrees with python-stdnum, the reference."""

import random

import pytest
from stdnum import exceptions
from stdnum.cn import uscc as stdnum_uscc

from models.enterprise import InvalidUSCC, normalise_uscc

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _reference(text: str) -> str | None:
    try:
        return stdnum_uscc.validate(text)
    except exceptions.ValidationError:
        return None


def _ours(text: str) -> str | None:
    try:
        return normalise_uscc(text)
    except InvalidUSCC:
        return None


def test_the_fast_check_agrees_with_python_stdnum_on_valid_and_broken_codes():
    chance = random.Random(32100)
    codes = []
    for _ in range(3000):
        body = "".join(chance.choice("0123456789") for _ in range(8)) + "".join(chance.choice(ALPHABET) for _ in range(9))
        valid = body + stdnum_uscc.calc_check_digit(body)
        codes += [valid, body + chance.choice(ALPHABET), valid.lower(), valid[:-1], valid + "0", "I" + valid[1:],
                  valid[:3] + "O" + valid[4:], f" {valid[:6]}-{valid[6:]} ", valid[:9] + "Z" + valid[10:]]
    assert sum(_reference(c) is not None for c in codes) > 3000
    assert [_ours(c) for c in codes] == [_reference(c) for c in codes]


@pytest.mark.parametrize("typed, reason", [("91110000600037341M", "校验位错误"), ("9111000060003734", "应为18位"),
                                           ("A1110000600037341L", "含非法字符")])
def test_a_refused_code_keeps_python_stdnum_s_reason(typed, reason):
    with pytest.raises(InvalidUSCC, match=reason):
        normalise_uscc(typed)
