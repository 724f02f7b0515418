"""One intake for every order webhook (issue 15 item 6): the standard webhook and the platforms' adapters read their
deliveries into the same commands (shared/webhooks/commands.py); this service maps each command to its use case of
``OrderService`` and decides what a failure becomes.

The senders keep their two contracts:

- ``apply``, the standard webhook: the sender is the merchant's own integration, which reads a 4xx and fixes the
  event, so a failure leaves as raised (the HTTP layer answers it). Its bounds were checked with its fields.
- ``settle``, Shopify, Stripe and WooCommerce: a platform disables an endpoint that keeps failing, so once the
  delivery is within bounds (all of it or none of it, 422) what can never succeed is answered 200: ``ignored`` when
  the order is unknown here, ``rejected`` for a business refusal (another currency, too few points), logged and
  counted. Only a transient fault (5xx) leaves as raised, so that the platform retries.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from shared.api_models import MEMBER_ID_PATTERN
from shared.contacts import normalize_email, normalize_phone
from shared.errors import AppError, NotFound, Unprocessable
from shared.hold_codes import hold_id_for
from shared.observability import logger
from shared.services.orders import CustomerIn, OrderResult, OrderService, PaidOrderIn
from shared.services.store import LedgerStore
from shared.tenants import Tenant
from shared.webhooks.bounds import check_command
from shared.webhooks.commands import Cancel, Command, Delivery, Ignore, Paid, Refund, Reject

MEMBER_ID = re.compile(MEMBER_ID_PATTERN)


class WebhookIntake:
    def __init__(self, orders: OrderService, store: LedgerStore) -> None:
        self.orders = orders
        self.store = store

    def apply(self, tenant: Tenant, delivery: Delivery, event_id: str, now: datetime) -> list[OrderResult]:
        """The standard webhook's commands, each answered by its use case; any failure is raised."""
        return [self._applied(tenant, command, event_id, now) for command in delivery.commands]

    def settle(self, tenant: Tenant, delivery: Delivery, event_id: str, now: datetime) -> list[OrderResult]:
        """A platform's commands: a 422 when one is out of bounds, else one result each, failures as results."""
        for command in delivery.commands:  # all of a delivery is within bounds, or none of it is applied
            check_command(command, now)
        return [self._settled(tenant, command, event_id, now) for command in delivery.commands]

    def _settled(self, tenant: Tenant, command: Command, event_id: str, now: datetime) -> OrderResult:
        try:
            return self._applied(tenant, command, event_id, now)
        except NotFound as exc:  # an order never paid here: nothing to do, and nothing a retry would change
            return OrderResult(status="ignored", order_id=order_id_of(command), reason=exc.code)
        except AppError as exc:
            if exc.status >= 500:
                raise
            logger.warning("platform event rejected", extra={"code": exc.code})
            return OrderResult(status="rejected", order_id=order_id_of(command), reason=exc.code)

    def _applied(self, tenant: Tenant, command: Command, event_id: str, now: datetime) -> OrderResult:
        logger.append_keys(order_id=order_id_of(command) or None)  # a delivery may carry several orders' commands
        if isinstance(command, Paid):
            return self.orders.paid(tenant, paid_order(command), event_id, now)
        if isinstance(command, Refund):
            return self._refund(tenant, command, event_id, now)
        if isinstance(command, Cancel):
            if command.only_if_earned and not self._earned(tenant, command.order_id):
                return OrderResult(status="ignored", order_id=command.order_id, reason="order_not_earned")
            return self.orders.refunded(tenant, command.order_id, "CANCEL", None, event_id, now)
        if isinstance(command, Reject):
            raise Unprocessable("the delivery cannot be applied", code=command.reason)
        return ignored(command)

    def _refund(self, tenant: Tenant, command: Refund, event_id: str, now: datetime) -> OrderResult:
        """A refund in the tenant's currency; one in another currency is refused, never read as the order's."""
        currency = tenant.current.settings.currency
        if command.currency is not None and command.currency != currency:
            raise Unprocessable(
                f"the refund is in {command.currency}, the orders in {currency}", code="refund_currency_mismatch"
            )
        return self.orders.refunded(
            tenant,
            command.order_id,
            command.refund_id,
            command.amount_minor,
            event_id,
            now,
            command.cumulative_minor,
            items=command.items or None,
        )

    def _earned(self, tenant: Tenant, order_id: str) -> bool:
        """Whether the order was paid here (or voided: the service then answers ``order_cancelled``). A PAID entry
        is never removed, so a cancellation applied after this read cannot meet an order that has not earned."""
        state = self.store.load_order(tenant.tenant_id, order_id)
        return state.paid is not None or state.voided


def ignored(command: Ignore) -> OrderResult:
    """What a delivery that asks for nothing answers (also WooCommerce's ping, before any tenant is known)."""
    return OrderResult(status="ignored", order_id="", reason=command.reason)


def order_id_of(command: Command) -> str:
    return str(getattr(command, "order_id", ""))


def paid_order(paid: Paid) -> PaidOrderIn:
    """The use case's input. A platform's customer id was never checked against the member id's pattern (the
    standard webhook's model checks it): one that cannot be a member id is refused."""
    c = paid.customer
    if not MEMBER_ID.fullmatch(c.member_id):  # whole: `$` alone would let a trailing newline through
        raise Unprocessable("the customer's id cannot be a member id", code="invalid_member_id")
    customer = CustomerIn(
        member_id=c.member_id,
        email=contact(normalize_email, c.email, "e-mail"),
        phone=contact(normalize_phone, c.phone, "phone"),
        name=c.name,
        birthday=c.birthday.isoformat() if c.birthday else None,
        referral_code=c.referral_code,
    )
    return PaidOrderIn(
        order_id=paid.order_id,
        customer=customer,
        currency=paid.currency,
        cart=replace(paid.cart, lines=paid.lines),  # the lines carry the categories and SKUs the rules weigh
        points_redeemed=paid.points_redeemed,
        hold_id=paid.hold_id,
        paid_at=paid.paid_at,
        hold_code=next((code for code in paid.hold_codes if hold_id_for(code)), None),
    )


def contact(normalize: Callable[[str], str], value: object, what: str) -> str | None:
    """Contact data on an order is best effort: an unusable value must not block the points."""
    try:
        return normalize(str(value)) if value else None
    except Unprocessable:
        logger.warning(f"order carries an invalid {what}; ignored")  # never the value itself
        return None
