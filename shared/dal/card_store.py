"""DynamoDB implementation of the ``CardStore`` port: the customer's digital card (issue 16 item 4).

Two item kinds of the ledger table (``shared.dal.models``; layout in infra/ACCESS_PATTERNS.md): the member's current
card (``MemberCardItem``, in the member's partition) and a card's look-up by its token's digest (``CardItem``, its
own ``CARD#`` partition). Both change together in one TransactWriteItems, never by a read followed by a write: a
first card is put under "the member has none" and "no such look-up"; a rotation puts the new look-up, ends the old
one and replaces the member's card under "still the digest read", so that of two concurrent rotations one commits
and the other changes nothing. An ended look-up resolves to nothing at once (consistent reads) and is removed by its
``ttl`` later: the API's role deletes nothing. Throttling and server errors raise ``StoreUnavailable``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.transactions import TransactWrite

from shared.card import Card
from shared.dal.models import CardItem, MemberCardItem
from shared.dal.transactions import LOST_RACE, conditional_transaction, guard
from shared.keys import CARD, card_scope, member_pk, tenant_pk

ENDED_LIFE = timedelta(days=30)  # an ended look-up's record outlives its end by this much (then DynamoDB removes it)


def card_pk(tenant: str, digest: str) -> str:
    return tenant_pk(tenant, card_scope(digest))


def ended_ttl(at: datetime) -> int:
    return int((at + ENDED_LIFE).timestamp())


def member_card_item(tenant: str, card: Card) -> MemberCardItem:
    return MemberCardItem(
        member_pk(tenant, card.member_id), CARD, token=card.token, digest=card.digest, issued_at=card.issued_at
    )


def look_up_item(tenant: str, card: Card) -> CardItem:
    return CardItem(card_pk(tenant, card.digest), CARD, member_id=card.member_id, issued_at=card.issued_at)


class DynamoCardStore:
    """``CardStore`` over the ledger table: one request per method."""

    def card(self, tenant: str, member_id: str) -> Card | None:
        try:
            item = guard(lambda: MemberCardItem.get(member_pk(tenant, member_id), CARD, consistent_read=True))
        except MemberCardItem.DoesNotExist:
            return None
        return Card(member_id=member_id, token=item.token, digest=item.digest, issued_at=item.issued_at)

    def create(self, tenant: str, card: Card) -> bool:
        def write(tx: TransactWrite) -> None:
            tx.save(member_card_item(tenant, card), condition=MemberCardItem.pk.does_not_exist())
            tx.save(look_up_item(tenant, card), condition=CardItem.pk.does_not_exist())

        return conditional_transaction(write, LOST_RACE)

    def rotate(self, tenant: str, old: Card, new: Card) -> bool:
        ended = CardItem(card_pk(tenant, old.digest), CARD)
        current = MemberCardItem(member_pk(tenant, old.member_id), CARD)

        def write(tx: TransactWrite) -> None:
            tx.save(look_up_item(tenant, new), condition=CardItem.pk.does_not_exist())
            tx.update(
                ended,
                actions=[CardItem.ended_at.set(new.issued_at), CardItem.ttl.set(ended_ttl(new.issued_at))],
                condition=(CardItem.member_id == old.member_id) & CardItem.ended_at.does_not_exist(),
            )
            tx.update(
                current,
                actions=[
                    MemberCardItem.token.set(new.token),
                    MemberCardItem.digest.set(new.digest),
                    MemberCardItem.issued_at.set(new.issued_at),
                ],
                condition=MemberCardItem.digest == old.digest,
            )

        return conditional_transaction(write, LOST_RACE)

    def member_of(self, tenant: str, digest: str) -> str | None:
        try:
            item = guard(lambda: CardItem.get(card_pk(tenant, digest), CARD, consistent_read=True))
        except CardItem.DoesNotExist:
            return None
        return None if item.ended_at is not None else str(item.member_id)
