"""The cabinet's web page as the app serves it (issue 16 item 7): HTML, script and style with a strict policy, within
the size budget; the browser tests (tests/deployed/test_cabinet_browser.py) use it through API Gateway."""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any

from tests.conftest import TenantCreds

STATIC = Path(__file__).resolve().parents[2] / "functions" / "static"
BUDGET = 100 * 1024  # JavaScript and CSS, compressed


def test_the_page_links_its_assets_by_hash_under_a_policy_without_inline_code(client: Any, tenant: TenantCreds) -> None:
    # When the cabinet's page of a shop is asked for
    answer = client.http.get(f"/v1/tenants/{tenant.tenant_id}/cabinet")
    # Then it is HTML that no cache keeps without asking, under a CSP with no inline script or style, never framed
    assert answer.status_code == 200
    headers = answer.headers
    assert headers["Content-Type"] == "text/html; charset=utf-8" and headers["Cache-Control"] == "no-cache"
    csp = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
    assert csp["default-src"] == "'none'" and csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'" and "unsafe" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "no-referrer"
    # And its script and style are linked relatively, named by a hash of their content
    html = answer.body.decode()
    links = re.findall(r'(?:src|href)="(cabinet/app\.(?:js|css))\?v=([0-9a-f]{12})"', html)
    assert [name for name, _ in links] == ["cabinet/app.css", "cabinet/app.js"]
    # And nothing in it needs 'unsafe-inline': no inline script, no style attribute or element, no handler attribute
    assert not re.search(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", html)


def test_the_assets_are_cached_for_a_year_and_fit_the_budget(client: Any) -> None:
    total = 0
    for name, kind in (("app.js", "text/javascript"), ("app.css", "text/css")):
        # When an asset is asked for (of any shop: they are the same for all, nothing is read for them)
        answer = client.http.get(f"/v1/tenants/any-shop/cabinet/{name}")
        # Then it is served with its type, kept for a year, never sniffed
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith(kind)
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.body == (STATIC / name).read_bytes()
        total += len(gzip.compress(answer.body, compresslevel=9))
    # And together, compressed, they are within the budget of issue 16
    assert total <= BUDGET, total


def test_the_page_with_a_trailing_slash_redirects_to_the_page_keeping_the_query(client: Any) -> None:
    # When the page is asked for with a trailing slash (its relative links would miss) and a rating link's query
    answer = client.http.get("/v1/tenants/shop/cabinet/?rate=o-1")
    # Then it answers a permanent redirect to the page without the slash, relative to where the browser is
    assert answer.status_code == 308
    assert answer.headers["Location"] == "../cabinet?rate=o-1"


def test_the_script_builds_text_with_the_dom_and_styles_through_the_cssom() -> None:
    # Given the script and the style sheet as they ship
    script = (STATIC / "app.js").read_text()
    # Then the script never parses markup (innerHTML, document.write, eval), so nothing the API says can run
    assert not re.search(r"\binnerHTML\b|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function", script)
    # And it sets styles through the CSSOM only (a style attribute would need 'unsafe-inline')
    assert 'setAttribute("style"' not in script and "setAttribute('style'" not in script
