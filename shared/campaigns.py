"""Campaigns as data (issue 17 item 1): what a tenant's campaign is, which bodies are valid, and how a campaign may
change from one version to the next. Pure: no storage, no clock.

A campaign is one of seven kinds (``kind`` picks the shape of ``audience``); every save is a new version, in force from
the moment it is saved. Once a campaign has been active, its holdout and its variants' weights are frozen: members are
assigned to the holdout or a variant by a hash into 10,000 buckets cut by these numbers (``shared.experiments``), and
a member already assigned must never move to another group.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from shared.errors import Conflict, Unprocessable

ID_PATTERN = r"^[a-z0-9-]{1,40}$"
CampaignId = Annotated[str, Field(pattern=ID_PATTERN)]
Basis = Annotated[int, Field(ge=0, le=10_000)]
MAX_CAMPAIGNS = 100  # per tenant: beyond it 422 too_many_campaigns
MAX_VARIANTS = 10
WHOLE = 10_000  # basis points: the variants' weights add up to this
SERVER_FIELDS = ("version", "effective_at", "activated_at")  # answered by GET, ignored in a body

Kind = Literal[
    "win_back", "feedback_request", "personal_offer", "birthday", "expiry_reminder", "boost_reminder", "bulk_grant"
]
Status = Literal["draft", "active", "paused", "ended"]
# status -> the statuses a new version may have; "ended" is final (its reports are closed)
TRANSITIONS: dict[Status | None, frozenset[str]] = {
    None: frozenset({"draft", "active", "paused"}),
    "draft": frozenset({"draft", "active", "paused", "ended"}),
    "active": frozenset({"active", "paused", "ended"}),
    "paused": frozenset({"active", "paused", "ended"}),
    "ended": frozenset(),
}


class Strict(BaseModel):
    # built on first use, not at import: the API function's cold start does not pay for the campaigns' schemas
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class CampaignReward(Strict):
    """Points granted in a lot of their own that expires ``lifetime_days`` after the grant."""

    points: Annotated[int, Field(ge=1, le=1_000_000)]
    lifetime_days: Annotated[int, Field(ge=1, le=365)]


class CampaignMessage(Strict):
    channels: Annotated[list[Literal["email", "sms"]], Field(min_length=1, max_length=2)]
    template: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None


class CampaignSchedule(Strict):
    start_at: AwareDatetime
    end_at: AwareDatetime | None = None


class CampaignVariant(Strict):
    id: CampaignId
    weight_bp: Annotated[int, Field(ge=1, le=WHOLE)]
    reward: CampaignReward | None = None
    message: CampaignMessage | None = None


class WinBackAudience(Strict):
    inactive_days: Annotated[int, Field(ge=7, le=730)]
    # with >= 3 orders: asleep once the last order is older than the member's usual interval x this (15000 = x1.5)
    interval_factor_bp: Annotated[int, Field(ge=10_000, le=100_000)] | None = None
    cooldown_days: Annotated[int, Field(ge=1, le=365)]


class FeedbackAudience(Strict):
    cooldown_days: Annotated[int, Field(ge=1, le=365)]


class OfferAudience(Strict):
    multiplier_bp: Annotated[int, Field(gt=10_000, le=100_000)]  # 20000 = x2 points on the offered category
    days: Annotated[int, Field(ge=1, le=90)]
    min_orders: Annotated[int, Field(ge=1, le=1_000)]


class NoAudience(Strict):
    """The existing jobs' messages: their audience is the job's (birthdays, expiring lots, boosts, a grant)."""


class CampaignBase(Strict):
    id: CampaignId
    status: Status = "draft"
    reward: CampaignReward | None = None
    message: CampaignMessage | None = None
    schedule: CampaignSchedule
    attribution_days: Annotated[int, Field(ge=1, le=90)]
    holdout_bp: Annotated[int, Field(ge=0, le=5_000)]
    variants: Annotated[list[CampaignVariant], Field(min_length=1, max_length=MAX_VARIANTS)] | None = None


class WinBackCampaign(CampaignBase):
    kind: Literal["win_back"]
    audience: WinBackAudience


class FeedbackRequestCampaign(CampaignBase):
    kind: Literal["feedback_request"]
    audience: FeedbackAudience


class PersonalOfferCampaign(CampaignBase):
    kind: Literal["personal_offer"]
    audience: OfferAudience


class BirthdayCampaign(CampaignBase):
    kind: Literal["birthday"]
    audience: NoAudience = NoAudience()


class ExpiryReminderCampaign(CampaignBase):
    kind: Literal["expiry_reminder"]
    audience: NoAudience = NoAudience()


class BoostReminderCampaign(CampaignBase):
    kind: Literal["boost_reminder"]
    audience: NoAudience = NoAudience()


class BulkGrantCampaign(CampaignBase):
    kind: Literal["bulk_grant"]
    audience: NoAudience = NoAudience()


Campaign = Annotated[
    WinBackCampaign
    | FeedbackRequestCampaign
    | PersonalOfferCampaign
    | BirthdayCampaign
    | ExpiryReminderCampaign
    | BoostReminderCampaign
    | BulkGrantCampaign,
    Field(discriminator="kind"),
]


@cache
def adapter() -> TypeAdapter[Campaign]:
    """The campaign union's validator and serializer, built on first use (see ``Strict``)."""
    return TypeAdapter(Campaign)


