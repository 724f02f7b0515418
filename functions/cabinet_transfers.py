"""The customer cabinet, a transfer to a friend from the cabinet (item 5): by the friend's phone, e-mail or referral code (issue 16)."""

from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)
