"""Holiday / bulk grants (docs/spec.md §8) as pure data: the checks of a request, the grant, its tasks and its status.

A grant runs as independent *chains* of tasks on the sweep queue: one chain per shard of the ``by_tenant`` index
(segments ``all`` and ``tier``) or one per chunk of the given member ids. A chain is a sequence of *parts*; each
part records its result once (with the cursor where the next part starts), so the parts of a chain never overlap
and the grant's counters are the sum of the recorded parts. See docs/decisions.md ("Bulk grants").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.clock import iso
from shared.errors import Unprocessable
from shared.keys import INDEX_SHARDS
from shared.program import ProgramSettings

MAX_MEMBER_IDS = 10_000  # per request; a bigger list is several grants (or a tier / all segment)
GRANT_CHANNELS = ("email", "sms")
TASK_KIND = "grant"


@dataclass(frozen=True, kw_only=True)
class GrantRequest:
    """A validated request (see ``shared.api_models.GrantIn``) in plain types."""

    grant_id: str
    segment: str  # all | tier | member_ids
    tier: str | None
    member_ids: tuple[str, ...]
    points: int
    expires_at: datetime | None
    lifetime_days: int | None
    reason: str
    notify: tuple[str, ...]

    @property
    def fingerprint(self) -> str:
        """The same grant id must come with the same request: a hash of everything but the id."""
        data = {**asdict(self), "expires_at": iso(self.expires_at) if self.expires_at else None}
        data.pop("grant_id")
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _invalid(field_name: str, message: str) -> Unprocessable:
    return Unprocessable(
        f"invalid fields: {field_name}", code="validation_error", details=[{"field": field_name, "message": message}]
    )


def check(request: GrantRequest, program: ProgramSettings, now: datetime) -> None:
    """What the request model alone cannot check: a known tier, one expiry rule, an expiry in the future."""
    if request.segment == "tier" and request.tier not in {t.name for t in program.tiers}:
        raise _invalid("segment.tier", f"no tier named {request.tier!r} in the program")
    if (request.expires_at is None) == (request.lifetime_days is None):
        raise _invalid("expires_at", "give exactly one of expires_at or lifetime_days")
    if request.expires_at is not None and request.expires_at <= now:
        raise _invalid("expires_at", "must be in the future")


def chunked(ids: Sequence[str], size: int) -> list[tuple[str, ...]]:
    return [tuple(ids[i : i + size]) for i in range(0, len(ids), size)]


@dataclass(frozen=True, kw_only=True)
class Grant:
    grant_id: str
    fingerprint: str
    segment: str
    tier: str | None
    member_count: int
    points: int
    expires_at: datetime
    reason: str
    notify: tuple[str, ...]
    chains: int
    created_at: datetime
    targeted: int = 0
    granted: int = 0
    skipped: int = 0
    failed: int = 0
    notified: int = 0
    chains_done: int = 0
    parts_done: int = 0
    enqueued: bool = False
    started_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def status(self) -> str:
        if self.enqueued and self.chains_done >= self.chains:
            return "done"
        if self.started_at is not None or self.parts_done:
            return "running"
        return "queued"


def new_grant(request: GrantRequest, now: datetime, chunk_size: int) -> Grant:
    """The grant as first stored: a fixed expiry (``lifetime_days`` counts from the creation) and its chains."""
    if request.expires_at is not None:
        expires_at = request.expires_at
    else:
        expires_at = now + timedelta(days=request.lifetime_days or 0)
    members = len(request.member_ids)
    chains = -(-members // chunk_size) if request.segment == "member_ids" else INDEX_SHARDS
    return Grant(
        grant_id=request.grant_id,
        fingerprint=request.fingerprint,
        segment=request.segment,
        tier=request.tier,
        member_count=members,
        points=request.points,
        expires_at=expires_at,
        reason=request.reason,
        notify=request.notify,
        chains=chains,
        created_at=now,
        targeted=members,  # known up front for a list; index segments count what their parts find
    )


@dataclass(frozen=True, kw_only=True)
class GrantTask:
    """One part of one chain, as an SQS message on the sweep queue (``kind`` tells it from a sweep task)."""

    tenant: str
    grant_id: str
    chain: str  # S<shard:02d> | C<chunk:05d>
    part: int = 0
    cursor: dict[str, Any] | None = None  # where a shard part starts in the by_tenant index
    member_ids: tuple[str, ...] | None = None  # the chunk of a member_ids chain

    @property
    def shard(self) -> int | None:
        return int(self.chain[1:]) if self.chain.startswith("S") else None

    def to_json(self) -> str:
        data = {**asdict(self), "kind": TASK_KIND}
        data["member_ids"] = list(self.member_ids) if self.member_ids is not None else None
        return json.dumps(data, sort_keys=True)

    @staticmethod
    def matches(raw: str) -> bool:
        try:
            return bool(json.loads(raw).get("kind") == TASK_KIND)
        except (ValueError, AttributeError):
            return False

    @classmethod
    def from_json(cls, raw: str) -> GrantTask:
        data = json.loads(raw)
        ids = data.get("member_ids")
        return cls(
            tenant=str(data["tenant"]),
            grant_id=str(data["grant_id"]),
            chain=str(data["chain"]),
            part=int(data.get("part", 0)),
            cursor=data.get("cursor"),
            member_ids=tuple(str(m) for m in ids) if ids is not None else None,
        )


def first_tasks(tenant: str, grant: Grant, member_ids: Sequence[str], chunk_size: int) -> list[GrantTask]:
    if grant.segment == "member_ids":
        return [
            GrantTask(tenant=tenant, grant_id=grant.grant_id, chain=f"C{n:05d}", member_ids=chunk)
            for n, chunk in enumerate(chunked(member_ids, chunk_size))
        ]
    return [GrantTask(tenant=tenant, grant_id=grant.grant_id, chain=f"S{shard:02d}") for shard in range(INDEX_SHARDS)]


@dataclass(kw_only=True)
class PartResult:
    """What one part did; recorded once. ``next_cursor`` None: the chain is done."""

    chain: str
    part: int
    next_cursor: dict[str, Any] | None = None
    targeted: int = 0
    granted: int = 0
    skipped: int = 0
    failed: int = 0
    notified: int = 0

    def summary(self) -> dict[str, int]:
        return {
            "grant_parts": 1,
            "granted": self.granted,
            "skipped": self.skipped,
            "failed": self.failed,
            "notified": self.notified,
        }
