"""One e-mail, one phone, one identity (issue 13 item 16): Unicode forms of an e-mail (NFC, NFD, fullwidth, case)
normalise to one string (NFKC + casefold), and the written forms of one phone to one E.164 number."""

from __future__ import annotations

import unicodedata

import pytest

from shared.contacts import email_identity, normalize_email, normalize_phone, phone_identity
from shared.errors import Unprocessable

JOSE = "josé@example.com"


@pytest.mark.parametrize(
    "written",
    [
        unicodedata.normalize("NFC", JOSE),
        unicodedata.normalize("NFD", JOSE),
        unicodedata.normalize("NFD", "JOSÉ@EXAMPLE.COM"),
        "ｊｏｓé＠ｅｘａｍｐｌｅ．ｃｏｍ",  # fullwidth letters and signs
        "  José@Example.COM ",
    ],
)
def test_every_form_of_one_email_is_one_identity(written: str) -> None:
    # Given one address written in another Unicode form, width or case
    # Then it normalises to the same string, for a contact and for a member id alike
    assert normalize_email(written) == email_identity(written) == unicodedata.normalize("NFC", JOSE)


def test_an_invalid_email_is_still_refused_after_normalisation() -> None:
    with pytest.raises(Unprocessable):
        normalize_email("ｎｏｔ－ａｎ－ｅｍａｉｌ")


@pytest.mark.parametrize(
    "written",
    ["+79991234567", "+7-999-123-45-67", "+7 (999) 123-45-67", " +7 999 123 45 67 ", "＋７９９９１２３４５６７"],
)
def test_every_written_form_of_one_phone_is_one_e164_number(written: str) -> None:
    assert normalize_phone(written) == phone_identity(written) == "+79991234567"


@pytest.mark.parametrize("written", ["8 (999) 123-45-67", "(555) 555-5555", "call me", ""])
def test_a_phone_without_its_country_is_no_identity(written: str) -> None:
    # A national number is ambiguous without the customer's country: it identifies nobody
    assert phone_identity(written) is None
