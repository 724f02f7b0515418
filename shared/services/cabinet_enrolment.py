"""Self-enrolment (issue 16 item 3): a customer whose contact is no member's joins from the cabinet, in a shop whose
program allows it (``cabinet.self_enrolment``), with the program's welcome bonus in a lot of its own.

The member is made as an order makes one: one commit of the new ACCOUNT under "no account yet" (version 0), with its
PROFILE (the contact the code was sent to) and, when the program gives one, the welcome bonus's ``grant`` entry
``M#<member>/WELCOME`` under "no such entry yet", all in one transaction. The member id comes from the code
(``shared.cabinet_login.enrolled_member_id``), so a verify retried with the same code (the member made, the session
not yet) finds the account made and writes nothing: the bonus is paid once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.cabinet_login import LoginCode, contact_fields, enrolled_member_id
from shared.entry_details import WelcomeDetails
from shared.keys import WELCOME, business_key, member_scope
from shared.ledger import Credit, credit
from shared.observability import MetricUnit, logger, metrics
from shared.ports import Duplicate
from shared.records import EntryRecord, Profile
from shared.services.member_write import Change, Loaded, MemberWrite
from shared.tenants import Tenant


class Enrolment:
    def __init__(self, writes: MemberWrite) -> None:
        self.writes = writes

    def enrol(self, tenant: Tenant, code: LoginCode, now: datetime) -> str:
        """The member the self-enrolment ``code`` opens, made now unless an earlier try of the same code made it."""
        member_id = enrolled_member_id(code)
        welcome = business_key(member_scope(member_id), WELCOME)

        def duplicate(dup: Duplicate) -> bool | None:
            return False if dup.key == welcome else None

        made = self.writes.apply(
            tenant, member_id, lambda loaded: joined(tenant, loaded, code, now), now, on_duplicate=duplicate
        )
        if made:  # the id only: no contact in a log line
            logger.info("member joined from the cabinet", extra={"member_id": member_id})
            metrics.add_metric(name="CabinetMembersJoined", unit=MetricUnit.Count, value=1)
        return member_id


def joined(tenant: Tenant, loaded: Loaded, code: LoginCode, now: datetime) -> Change[bool]:
    """The new member's first write: its account, its contact and its welcome bonus (nothing if it exists)."""
    member = loaded.member
    if member.exists:
        return Change(result=False)  # made by an earlier try of this code: its bonus was paid with it
    member_id = member.account.member_id
    email, phone = contact_fields(code.contact)
    profile = Profile(member_id=member_id, email=email, phone=phone)
    program = tenant.current.settings
    points = program.cabinet.welcome_bonus_points
    if points <= 0:
        return Change(result=True, account=loaded.account, profile=profile)
    lot = Credit(points, "grant", now, now + timedelta(days=program.lifetime_days))
    ledger, movement = credit(loaded.account.ledger, "grant", [lot], now)
    entry = EntryRecord(
        scope=member_scope(member_id),
        key=WELCOME,
        member_id=member_id,
        movement=movement,
        reference="welcome",
        created_at=now,
        event_id=None,
        details=WelcomeDetails(points=points, lifetime_days=program.lifetime_days),
    )
    return Change(result=True, account=loaded.account.with_ledger(ledger), entries=(entry,), profile=profile)
