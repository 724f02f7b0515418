"""Referral codes (shared/referral.py): deterministic, per tenant, forgiving of how a customer types them."""

from __future__ import annotations

from shared.referral import ALPHABET, LENGTH, code_of, normalize


def test_a_code_is_stable_short_and_differs_between_tenants_and_members() -> None:
    # Given a member, when the code is computed twice, then it is the same 10 Crockford characters
    code = code_of("shop", "alice")
    assert code == code_of("shop", "alice") and len(code) == LENGTH and set(code) <= set(ALPHABET)
    # And another tenant or member gets another code
    assert code_of("other", "alice") != code and code_of("shop", "bob") != code


def test_typing_slips_are_forgiven_and_non_codes_rejected() -> None:
    code = code_of("shop", "alice")
    # Given lower case, dashes and look-alike letters, when normalized, then the code comes back
    assert normalize(f" {code[:5].lower()}-{code[5:]} ") == code
    assert normalize("O1IL0ABCDE") == "01110ABCDE"
    # And text that cannot be a code is None
    assert normalize("short") is None and normalize("UUUUUUUUUU") is None
