"""The customer cabinet, the cabinet's web page (item 7): HTML, script and style served by the stack (issue 16)."""

from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)
