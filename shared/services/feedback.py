"""Customers' ratings of their paid orders (issue 16 item 6), the reward for rating, the staff's complaint, and the
merchant's list.

A rating is for an order the customer paid: the order's PAID entry names the session's member, else it is 404
``order_not_found`` (another customer's order and no order look the same). It is kept once per order (a conditional
write; a second is 409 ``feedback_exists``). The reward, when the shop sets one, is the same points whatever the score
(rewarding only good reviews is forbidden): a lot of the member's own through ``MemberWrite``, its entry
``ORDER#<order>/FEEDBACK#REWARD`` written only if absent, so a retry never pays twice. The reward is written before
the rating, so that a rating never stands without the reward it promised: a failure between the two leaves the reward,
and the customer's retry finds it (a duplicate) and stores the rating. A score of 1 or 2 is published to the shop's
staff topic, once (by the request that stored the rating); a failed publish is logged and counted, the rating stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.errors import Conflict, NotFound, Unprocessable
from shared.feedback import (
    MAX_COMMENT,
    Feedback,
    Position,
    complaint,
    cursor_of,
    is_complaint,
    list_key,
    month_of,
    months,
    position_of,
    start,
    valid_score,
)
from shared.keys import FEEDBACK_REWARD, business_key, order_scope
from shared.ledger import Credit, credit
from shared.observability import MetricUnit, logger, metrics
from shared.ports import FeedbackStore, Notifier
from shared.records import EntryRecord
from shared.services.member_write import Change, Loaded, MemberWrite
from shared.services.store import LedgerStore
from shared.tenants import Tenant

DEFAULT_SINCE = timedelta(days=30)


@dataclass(frozen=True)
class Rating:
    order_id: str
    score: int
    comment: str


@dataclass(frozen=True)
class FeedbackPage:
    items: list[Feedback]
    next_cursor: str | None


class FeedbackService:
    def __init__(self, store: FeedbackStore, ledger: LedgerStore, notifier: Notifier, attempts: int) -> None:
        self.store = store
        self.ledger = ledger
        self.notifier = notifier
        self.writes = MemberWrite(ledger, attempts)

    def rate(self, tenant: Tenant, member_id: str, rating: Rating, now: datetime) -> Feedback:
        """Keep the member's rating of their paid order, reward it (if the shop does) and tell the staff of a low one."""
        if not valid_score(rating.score) or len(rating.comment) > MAX_COMMENT:
            raise Unprocessable("score is 1 to 5 and a comment at most 1000 characters", code="validation_error")
        tid = tenant.tenant_id
        paid = self.ledger.load_order(tid, rating.order_id).paid
        if paid is None or paid.member_id != member_id:
            raise NotFound("no such paid order of yours", code="order_not_found")
        if self.store.get(tid, rating.order_id) is not None:
            raise Conflict("this order is rated already", code="feedback_exists")
        points = tenant.program_at(now).settings.cabinet.feedback_reward_points
        if points > 0:
            self._reward(tenant, member_id, rating.order_id, points, now)
        feedback = Feedback(
            tenant_id=tid,
            order_id=rating.order_id,
            member_id=member_id,
            score=rating.score,
            comment=rating.comment,
            created_at=now,
            reward_points=points,
        )
        if not self.store.add(tid, feedback):  # another request rated it first
            raise Conflict("this order is rated already", code="feedback_exists")
        metrics.add_metric(name=f"Feedback_{rating.score}", unit=MetricUnit.Count, value=1)
        if is_complaint(rating.score):
            self._tell_staff(tenant, feedback, now)
        return feedback

    def listed(
        self, tenant_id: str, since: datetime | None, cursor: str | None, limit: int, now: datetime
    ) -> FeedbackPage:
        """Ratings created at or after ``since`` (default: 30 days ago), oldest first; one Query per month read."""
        position = position_of(cursor, now) if cursor else start(since or now - DEFAULT_SINCE, now)
        found: list[Feedback] = []
        for month in months(position.month, now):
            after = position.after if month == position.month else ""
            found += self.store.listed(tenant_id, month, after, limit + 1 - len(found))
            if len(found) > limit:
                break
        if len(found) <= limit:
            return FeedbackPage(found, None)
        last = found[limit - 1]
        return FeedbackPage(
            found[:limit], cursor_of(Position(month_of(last.created_at), list_key(last.created_at, last.order_id)))
        )

    def _reward(self, tenant: Tenant, member_id: str, order_id: str, points: int, now: datetime) -> None:
        """The reward's lot, once per order: a retry finds its entry (a duplicate) and changes nothing."""
        lifetime = timedelta(days=tenant.program_at(now).settings.lifetime_days)
        key = business_key(order_scope(order_id), FEEDBACK_REWARD)

        def step(loaded: Loaded) -> Change[bool]:
            ledger, movement = credit(
                loaded.account.ledger, "grant", [Credit(points, "grant", now, now + lifetime)], now
            )
            entry = EntryRecord(
                scope=order_scope(order_id),
                key=FEEDBACK_REWARD,
                member_id=member_id,
                movement=movement,
                reference=f"feedback:{order_id}",
                created_at=now,
            )
            return Change(result=True, account=loaded.account.with_ledger(ledger), entries=(entry,))

        self.writes.apply(tenant, member_id, step, now, on_duplicate=lambda dup: False if dup.key == key else None)

    def _tell_staff(self, tenant: Tenant, feedback: Feedback, now: datetime) -> None:
        """A complaint to act on, on the shop's staff topic (none bound: nobody to tell)."""
        if not tenant.staff_topic_arn:
            return
        subject, text = complaint(tenant.tenant_id, feedback, tenant.program_at(now).settings.language)
        delivery = self.notifier.staff(tenant.staff_topic_arn, subject, text)
        if delivery.status != "sent":  # the rating stays; the merchant's list still shows it
            logger.warning("complaint not published", extra={"status": delivery.status, "order_id": feedback.order_id})
            metrics.add_metric(name="FeedbackComplaintNotSent", unit=MetricUnit.Count, value=1)