def loads(raw: str) -> Campaign:
    """A stored campaign (``dumps``' text): validated again, leniently, as it was valid when saved."""
    return adapter().validate_json(raw)


def dumps(campaign: Campaign) -> str:
    return adapter().dump_json(campaign, exclude_none=True).decode()


class CampaignPatch(Strict):
    """Any subset of a campaign's fields (what ``merged`` accepts): a field given replaces the current one, ``null``
    removes an optional one; ``id`` and ``kind``, if given, must be the campaign's; the server's fields are ignored.
    The result is validated as a whole campaign. Documentation only (docs/openapi.json)."""

    id: CampaignId | None = None
    kind: Kind | None = None
    status: Status | None = None
    audience: WinBackAudience | FeedbackAudience | OfferAudience | NoAudience | None = None
    reward: CampaignReward | None = None
    message: CampaignMessage | None = None
    schedule: CampaignSchedule | None = None
    attribution_days: Annotated[int, Field(ge=1, le=90)] | None = None
    holdout_bp: Annotated[int, Field(ge=0, le=5_000)] | None = None
    variants: Annotated[list[CampaignVariant], Field(min_length=1, max_length=MAX_VARIANTS)] | None = None
    version: Any = None
    effective_at: Any = None
    activated_at: Any = None


class CampaignVersion(BaseModel):
    """One saved version, in force from ``effective_at``; ``activated_at``: when the campaign was first active (from
    then on its assignment is frozen), carried to every later version."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    version: int
    effective_at: datetime
    activated_at: datetime | None = None
    campaign: Campaign


# -- the rules no field alone can express --------------------------------------------------------------------------

NEEDS_MESSAGE = frozenset({"feedback_request", "expiry_reminder", "boost_reminder"})  # a message is all they are
NEEDS_REWARD = frozenset({"bulk_grant"})
NO_REWARD = frozenset({"feedback_request", "personal_offer"})  # the program's rating reward; the offer's multiplier
REWARD_OR_MESSAGE = frozenset({"win_back", "birthday"})


def rule_errors(campaign: Campaign) -> list[dict[str, str]]:
    """Each broken cross-field rule as ``{field, message}`` (empty: valid)."""
    errors = _variant_errors(campaign.variants or [])
    end = campaign.schedule.end_at
    if end is not None and end <= campaign.schedule.start_at:
        errors.append({"field": "schedule.end_at", "message": "must be after start_at"})
    for prefix, arm in _arms(campaign):
        errors += _arm_errors(campaign.kind, prefix, *arm)
    return errors


def _variant_errors(variants: list[CampaignVariant]) -> list[dict[str, str]]:
    errors = []
    if variants and sum(v.weight_bp for v in variants) != WHOLE:
        errors.append({"field": "variants", "message": f"the weights (weight_bp) must add up to {WHOLE}"})
    if len({v.id for v in variants}) != len(variants):
        errors.append({"field": "variants", "message": "variant ids must be distinct"})
    return errors


def _arms(campaign: Campaign) -> list[tuple[str, tuple[CampaignReward | None, CampaignMessage | None, bool]]]:
    """(field prefix, (reward, message, own reward given)) of what each group outside the holdout gets: a variant's
    own reward or message, else the campaign's."""
    if not campaign.variants:
        return [("", (campaign.reward, campaign.message, campaign.reward is not None))]
    return [
        (f"variants.{i}.", (v.reward or campaign.reward, v.message or campaign.message, v.reward is not None))
        for i, v in enumerate(campaign.variants)
    ]


