"""axe-core from the npm registry for the accessibility scan: the release tarball, downloaded once into build/ and
checked against the sha512 integrity of the registry's metadata (pinned here too: a changed tarball is refused)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import urllib.request
from typing import Any

from scripts.localenv import ROOT

VERSION = "4.14.1"
INTEGRITY = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
REGISTRY = "https://registry.npmjs.org/axe-core"
CACHE = ROOT / "build" / "axe-core"
BLOCKING = ("serious", "critical")


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return bytes(response.read())


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def axe_script() -> str:
    """axe.min.js of axe-core ``VERSION``, from build/ or else from the registry (metadata, then the tarball)."""
    script = CACHE / f"axe-{VERSION}.min.js"
    if script.exists():
        return script.read_text(encoding="utf-8")
    dist = json.loads(_get(f"{REGISTRY}/{VERSION}"))["dist"]
    if dist["integrity"] != INTEGRITY:
        raise RuntimeError(f"axe-core {VERSION}: the registry's integrity {dist['integrity']} is not the pinned one")
    tarball = _get(dist["tarball"])
    if _integrity(tarball) != INTEGRITY:
        raise RuntimeError(f"axe-core {VERSION}: the tarball does not match its integrity {INTEGRITY}")
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        member = archive.extractfile("package/axe.min.js")
        if member is None:
            raise RuntimeError(f"axe-core {VERSION}: no package/axe.min.js in the tarball")
        text = member.read().decode("utf-8")
    CACHE.mkdir(parents=True, exist_ok=True)
    script.write_text(text, encoding="utf-8")
    return text


def violations(page: Any) -> list[dict[str, Any]]:
    """The serious and critical findings of axe on the page as it is now (WCAG 2.x A and AA rules and best practices),
    each with the rule, its help and the selectors of the offending nodes."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # evaluated through the DevTools protocol, which the page's CSP does not govern (an injected <script> tag
        # would be refused by script-src 'self', as it should be)
        page.evaluate(axe_script() + "\n;undefined")
    found = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' '))}));
        }"""
    )
    return [v for v in found if v["impact"] in BLOCKING]


def describe(found: list[dict[str, Any]]) -> str:
    return "\n".join(f"{v['impact']}: {v['id']} ({v['help']}) at {', '.join(v['nodes'][:5])}" for v in found)
