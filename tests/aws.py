"""Emulated-AWS helpers of the tests: tables are built from infra/resources.json, never from the models (docs/spec.md §10).

The translation of the template (keys, attribute definitions, indexes, billing mode; table names from
``TENANTS_TABLE`` / ``LEDGER_TABLE``, defaults ``loyalty-tenants`` / ``loyalty-ledger``) lives in
``scripts/infra_tables.py`` so that ``make run`` and the tests create exactly the same tables.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scripts.infra_tables import TEMPLATE, create_tables_from_infra, table_specs

__all__ = ["TEMPLATE", "create_tables_from_infra", "table_specs", "template_tables"]


def template_tables(template: Path = TEMPLATE) -> dict[str, dict[str, Any]]:
    """The ``AWS::DynamoDB::Table`` resources of the template by logical id (their ``Properties``)."""
    resources = json.loads(template.read_text())["Resources"]
    return {name: res["Properties"] for name, res in resources.items() if res.get("Type") == "AWS::DynamoDB::Table"}
