"""The customer cabinet, feedback on a paid order (item 6): the customer's rating and the merchant's list (issue 16)."""

from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)
