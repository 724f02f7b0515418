"""The customer cabinet, the questionnaire and consent (item 3): name, birthday, a new contact confirmed by a code, consent per channel (issue 16)."""

from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)
