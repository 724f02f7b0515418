"""The customer cabinet, the digital card (item 4): a QR code of an opaque card token, its rotation, and the till's look-up by card (issue 16)."""

from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)
