"""The cabinet's login service on the in-memory stores (issue 16): the limits and faults no HTTP test reaches cheaply."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared import clock
from shared.cabinet_login import IP_SENDS_PER_HOUR, LoginCode, Session
from shared.dal.memory_cabinet_store import MemoryCabinetStore
from shared.dal.memory_store import MemoryLedgerStore
from shared.errors import TooManyRequests, Unauthorized
from shared.ports import Delivery, StoreUnavailable
from shared.records import Commit, Profile
from shared.services.cabinet import CabinetService
from shared.services.reminders import MailSettings
from tests.accounts import account
from tests.logs import captured_logs
from tests.tenants import tenant

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
TENANT = tenant(NOW - timedelta(days=1), cabinet={"sms_calling_codes": ["7"]})


class Outbox:
    """A notifier that keeps what it was asked to send; ``status`` is what every delivery answers."""

    def __init__(self, status: str = "sent") -> None:
        self.status = status
        self.sent: list[tuple[str, Any]] = []

    def email(self, to: str, source: str, template: str, data: dict[str, str]) -> Delivery:
        self.sent.append((to, data))
        return Delivery(status=self.status)

    def sms(self, phone: str, text: str, sender_id: str | None) -> Delivery:
        self.sent.append((phone, text))
        return Delivery(status=self.status)

    def staff(self, topic_arn: str, subject: str, text: str) -> Delivery:
        raise AssertionError("no staff tasks here")


@pytest.fixture
def ledger() -> Iterator[MemoryLedgerStore]:
    clock.set_clock(lambda: NOW)
    store = MemoryLedgerStore()
    store.commit(
        "shop", Commit(member_id="c1", account=account("c1"), profile=Profile(member_id="c1", phone="+79990001001"))
    )
    yield store
    clock.set_clock(None)


def service(ledger: MemoryLedgerStore, outbox: Outbox) -> CabinetService:
    mail = MailSettings(email_from="loyalty@example.com", template_prefix="loyalty-reminder", max_attempts=3)
    return CabinetService(MemoryCabinetStore(members=ledger.load_member), ledger, outbox, mail)


def test_one_source_address_is_limited_across_contacts(ledger: MemoryLedgerStore) -> None:
    # Given one address asking for codes for many different contacts (guessing, or pumping SMS)
    outbox = Outbox()
    cabinet = service(ledger, outbox)
    for n in range(IP_SENDS_PER_HOUR):
        cabinet.request_code(TENANT, f"+7999{n:07d}", "203.0.113.9", NOW)
    # When it asks once more within the hour / Then it is refused for an hour, whichever contact
    with pytest.raises(TooManyRequests) as refused:
        cabinet.request_code(TENANT, "+79990001001", "203.0.113.9", NOW)
    assert (refused.value.code, refused.value.retry_after_seconds) == ("rate_limited", 3600)
    assert outbox.sent == []  # none of those contacts is a member's: nothing was sent
    # And another address is not limited: the member gets the code
    cabinet.request_code(TENANT, "+79990001001", "198.51.100.7", NOW)
    assert [to for to, _ in outbox.sent] == ["+79990001001"]


def test_a_message_that_could_not_be_sent_is_answered_as_any_other_request(ledger: MemoryLedgerStore) -> None:
    # Given the provider refusing the member's SMS (a fault the member's answer must not reveal: a stranger's
    # contact gets no message and no fault)
    cabinet = service(ledger, Outbox(status="failed"))
    # When the member asks / Then no error reaches the caller; the fault is logged (without the contact) and counted
    with captured_logs() as logs:
        cabinet.request_code(TENANT, "+79990001001", "203.0.113.9", NOW)
    [line] = logs.with_message("login code not sent")
    assert (line["status"], line["channel"]) == ("failed", "sms") and "9990001001" not in logs.text


def test_only_the_member_gets_a_message(ledger: MemoryLedgerStore) -> None:
    outbox = Outbox()
    cabinet = service(ledger, outbox)
    cabinet.request_code(TENANT, "+79990001001", "203.0.113.9", NOW)
    cabinet.request_code(TENANT, "+79990009999", "203.0.113.9", NOW)
    assert [to for to, _ in outbox.sent] == ["+79990001001"]


def test_the_signed_in_member_is_the_sessions_and_a_cookie_naming_another_opens_nothing(
    ledger: MemoryLedgerStore,
) -> None:
    # Given c1 logged in with the code of the SMS
    outbox = Outbox()
    cabinet = service(ledger, outbox)
    cabinet.request_code(TENANT, "+79990001001", "203.0.113.9", NOW)
    code = _code(outbox.sent[-1][1])
    opened = cabinet.verify(TENANT, "+79990001001", code, NOW)
    # When the view's member is read with the member id the cookie names / Then it is c1
    assert cabinet.signed_in(TENANT, opened.token, "c1", NOW).account.ledger.member_id == "c1"
    # And without that hint (an older cookie) too, in two reads
    assert cabinet.signed_in(TENANT, opened.token, None, NOW).account.ledger.member_id == "c1"
    # And naming another member, or after the session's end, opens nothing
    with pytest.raises(Unauthorized):
        cabinet.signed_in(TENANT, opened.token, "c2", NOW)
    with pytest.raises(Unauthorized):
        cabinet.signed_in(TENANT, opened.token, "c1", NOW + timedelta(days=2))


def _code(text: str) -> str:
    found = re.search(r"\b(\d{6})\b", text)
    assert found, text
    return found.group(1)


# -- self-enrolment (item 3) -------------------------------------------------------------------------------------

JOINING = tenant(
    NOW - timedelta(days=1),
    lifetime_days=30,
    cabinet={"sms_calling_codes": ["7"], "self_enrolment": True, "welcome_bonus_points": 150},
)


class FlakyStore(MemoryCabinetStore):
    """A cabinet store whose first consume fails as the table would (after the member was made)."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 1

    def consume(self, tenant: str, code: LoginCode, session: Session) -> bool:
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("storage failed: InternalServerError")
        return super().consume(tenant, code, session)


