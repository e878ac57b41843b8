"""Signed codes: genuine ones parse, anything else is code_invalid before the database is asked."""

from __future__ import annotations

import pytest

from mall.errors import CodeInvalid
from mall.people import codes

SECRET = "test-secret-key"


def test_pay_code_is_twenty_digits_and_parses_back_to_its_ident() -> None:
    code, ident = codes.new_pay_code(SECRET)
    assert code.isdigit() and len(code) == 20 and code[0] == codes.VERSION
    assert codes.parse(SECRET, code) == codes.Parsed(codes.PAY, ident)
    assert codes.parse(SECRET, codes.pay_code_groups(code)) == codes.Parsed(codes.PAY, ident)


@pytest.mark.parametrize("kind", [codes.ACTIVATION, codes.CARD])
def test_text_codes_parse_to_their_kind(kind: str) -> None:
    code, ident = codes.new_text_code(SECRET, kind)
    assert codes.parse(SECRET, code) == codes.Parsed(kind, ident)
    assert codes.parse(SECRET, code.lower()) == codes.Parsed(kind, ident)


def test_fresh_codes_differ() -> None:
    assert len({codes.new_pay_code(SECRET)[0] for _ in range(200)}) == 200


def flip_digit(code: str, at: int) -> str:
    return code[:at] + str((int(code[at]) + 1) % 10) + code[at + 1 :]


@pytest.mark.parametrize("at", [0, 1, 5, 12, 13, 19])
def test_a_pay_code_with_any_digit_changed_is_invalid(at: int) -> None:
    code, _ = codes.new_pay_code(SECRET)
    with pytest.raises(CodeInvalid):
        codes.parse(SECRET, flip_digit(code, at))


def test_a_code_signed_with_another_secret_is_invalid() -> None:
    for code in (codes.new_pay_code("other")[0], codes.new_text_code("other", codes.CARD)[0]):
        with pytest.raises(CodeInvalid):
            codes.parse(SECRET, code)


def test_an_activation_code_cannot_pass_as_a_card() -> None:
    code, _ = codes.new_text_code(SECRET, codes.ACTIVATION)
    forged = "C" + code[1:]
    with pytest.raises(CodeInvalid):
        codes.parse(SECRET, forged)


@pytest.mark.parametrize("junk", ["", "123", "1" * 20, "x" * 41, "A1" + "A" * 39, None])
def test_junk_is_invalid(junk: str | None) -> None:
    with pytest.raises(CodeInvalid):
        codes.parse(SECRET, junk)  # type: ignore[arg-type]  # None is junk parse must refuse too
