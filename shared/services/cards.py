"""The digital card instead of plastic (issue 16 item 4): the customer's card shown as a QR code in the cabinet, its
rotation (a lost phone), and the till's look-up of a scanned card.

The first time the cabinet asks, the member's card is created; two concurrent first calls end with one card (the
store's conditional transaction: the loser reads the winner's). A rotation replaces the token: the old one resolves
to nothing from the moment the new one is stored; of two concurrent rotations one commits, and the other answers the
card it committed (the token the customer saw is dead either way, which is what a rotation is for).
"""

from __future__ import annotations

from datetime import datetime

from shared.card import Card, card_digest, issue, normalized
from shared.errors import NotFound, Transient, Unprocessable
from shared.ports import CardStore

ATTEMPTS = 3  # reads and conditional writes before a request gives up (503): only a storm of concurrent writes


class CardBusy(Transient):
    """The member's card kept changing under this request: answered 503, the page asks again."""


class CardService:
    def __init__(self, store: CardStore) -> None:
        self.store = store

    def card(self, tenant_id: str, member_id: str, now: datetime) -> Card:
        """The member's current card; the first call creates it."""
        for _ in range(ATTEMPTS):
            found = self.store.card(tenant_id, member_id)
            if found is not None:
                return found
            new = issue(member_id, now)
            if self.store.create(tenant_id, new):
                return new
        raise CardBusy("the card is being changed; try again", code="card_busy")

    def rotate(self, tenant_id: str, member_id: str, now: datetime) -> Card:
        """A new token for the member's card; the old one stops resolving at once. Without a card yet: the first."""
        for _ in range(ATTEMPTS):
            read = self.store.card(tenant_id, member_id)
            new = issue(member_id, now)
            if read is None:
                if self.store.create(tenant_id, new):
                    return new
                continue
            if self.store.rotate(tenant_id, read, new):
                return new
            now_stored = self.store.card(tenant_id, member_id)
            if now_stored is not None and now_stored.digest != read.digest:  # a concurrent rotation replaced it
                return now_stored
        raise CardBusy("the card is being changed; try again", code="card_busy")

    def member_of(self, tenant_id: str, token: str) -> str:
        """The member whose live card ``token`` is (as a till scanned or typed it): 422 ``invalid_card_token`` for
        what is no card token at all (a product's barcode), 404 ``card_not_found`` for an unknown or rotated one."""
        issued = normalized(token)
        if issued is None:
            raise Unprocessable("this is not a card token", code="invalid_card_token")
        member_id = self.store.member_of(tenant_id, card_digest(issued))
        if member_id is None:
            raise NotFound("no such card", code="card_not_found")
        return member_id
