"""Provider errors are logged without the personal data they may quote (docs/spec.md §9)."""

from __future__ import annotations

import pytest

from shared.observability import redact


@pytest.mark.parametrize(
    ("raw", "logged"),
    [
        (
            "InvalidParameter: PhoneNumber +79991234567 is not valid",
            "InvalidParameter: PhoneNumber <phone> is not valid",
        ),
        ("Invalid phone +7 (999) 123-45-67", "Invalid phone <phone>"),
        ("MessageRejected: Address blacklisted: anna@example.com", "MessageRejected: Address blacklisted: <email>"),
        ("Throttling: Maximum sending rate exceeded.", "Throttling: Maximum sending rate exceeded."),
        ("InvalidParameterValue: Missing final '@domain'", "InvalidParameterValue: Missing final '@domain'"),
        (None, None),
    ],
)
def test_redact_removes_phones_and_addresses(raw: str | None, logged: str | None) -> None:
    assert redact(raw) == logged