def test_a_verify_retried_after_a_fault_finds_the_member_it_made_and_pays_once(ledger: MemoryLedgerStore) -> None:
    # Given a shop that lets customers join with 150 welcome points, and a stranger who got a code
    outbox = Outbox()
    mail = MailSettings(email_from="loyalty@example.com", template_prefix="loyalty-reminder", max_attempts=3)
    cabinet = CabinetService(FlakyStore(), ledger, outbox, mail)
    cabinet.request_code(JOINING, "+79990005555", "203.0.113.9", NOW)
    [(to, text)] = outbox.sent
    assert to == "+79990005555"
    code = text.split("code is ")[1][:6]
    # When the verify fails after the member was made (the session's write), and the customer tries again
    with pytest.raises(StoreUnavailable):
        cabinet.verify(JOINING, "+79990005555", code, NOW)
    opened = cabinet.verify(JOINING, "+79990005555", code, NOW)
    # Then the session is the member's made the first time, with one welcome lot of 150 points for 30 days
    member = ledger.load_member("shop", opened.session.member_id)
    assert opened.session.member_id.startswith("cab-") and member.profile is not None
    assert (member.profile.phone, member.profile.email) == ("+79990005555", None)
    [lot] = member.account.ledger.lots
    assert (lot.points, lot.source, lot.expires_at) == (150, "grant", NOW + timedelta(days=30))
    assert ledger.find_members("shop", phone="+79990005555") == [opened.session.member_id]


def test_a_contact_several_members_share_gets_no_code_even_where_customers_may_join(ledger: MemoryLedgerStore) -> None:
    # Given a phone two members share (the merchant's data)
    ledger.commit(
        "shop", Commit(member_id="c2", account=account("c2"), profile=Profile(member_id="c2", phone="+79990001001"))
    )
    outbox = Outbox()
    # When it asks for a code / Then nothing is sent: it is no one member's, and no new member is made for it
    service(ledger, outbox).request_code(JOINING, "+79990001001", "203.0.113.9", NOW)
    assert outbox.sent == []
