"""The OpenAPI document is valid OpenAPI 3.1, lists exactly the app's routes and is current with the request and
response models."""

from __future__ import annotations

import json
from pathlib import Path

from scripts import openapi

ROOT = Path(__file__).resolve().parents[1]
PAGE_MEDIA = {"text/html", "text/javascript", "text/css"}


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


def test_the_document_is_valid_openapi_3_1() -> None:
    # Given the committed document
    from openapi_spec_validator import OpenAPIV31SpecValidator, validate

    document = json.loads((ROOT / "docs" / "openapi.json").read_text())
    # When openapi-spec-validator checks it as 3.1, then it raises nothing
    assert document["openapi"].startswith("3.1")
    validate(document, cls=OpenAPIV31SpecValidator)


def test_every_operation_documents_a_schema_for_every_answer() -> None:
    # Given the generated document
    document = openapi.build()
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            # Then every answer, success or error, has a JSON schema, and every JSON route documents 413 and 415
            for status, response in op["responses"].items():
                if status == "200" and set(response["content"]) <= PAGE_MEDIA:  # the cabinet's page and assets
                    continue
                assert response["content"]["application/json"]["schema"]["$ref"], (method, path, status)
            assert "415" in op["responses"], (method, path)
            if "requestBody" in op:
                assert "413" in op["responses"], (method, path)
            # And every path parameter is declared with its schema
            names = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert names == {part[1:-1] for part in path.split("/") if part.startswith("{")}


def test_path_parameters_carry_the_patterns_the_server_enforces() -> None:
    # Given the generated document, when the member and grant ids are read, then they carry the handlers' patterns
    from shared.api_models import GrantId, MemberId

    params = {
        p["name"]: p["schema"]
        for ops in openapi.build()["paths"].values()
        for op in ops.values()
        for p in op.get("parameters", [])
        if p["in"] == "path"
    }
    assert params["member_id"]["pattern"] == MemberId.__metadata__[0].pattern
    assert params["grant_id"]["pattern"] == GrantId.__metadata__[0].pattern


def test_request_bodies_reference_known_schemas() -> None:
    # Given the generated document, then every request body names a component schema
    document = openapi.build()
    schemas = document["components"]["schemas"]
    for ops in document["paths"].values():
        for op in ops.values():
            body = op.get("requestBody")
            if body:
                ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
                assert ref in schemas
    assert {"OrderPaidData", "OrderRefundedData", "OrderCancelledData", "Error"} <= set(schemas)


def test_put_program_documents_a_patch_as_the_server_merges_it() -> None:
    # Given the generated document
    document = openapi.build()
    body = document["paths"]["/v1/tenants/{tenant_id}/program"]["put"]["requestBody"]["content"]["application/json"]
    patch = document["components"]["schemas"][body["schema"]["$ref"].rsplit("/", 1)[1]]
    # Then no field is required (a subset keeps the rest), while GET's answer carries every setting and the version
    assert "required" not in patch
    assert {"currency", "version"} <= set(document["components"]["schemas"]["ProgramOut"]["required"])
