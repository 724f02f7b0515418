"""The customer cabinet, the questionnaire and consent (item 3): name, birthday, a new contact confirmed by a code,
consent per channel (issue 16).

Every route is the logged-in customer's (``functions.customer.customer``) and writes only that member's profile;
answers carry the customer's data and are never cached.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from functions.customer import BODY_LIMIT, PREFIX, code_requested, contact, customer, private, source
from functions.http import api_view, parse_body, respond
from shared import presenters
from shared.api_models import CabinetLoginIn, CabinetProfileIn, CabinetVerifyIn
from shared.container import container
from shared.records import Profile
from shared.services.cabinet_profile import Answers

bp = Blueprint(__name__)


@bp.route(PREFIX + "/me/profile", methods=["PUT"])
@api_view
def put_profile(tenant_id: str) -> Response:
    who = customer(bp.current_request, tenant_id)
    body = parse_body(bp.current_request, CabinetProfileIn, BODY_LIMIT)
    consent = body.consent.model_dump(exclude_none=True) if body.consent else None
    answers = Answers(name=body.name, birthday=body.birthday, consent=consent)
    profile = container().cabinet_profile.answer(who.tenant, who.member_id, answers, who.now)
    return _profile(profile)


@bp.route(PREFIX + "/me/contact", methods=["POST"])
@api_view
def request_contact(tenant_id: str) -> Response:
    """A code to the new e-mail or phone; the answer is the login's (202, whoever's the contact is)."""
    who = customer(bp.current_request, tenant_id)
    body = parse_body(bp.current_request, CabinetLoginIn, BODY_LIMIT)
    new = contact(body.contact)
    container().cabinet_profile.request_contact(who.tenant, who.member_id, new, source(bp.current_request), who.now)
    return private(code_requested())


@bp.route(PREFIX + "/me/contact/verify", methods=["POST"])
@api_view
def verify_contact(tenant_id: str) -> Response:
    who = customer(bp.current_request, tenant_id)
    body = parse_body(bp.current_request, CabinetVerifyIn, BODY_LIMIT)
    profile = container().cabinet_profile.confirm_contact(
        who.tenant, who.member_id, contact(body.contact), body.code, who.now
    )
    return _profile(profile)


def _profile(profile: Profile) -> Response:
    return private(respond({"member_id": profile.member_id, **presenters.profile(profile)}))
