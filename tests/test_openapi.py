"""The OpenAPI document lists exactly the app's routes and is current with the request models."""

from __future__ import annotations

import json
from pathlib import Path

from scripts import openapi

ROOT = Path(__file__).resolve().parents[1]


def _app_routes() -> set[tuple[str, str]]:
    from app import app

    return {(path, method.lower()) for path, methods in app.routes.items() for method in methods}


def test_every_route_is_documented_and_every_documented_route_exists() -> None:
    # Given the committed document and the Chalice route table
    document = json.loads((ROOT / "docs" / "openapi.json").read_text())
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    # Then both list the same (path, method) pairs
    assert documented == _app_routes()


def test_committed_document_matches_the_generator() -> None:
    # Given the generator over today's models, when it renders, then the committed file is identical
    assert (ROOT / "docs" / "openapi.json").read_text() == openapi.render(), "run: python scripts/openapi.py"


def test_request_bodies_reference_known_schemas() -> None:
    document = openapi.build()
    schemas = document["components"]["schemas"]
    for ops in document["paths"].values():
        for op in ops.values():
            body = op.get("requestBody")
            if body:
                ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
                assert ref in schemas
    assert {"OrderPaidData", "OrderRefundedData", "OrderCancelledData", "Error"} <= set(schemas)
