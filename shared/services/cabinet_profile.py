"""The customer's questionnaire in the cabinet (issue 16 item 3): name, birthday and consent per channel, and a new
e-mail or phone confirmed by a code before it is stored.

Everything is written through the members service (``MemberService.update_contact``), so the merchant's member view
shows what the customer gave, and only the fields given are written. A birthday is set once by the customer
(``shared.cabinet_login.birthday_change_allowed``). A new contact gets a code of its own purpose (``contact``: a
login code cannot confirm it, nor it log in), bound to the member who asked; it is checked against the other members
only once the code proves the contact is the customer's (checked before sending, the answer would tell anyone logged
in whether a phone or e-mail is a member's of this shop).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from shared.cabinet_login import birthday_change_allowed, birthday_problem, code_matches, contact_fields, spent
from shared.errors import Conflict, Unauthorized, Unprocessable
from shared.records import Profile
from shared.services.cabinet import CabinetService
from shared.services.members import ContactUpdate, MemberService
from shared.services.store import LedgerStore
from shared.tenants import Tenant


@dataclass(frozen=True, kw_only=True)
class Answers:
    """What the customer filled in; None: not given (kept as stored). ``consent`` names only the channels given."""

    name: str | None = None
    birthday: date | None = None
    consent: dict[str, bool] | None = None


class CabinetProfileService:
    def __init__(self, cabinet: CabinetService, members: MemberService, ledger: LedgerStore) -> None:
        self.cabinet = cabinet
        self.members = members
        self.ledger = ledger

    def answer(self, tenant: Tenant, member_id: str, answers: Answers, now: datetime) -> Profile:
        """Store the customer's answers; the profile as it is now."""
        birthday = answers.birthday.isoformat() if answers.birthday else None
        if answers.birthday is not None:
            today = now.astimezone(ZoneInfo(tenant.current.settings.timezone)).date()
            problem = birthday_problem(answers.birthday, today)
            if problem is not None:
                details = [{"field": "birthday", "message": problem}]
                raise Unprocessable(problem, code="validation_error", details=details)
            stored = self.profile(tenant.tenant_id, member_id).birthday
            if birthday is not None and not birthday_change_allowed(stored, birthday):
                raise Conflict("the birthday is set; the shop can correct it", code="birthday_locked")
        update = ContactUpdate(name=answers.name, birthday=birthday, consent=answers.consent or None)
        if update == ContactUpdate():
            return self.profile(tenant.tenant_id, member_id)
        return self.members.update_contact(tenant.tenant_id, member_id, update)

    def request_contact(self, tenant: Tenant, member_id: str, contact: str, source: str, now: datetime) -> None:
        """Send a code to the new ``contact`` (normalized), bound to this member, under the login's limits."""
        code = self.cabinet.issue(tenant, contact, source, member_id, "contact", now)
        self.cabinet.send(tenant, contact, code, "contact")

    def confirm_contact(self, tenant: Tenant, member_id: str, contact: str, code: str, now: datetime) -> Profile:
        """Store ``contact`` on the member's profile once its code matches; a wrong code stores nothing."""
        tid = tenant.tenant_id
        stored = self.cabinet.usable(tid, contact, "contact", now)
        if stored.member_id != member_id:  # another member's code for it: not ours to try (nor to use up)
            raise Unauthorized("the code does not match", code="invalid_code")
        if not code_matches(stored, tid, code):
            self.cabinet.store.add_attempt(tid, stored)
            raise Unauthorized("the code does not match", code="invalid_code")
        email, phone = contact_fields(contact)
        if any(other != member_id for other in self.ledger.find_members(tid, email=email, phone=phone)):
            raise Conflict("this contact is another member's of this shop", code="contact_taken")
        if not self.cabinet.store.replace_code(tid, spent(stored, now), stored):
            raise Unauthorized("the code was used already; ask for a new one", code="code_expired")
        return self.members.update_contact(tid, member_id, ContactUpdate(email=email, phone=phone))

    def profile(self, tenant_id: str, member_id: str) -> Profile:
        return self.ledger.load_member(tenant_id, member_id).profile or Profile(member_id=member_id)
