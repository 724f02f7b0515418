"""What a message costs, in millionths of a US dollar (list prices; update them here when AWS changes them).

SES: $0.10 per 1,000 e-mails. SNS topic publish: $0.50 per million (a staff task). SNS SMS: by destination
country, transactional, carrier fees included, approximate (https://aws.amazon.com/sns/sms-pricing/); a
destination not in the table is charged the default so a report never under-counts.
"""

from __future__ import annotations

EMAIL_USD_MICROS = 100
STAFF_TASK_USD_MICROS = 1  # $0.0000005, rounded up to the unit we count in
SMS_USD_MICROS = {"1": 8_830, "44": 41_000, "49": 93_000, "7": 40_000}  # by calling code
SMS_DEFAULT_USD_MICROS = 100_000


def sms_cost(phone: str) -> int:
    digits = phone.lstrip("+")
    for length in (3, 2, 1):
        if digits[:length] in SMS_USD_MICROS:
            return SMS_USD_MICROS[digits[:length]]
    return SMS_DEFAULT_USD_MICROS
