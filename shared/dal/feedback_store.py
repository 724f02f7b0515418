"""DynamoDB implementation of ``FeedbackStore`` (issue 16 item 6): customers' ratings of paid orders.

Two items of the ledger table per rating (``FeedbackItem``): the order's record in the order's partition (sk
``FEEDBACK``), created only if absent, and its copy in the tenant's list of the UTC month (``FEEDBACK#<yyyy-mm>``, sort
key ``<created_at>#<order>``), both in one TransactWriteItems, so that the list holds exactly the orders' ratings. The
list is read by one Query per month, never by a Scan. Throttling and server errors raise ``StoreUnavailable``.
"""

from __future__ import annotations

from pynamodb.transactions import TransactWrite

from shared.dal.models import FeedbackItem
from shared.dal.transactions import conditional_transaction, guard
from shared.feedback import Feedback, list_key, month_of
from shared.keys import FEEDBACK, feedback_month_scope, order_scope, tenant_pk


def record_pk(tenant: str, order_id: str) -> str:
    return tenant_pk(tenant, order_scope(order_id))


def list_pk(tenant: str, month: str) -> str:
    return tenant_pk(tenant, feedback_month_scope(month))


def feedback_item(pk: str, sk: str, feedback: Feedback) -> FeedbackItem:
    return FeedbackItem(
        pk,
        sk,
        tenant_id=feedback.tenant_id,
        order_id=feedback.order_id,
        member_id=feedback.member_id,
        score=feedback.score,
        comment=feedback.comment or None,
        created_at=feedback.created_at,
        reward_points=feedback.reward_points,
    )


def feedback_from(item: FeedbackItem) -> Feedback:
    return Feedback(
        tenant_id=item.tenant_id,
        order_id=item.order_id,
        member_id=item.member_id,
        score=int(item.score),
        comment=item.comment or "",
        created_at=item.created_at,
        reward_points=int(item.reward_points or 0),
    )


class DynamoFeedbackStore:
    """``FeedbackStore`` over the ledger table: one request per method."""

    def add(self, tenant: str, feedback: Feedback) -> bool:
        record = feedback_item(record_pk(tenant, feedback.order_id), FEEDBACK, feedback)
        listed = feedback_item(
            list_pk(tenant, month_of(feedback.created_at)), list_key(feedback.created_at, feedback.order_id), feedback
        )

        def write(tx: TransactWrite) -> None:
            tx.save(record, condition=FeedbackItem.pk.does_not_exist())
            tx.save(listed, condition=FeedbackItem.pk.does_not_exist())

        return conditional_transaction(write)

    def get(self, tenant: str, order_id: str) -> Feedback | None:
        try:
            item = guard(lambda: FeedbackItem.get(record_pk(tenant, order_id), FEEDBACK, consistent_read=True))
        except FeedbackItem.DoesNotExist:
            return None
        return feedback_from(item)

    def listed(self, tenant: str, month: str, after: str, limit: int) -> list[Feedback]:
        after_key = FeedbackItem.sk > after if after else None  # a key is never empty: no condition reads all
        query = FeedbackItem.query(
            list_pk(tenant, month), after_key, limit=limit, consistent_read=True, page_size=limit
        )
        return [feedback_from(item) for item in guard(lambda: list(query))]
