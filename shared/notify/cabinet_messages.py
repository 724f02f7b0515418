"""What the customer cabinet's login code message says (issue 16; ``shared.cabinet_login``). Pure.

The e-mail is an SES template (infra/resources.json words it, ``<namespace>-login-code-<language>``, and
``<namespace>-contact-code-<language>`` for a new contact's confirmation); this gives its data. The SMS text is whole here, like the program messages' (``shared.notify.program_messages``): the merchant
first, as in every SMS of the platform, then the code on its own between spaces and the word "code" / "код", so
that iOS and Android offer it for one-time-code autofill. Cyrillic makes an SMS UCS-2, 70 characters a segment: the
Russian text is 60 characters besides the merchant's name (10 minutes), one segment for a name of up to 10; the
English one is plain GSM-7 (160 a segment).
"""

from __future__ import annotations

from shared.notify.messages import ru_plural

LOGIN_CODE = "login-code"  # template kinds: a login, and a new contact's confirmation
CONTACT_CODE = "contact-code"


def _ru_minutes(minutes: int) -> str:
    """The accusative of "минута", as after "действует" (1 минуту, 2 минуты, 5 минут, 21 минуту)."""
    return ru_plural(minutes, "минуту", "минуты", "минут")


def _minutes(minutes: int, language: str) -> str:
    if language == "ru":
        return _ru_minutes(minutes)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def login_code_data(merchant: str, code: str, minutes: int, language: str) -> dict[str, str]:
    return {"merchant": merchant, "code": code, "minutes": str(minutes), "minutes_text": _minutes(minutes, language)}


def login_code_sms(merchant: str, code: str, minutes: int, language: str) -> str:
    valid = _minutes(minutes, language)
    if language == "ru":
        return f"{merchant}: код входа {code}. Действует {valid}. Никому не сообщайте."
    return f"{merchant}: your login code is {code}. It is valid for {valid}. Do not share it."


def contact_code_sms(merchant: str, code: str, minutes: int, language: str) -> str:
    """The code that confirms a new phone for the customer's account (not a login: it says so). The Russian text
    keeps the warning and leaves out the validity, to stay one UCS-2 segment as the login code's does."""
    valid = _minutes(minutes, language)
    if language == "ru":
        return f"{merchant}: код {code} подтвердит номер. Никому не сообщайте."
    return f"{merchant}: code {code} confirms this number for your account. Valid for {valid}. Do not share it."
