"""How the cabinet reads the friend of a transfer and names the transfer (issue 16 item 5): pure rules."""

from __future__ import annotations

import pytest

from shared.contacts import masked
from shared.errors import Unprocessable
from shared.referral import code_of
from shared.services.cabinet_transfers import Recipient, cabinet_transfer_id, recipient_of


def test_the_friend_is_an_e_mail_a_phone_or_a_referral_code_and_shows_masked() -> None:
    code = code_of("shop", "c2")
    assert recipient_of(" Bob@Example.com ") == Recipient("email", "bob@example.com", "b***@example.com")
    assert recipient_of("+7 999 000-70-01") == Recipient("phone", "+79990007001", "+7 *** *** 70 01")
    assert recipient_of(code.lower()) == Recipient("code", code, code)
    assert recipient_of(f"{code[:5]}-{code[5:]}").value == code


@pytest.mark.parametrize(("typed", "code"), [("89990007001", "invalid_recipient"), ("a@b", "invalid_email"),
                                              ("+1", "invalid_phone"), ("hello!", "invalid_recipient")])  # fmt: skip
def test_anything_else_is_refused_before_any_look_up(typed: str, code: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        recipient_of(typed)
    assert refused.value.code == code


def test_masking_keeps_the_country_and_the_last_four_digits() -> None:
    assert masked("+4915112345678") == "+49 *** *** 56 78"
    assert masked("a@b.c") == "a***@b.c"


def test_a_page_id_is_the_senders_own() -> None:
    mine, theirs = cabinet_transfer_id("shop", "c1", "page-id-1"), cabinet_transfer_id("shop", "c2", "page-id-1")
    assert mine != theirs and mine.endswith(":page-id-1") and "c1" not in mine
    assert cabinet_transfer_id("other", "c1", "page-id-1") != mine
    assert mine == cabinet_transfer_id("shop", "c1", "page-id-1") and len(mine) <= 4 + 16 + 1 + 64
