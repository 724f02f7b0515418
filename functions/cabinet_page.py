"""The customer cabinet, the cabinet's web page (item 7): HTML, script and style served by the stack (issue 16).

One HTML page, one script and one style sheet from functions/static/, no build step (decision: the page). They are
the same for every shop: nothing is read from a table to serve them; the script asks ``GET {base}/shop`` for the
title, colour and language, and the customer's routes for the rest. The page addresses its assets relatively
(``cabinet/app.js``) and the API from its own path, so it works behind API Gateway's stage, the emulator's path-style
URL or a CDN alike.

The HTML is never cached without asking (``no-cache``); the assets are named by a hash of their content in the
page's links (``?v=``), so a browser may keep them for a year and a new deployment's page asks for new ones.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from urllib.parse import urlencode

from chalice import Blueprint, Response

from functions.customer import PREFIX
from functions.http import api_view

bp = Blueprint(__name__)

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}

# Only the page's own script and style; no inline script or style (the colour is set through the CSSOM), images
# from the page or data: URLs (the card's QR code), requests to the page's own origin only; never framed.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


@functools.cache
def asset(name: str) -> tuple[str, str]:
    """A static file's text and a short hash of it (read once per container, on first use: no cold-start cost)."""
    text = (STATIC / name).read_text(encoding="utf-8")
    return text, hashlib.sha256(text.encode()).hexdigest()[:12]


@functools.cache
def page() -> str:
    html, _ = asset("index.html")
    for name in ASSETS:
        html = html.replace(f"cabinet/{name}", f"cabinet/{name}?v={asset(name)[1]}")
    return html


def served(body: str, content_type: str, cache: str) -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": content_type, "Cache-Control": cache, **SECURITY}
    return Response(body=body, status_code=200, headers=headers)


@bp.route(PREFIX, methods=["GET"])
@api_view
def cabinet_page(tenant_id: str) -> Response:
    """The page of any shop's cabinet; an unknown or closed shop is told by its ``shop`` answer, shown by the page."""
    request = bp.current_request
    if str((request.context or {}).get("path") or "").endswith("/"):
        # ".../cabinet/": the page's relative links would miss; the same page and query without the slash (RFC 9110
        # allows a relative Location)
        params = request.query_params
        query = urlencode([(name, value) for name in params or () for value in params.getlist(name)]) if params else ""
        location = "../cabinet" + (f"?{query}" if query else "")
        return Response(body="", status_code=308, headers={"Location": location, "Cache-Control": "no-cache"})
    return served(page(), "text/html; charset=utf-8", "no-cache")


@bp.route(PREFIX + "/app.js", methods=["GET"])
@api_view
def cabinet_script(tenant_id: str) -> Response:
    return served(asset("app.js")[0], ASSETS["app.js"], "public, max-age=31536000, immutable")


@bp.route(PREFIX + "/app.css", methods=["GET"])
@api_view
def cabinet_style(tenant_id: str) -> Response:
    return served(asset("app.css")[0], ASSETS["app.css"], "public, max-age=31536000, immutable")