def _arm_errors(
    kind: str, prefix: str, reward: CampaignReward | None, message: CampaignMessage | None, own: bool
) -> list[dict]:
    if kind in NO_REWARD and (own or reward is not None):
        return [{"field": f"{prefix}reward", "message": f"a {kind} campaign grants no reward of its own"}]
    if kind in NEEDS_MESSAGE and message is None:
        return [{"field": f"{prefix}message", "message": f"a {kind} campaign needs a message"}]
    if kind in NEEDS_REWARD and reward is None:
        return [{"field": f"{prefix}reward", "message": f"a {kind} campaign needs a reward"}]
    if kind in REWARD_OR_MESSAGE and reward is None and message is None:
        text = f"a {kind} campaign without a reward and without a message does nothing: give one or both"
        return [{"field": f"{prefix}reward", "message": text}]
    return []


def parse(raw: str) -> Campaign:
    """A campaign from JSON text: the fields strictly (JSON mode: "5" is no int, an ISO-8601 string is a time), then
    the cross-field rules; else ``Unprocessable`` (422 ``validation_error``) naming each field as the body does."""
    try:
        campaign = adapter().validate_json(raw, strict=True)
    except ValidationError as exc:
        raise _invalid(_field_errors(exc)) from exc
    errors = rule_errors(campaign)
    if errors:
        raise _invalid(errors)
    return campaign


def _field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """pydantic's errors with the body's field paths: without the kind that picked the model (its first step)."""
    if any(e["type"].startswith("union_tag") for e in exc.errors()):  # no kind, or an unknown one: nothing else read
        return [{"field": "kind", "message": f"one of {', '.join(get_args(Kind))}"}]
    return [
        {"field": ".".join(str(p) for p in e["loc"][1:]) or "body", "message": e["msg"]}
        for e in exc.errors(include_url=False, include_input=False)
    ]


def _invalid(errors: list[dict[str, str]]) -> Unprocessable:
    fields = ", ".join(sorted({e["field"] for e in errors}))
    return Unprocessable(f"invalid fields: {fields}", code="validation_error", details=errors)


def check_id(campaign_id: str) -> None:
    """A path's campaign id: 422 if no campaign can have it (so that it reaches no key)."""
    if not re.fullmatch(ID_PATTERN, campaign_id):
        raise _invalid([{"field": "campaign_id", "message": "1-40 of a-z 0-9 -"}])


def as_json(campaign: Campaign) -> dict[str, Any]:
    return adapter().dump_python(campaign, mode="json", exclude_none=True)  # type: ignore[no-any-return]


def merged(current: Campaign, patch: dict[str, Any]) -> Campaign:
    """A PUT's body over the current campaign: a field given replaces it (``null`` removes an optional one), a field
    omitted keeps it; the server's fields are ignored. The id is the path's: another one is refused."""
    body = {k: v for k, v in patch.items() if k not in SERVER_FIELDS}
    if body.get("id", current.id) != current.id:
        raise _invalid([{"field": "id", "message": "is the path's: a campaign cannot be renamed"}])
    if body.get("kind", current.kind) != current.kind:
        raise Conflict(f"a campaign's kind cannot change (it is {current.kind})", code="kind_frozen")
    combined = {k: v for k, v in {**as_json(current), **body}.items() if v is not None}
    return parse(json.dumps(combined))


def assignment(campaign: Campaign) -> tuple[int, tuple[tuple[str, int], ...]]:
    """What places a member in a group: the holdout and each variant's weight."""
    return campaign.holdout_bp, tuple((v.id, v.weight_bp) for v in campaign.variants or [])


def check_change(current: CampaignVersion | None, new: Campaign) -> None:
    """Refuse a new version that the campaign's history forbids (409): an ended campaign, a status it cannot go
    back to, or, once it has been active, another holdout or other variants' weights."""
    status = current.campaign.status if current else None
    if new.status not in TRANSITIONS[status]:
        code = "campaign_ended" if status == "ended" else "status_transition"
        raise Conflict(f"a campaign that is {status or 'new'} cannot become {new.status}", code=code)
    if current and current.activated_at and assignment(new) != assignment(current.campaign):
        raise Conflict(
            "the campaign has been active: its holdout_bp and its variants' ids and weights cannot change (members "
            "already assigned would move between groups); end it and start a new campaign instead",
            code="assignment_frozen",
        )


def next_version(current: CampaignVersion | None, campaign: Campaign, at: datetime) -> CampaignVersion:
    """The version saved at ``at`` after ``current`` (None: the first), checked against it."""
    check_change(current, campaign)
    activated = current.activated_at if current else None
    return CampaignVersion(
        version=current.version + 1 if current else 1,
        effective_at=at,
        activated_at=activated or (at if campaign.status == "active" else None),
        campaign=campaign,
    )
