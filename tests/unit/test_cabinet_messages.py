"""The cabinet's login code message (shared/notify/cabinet_messages.py): SMS texts, e-mail template data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from shared.notify.cabinet_messages import LOGIN_CODE, login_code_data, login_code_sms

RESOURCES = Path(__file__).resolve().parents[2] / "infra" / "resources.json"
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)


def test_the_english_sms_names_the_merchant_the_code_and_its_life() -> None:
    assert login_code_sms("Shop", "123456", 10, "en") == (
        "Shop: your login code is 123456. It is valid for 10 minutes. Do not share it."
    )
    assert "valid for 1 minute." in login_code_sms("Shop", "123456", 1, "en")


def test_the_russian_sms_names_the_merchant_the_code_and_its_life() -> None:
    assert (
        login_code_sms("Shop", "123456", 10, "ru") == "Shop: код входа 123456. Действует 10 минут. Никому не сообщайте."
    )


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (1, "1 минуту"),
        (2, "2 минуты"),
        (4, "4 минуты"),
        (5, "5 минут"),
        (10, "10 минут"),
        (11, "11 минут"),
        (12, "12 минут"),
        (15, "15 минут"),
        (21, "21 минуту"),
        (22, "22 минуты"),
        (111, "111 минут"),
    ],
)
def test_russian_minutes_agree_with_the_number(minutes: int, text: str) -> None:
    assert f"Действует {text}." in login_code_sms("Shop", "123456", minutes, "ru")
    assert login_code_data("Shop", "123456", minutes, "ru")["minutes_text"] == text


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_code_stands_alone_for_autofill(language: str) -> None:
    """One 6-digit run in the text, between a space and a full stop, next to the word "code" / "код"."""
    text = login_code_sms("Shop 24", "004217", 10, language)
    assert re.findall(r"\d{6}", text) == ["004217"]
    assert re.search(r"(code is|код входа) 004217\.", text)


def test_the_sms_fit_one_segment() -> None:
    english = login_code_sms("Shop", "123456", 10, "en")
    assert set(english) <= GSM7 and len(english) <= 160
    assert len(login_code_sms("Coffee Bar", "123456", 10, "ru")) <= 70  # UCS-2: a name of up to 10 characters


def test_the_email_data() -> None:
    assert login_code_data("Shop", "012345", 10, "en") == {
        "merchant": "Shop",
        "code": "012345",
        "minutes": "10",
        "minutes_text": "10 minutes",
    }
    assert login_code_data("Shop", "012345", 1, "en")["minutes_text"] == "1 minute"
    assert login_code_data("Магазин", "012345", 10, "ru")["minutes_text"] == "10 минут"


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_templates_use_only_the_data_given(language: str) -> None:
    """The SES template of the kind (infra/resources.json) names no placeholder the data lacks, and shows the code."""
    resources = json.loads(RESOURCES.read_text())["Resources"]
    name = f"loyalty-${{Stage}}-{LOGIN_CODE}-{language}"
    (template,) = (
        r["Properties"]["Template"]
        for r in resources.values()
        if r.get("Type") == "AWS::SES::Template" and r["Properties"]["Template"]["TemplateName"] == {"Fn::Sub": name}
    )
    data = login_code_data("Shop", "123456", 10, language)
    for part in ("SubjectPart", "TextPart", "HtmlPart"):
        assert "{{code}}" in template[part], part
        used = set(re.findall(r"\{\{#?(?:if )?(\w+)\}\}", template[part]))
        assert used <= set(data), (part, used - set(data))


def test_a_new_contacts_code_says_it_confirms_the_number_not_a_login() -> None:
    from shared.notify.cabinet_messages import contact_code_sms

    english = contact_code_sms("Shop", "123456", 10, "en")
    russian = contact_code_sms("Магазин", "123456", 10, "ru")
    assert english == "Shop: code 123456 confirms this number for your account. Valid for 10 minutes. Do not share it."
    assert russian == "Магазин: код 123456 подтвердит номер. Никому не сообщайте."
    assert "login" not in english and "вход" not in russian
    assert len(russian) - len("Магазин") <= 60  # one UCS-2 segment (70) for a name of up to 10 letters
