"""Performance benchmark (`make bench`): DynamoDB requests and capacity per API operation, cold import, package size,
init per function and latency per request type.

Every operation goes through the real HTTP handlers in-process (``chalice.test.Client``) against ``ministack``, an
emulator that reports realistic consumed capacity (moto's figures are fake). The bench starts ministack on a free
port, builds the tables, creates a tenant, warms the container up and measures each operation once in steady state,
plus the first (cold) call of a fresh container. It also times the cold import of ``app`` against ``boto3`` alone
(fresh interpreters, Lambda-like environment) and measures the deployment package of `make package`. With that
package it times each function's init as Lambda measures it (scripts/bench_init.py), then deploys it on ministack and
measures p50/p99 per request type through API Gateway -> Lambda beside `chalice local` (scripts/bench_latency.py).

Output: a table on stdout and ``build/bench.json``. A missed target prints MISSED; the exit status is non-zero only
when the bench itself fails (an operation answers an unexpected status, the emulator does not start, ...).
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import asdict, dataclass, field
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

if str(Path(__file__).resolve().parent.parent) not in sys.path:  # run as a file (`make bench`)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts import ministack

if TYPE_CHECKING:
    from scripts.bench_expiry import ExpiryRun
    from scripts.bench_reminders import StageRun

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
REGION = "us-east-1"
TENANT_ID = "bench"
WRITE_APIS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
READ_APIS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})
MAX_WRITE_WCU = 4.0
MAX_MEMBER_READS = 2
MAX_IMPORT_RATIO = 2.0
IMPORT_RUNS = 5
SWEEP_ORDERS = 50
SWEEP_CHECKPOINTS = (1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 50)
ORDER_TOTAL = 100_000  # 1000.00 RUB: earns 50 points at the default 5 %
# What `import app` pulls in, step by step (each step's marginal cost is measured in one fresh interpreter).
IMPORT_CHAIN = (
    ("botocore", "import botocore.session"),
    ("pynamodb", "import pynamodb.models, pynamodb.transactions"),
    ("pydantic", "from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError"),
    (
        "powertools",
        "import aws_lambda_powertools.logging, aws_lambda_powertools.metrics, aws_lambda_powertools.tracing",
    ),
    ("chalice", "import chalice"),
    ("shared.observability (Tracer, patch)", "import shared.observability"),
    ("shared (domain, DAL, services)", "import shared.container, shared.api_models, shared.presenters"),
    ("functions (routes)", "import functions.checkout, functions.members, functions.program, functions.webhooks"),
    ("app (wiring)", "import app"),
)


# --- what one DynamoDB request cost ------------------------------------------------------------------------------


@dataclass
class WrittenItem:
    """One item a write request carried, with its size by DynamoDB's rules and its largest attributes."""

    table: str
    label: str
    size_bytes: int
    top_attributes: list[tuple[str, int]]

    @property
    def transactional_wcu(self) -> int:
        return 2 * max(1, -(-self.size_bytes // 1024))


@dataclass
class Call:
    api: str
    tables: list[str]
    table_units: float  # as ministack reports them (realistic for writes)
    index_units: float
    read_units: float = 0.0  # computed from the returned items' sizes (ministack's read figures are flat)
    items: list[WrittenItem] = field(default_factory=list)

    @property
    def is_write(self) -> bool:
        return self.api in WRITE_APIS

    @property
    def is_read(self) -> bool:
        return self.api in READ_APIS


@dataclass
class Measurement:
    name: str
    status: int
    ms: float
    calls: list[Call]
    note: str = ""

    def count(self, apis: frozenset[str]) -> int:
        return sum(1 for c in self.calls if c.api in apis)

    @property
    def requests(self) -> dict[str, int]:
        return dict(Counter(c.api for c in self.calls))

    @property
    def table_wcu(self) -> float:
        return sum(c.table_units for c in self.calls if c.is_write)

    @property
    def index_wcu(self) -> float:
        return sum(c.index_units for c in self.calls if c.is_write)

    @property
    def rcu(self) -> float:
        return sum(c.read_units for c in self.calls if c.is_read)

    @property
    def rcu_reported(self) -> float:
        return sum(c.table_units + c.index_units for c in self.calls if c.is_read)

    def reads_of(self, table: str) -> int:
        return sum(1 for c in self.calls if c.is_read and table in c.tables)

    @property
    def written(self) -> list[WrittenItem]:
        return [item for c in self.calls for item in c.items]


# --- item size (DynamoDB's accounting: attribute names + values) -------------------------------------------------


def number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").lstrip("0").rstrip("0") or "0"
    return 1 + -(-len(digits) // 2) + (1 if text.startswith("-") else 0)


def value_size(value: dict[str, Any]) -> int:
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        return number_size(str(raw))
    if kind == "B":
        return len(raw) if isinstance(raw, bytes) else len(base64.b64decode(raw))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in raw.items())
    if kind == "SS":
        return sum(len(s.encode()) for s in raw)
    if kind == "NS":
        return sum(number_size(str(n)) for n in raw)
    return 0


def attribute_sizes(item: dict[str, Any]) -> dict[str, int]:
    return {name: len(name.encode()) + value_size(value) for name, value in item.items()}


def written_item(table: str, item: dict[str, Any]) -> WrittenItem:
    sizes = attribute_sizes(item)
    label = f"{item.get('type', {}).get('S', '?')}:{item.get('sk', {}).get('S', '?')}"
    top = sorted(sizes.items(), key=lambda kv: -kv[1])[:3]
    return WrittenItem(table, label, sum(sizes.values()), top)


def items_of(api: str, kwargs: dict[str, Any]) -> list[WrittenItem]:
    if api == "TransactWriteItems":
        puts = [op["Put"] for op in kwargs.get("TransactItems", []) if "Put" in op]
        return [written_item(p["TableName"], p["Item"]) for p in puts]
    if api == "PutItem":
        return [written_item(kwargs["TableName"], kwargs["Item"])]
    return []


def rcu_of(size_bytes: int | None, consistent: bool) -> float:
    """Read units of one item (or one Query page): 4 KB steps, at least one; half when eventually consistent."""
    units = max(1, -(-(size_bytes or 0) // 4096))
    return units * (1.0 if consistent else 0.5)


def item_size(item: dict[str, Any]) -> int:
    return sum(attribute_sizes(item).values())


def read_units(api: str, kwargs: dict[str, Any], data: dict[str, Any]) -> float:
    """What DynamoDB charges for a read, from the sizes of the items it returned."""
    consistent = bool(kwargs.get("ConsistentRead"))
    if api == "GetItem":
        return rcu_of(item_size(data["Item"]) if data.get("Item") else None, consistent)
    if api in ("Query", "Scan"):
        return rcu_of(sum(item_size(i) for i in data.get("Items", [])), consistent)
    if api == "BatchGetItem":
        total = 0.0
        for table, request in kwargs["RequestItems"].items():
            found = data.get("Responses", {}).get(table, [])
            strong = bool(request.get("ConsistentRead"))
            total += sum(rcu_of(item_size(i), strong) for i in found)
            total += (len(request.get("Keys", [])) - len(found)) * rcu_of(None, strong)
        return total
    return 0.0


def tables_of(kwargs: dict[str, Any]) -> list[str]:
    if "TableName" in kwargs:
        return [kwargs["TableName"]]
    if "RequestItems" in kwargs:
        return list(kwargs["RequestItems"])
    return sorted({op["TableName"] for item in kwargs.get("TransactItems", []) for op in item.values()})


def split_capacity(consumed: Any) -> tuple[float, float]:
    """(table units, index units) of a ConsumedCapacity (a dict, or a list of them for multi-table calls)."""
    table_units = index_units = 0.0
    for entry in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
        indexes = {**entry.get("GlobalSecondaryIndexes", {}), **entry.get("LocalSecondaryIndexes", {})}
        part = sum(float(i.get("WriteCapacityUnits", i.get("CapacityUnits", 0))) for i in indexes.values())
        if "WriteCapacityUnits" in entry:
            own = float(entry["WriteCapacityUnits"])
        elif "ReadCapacityUnits" in entry:
            own = float(entry["ReadCapacityUnits"])
        elif "Table" in entry:
            own = float(entry["Table"].get("CapacityUnits", 0))
        else:
            own = float(entry.get("CapacityUnits", 0)) - part
        table_units += own
        index_units += part
    return table_units, index_units


class Recorder:
    """Wraps PynamoDB's single door to botocore: asks for INDEXES capacity and records every request."""

    def __init__(self) -> None:
        self.calls: list[Call] | None = None

    def install(self) -> None:
        from pynamodb.connection.base import Connection

        original = Connection._make_api_call
        recorder = self

        def make_api_call(conn: Connection, operation_name: str, operation_kwargs: dict[Any, Any]) -> dict[Any, Any]:
            if "ReturnConsumedCapacity" in operation_kwargs:  # PynamoDB asks for TOTAL; INDEXES splits table/index
                operation_kwargs["ReturnConsumedCapacity"] = "INDEXES"
            data = original(conn, operation_name, operation_kwargs)
            if recorder.calls is not None:
                recorder.calls.append(recorder.call(operation_name, operation_kwargs, data))
            return data

        setattr(Connection, "_make_api_call", make_api_call)  # noqa: B010 (a method patch mypy cannot express)

    @staticmethod
    def call(api: str, kwargs: dict[str, Any], data: dict[str, Any]) -> Call:
        table_units, index_units = split_capacity((data or {}).get("ConsumedCapacity"))
        reads = read_units(api, kwargs, data or {}) if api in READ_APIS else 0.0
        return Call(api, tables_of(kwargs), table_units, index_units, reads, items_of(api, kwargs))

    @contextmanager
    def recording(self) -> Iterator[list[Call]]:
        self.calls = []
        try:
            yield self.calls
        finally:
            self.calls = None


# --- the emulator ------------------------------------------------------------------------------------------------


# --- the app under test ------------------------------------------------------------------------------------------


def stage_environment(stage: str = "dev") -> dict[str, str]:
    """The environment variables .chalice/config.json gives the API handler (the test client applies them to every
    request, so the tables and the tenant must be created under the same settings)."""
    path = ROOT / ".chalice" / "config.json"
    if not path.exists():
        return {}
    config = json.loads(path.read_text())
    stage_config = config.get("stages", {}).get(stage, {})
    handler = stage_config.get("lambda_functions", {}).get("api_handler", {})
    layers = (config, stage_config, handler)
    return {k: str(v) for layer in layers for k, v in layer.get("environment_variables", {}).items()}


def configure_environment(endpoint: str) -> None:
    os.environ.update(stage_environment())
    os.environ.update(
        AWS_REGION=REGION,
        AWS_DEFAULT_REGION=REGION,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_ENDPOINT_URL=endpoint,
        TENANT_CACHE_SECONDS="60",
        POWERTOOLS_TRACE_DISABLED="1",  # no X-Ray daemon in-process; tracing issues no DynamoDB request
        POWERTOOLS_METRICS_DISABLED="1",
        POWERTOOLS_LOG_LEVEL="ERROR",
    )
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


INFRA_LOADERS = ("tests.aws", "scripts.infra_tables")  # modules offering create_tables_from_infra(client)


def create_tables_from_infra(client: Any) -> str:
    """Build the tables from infra/resources.json with the project's own loader; the source used, or why not."""
    problems = []
    for name in INFRA_LOADERS:
        try:
            importlib.import_module(name).create_tables_from_infra(client)
        except (ImportError, AttributeError, FileNotFoundError) as exc:
            problems.append(f"{name}: {exc}")
            continue
        return f"infra/resources.json (via {name})"
    return "the PynamoDB models, infra/ unusable: " + "; ".join(problems)


def create_tables() -> str:
    """Tables from infra/ when the repo provides them, else (or for any table still missing) from the models."""
    import boto3  # type: ignore[import-untyped, unused-ignore]

    from shared.container import container

    client = boto3.client("dynamodb", region_name=REGION)
    settings = container().settings
    source = create_tables_from_infra(client)
    existing = set(client.list_tables()["TableNames"])
    if {settings.tenants_table, settings.ledger_table} - existing:
        from shared.dal.models import LedgerTable, TenantsTable

        for model in (TenantsTable, LedgerTable):
            if model.Meta.table_name not in existing:
                model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
                if source.startswith("infra/"):
                    source += f", but {model.Meta.table_name} from the PynamoDB models"
    return source


@dataclass(frozen=True)
class Creds:
    api_key: str
    secret: str
    tenant_id: str = TENANT_ID


def create_tenant(tenant_id: str = TENANT_ID, **rules: Any) -> Creds:
    from shared import clock
    from shared.container import container
    from shared.program import ProgramSettings

    program = ProgramSettings.model_validate({"currency": "RUB", **rules})
    created = container().tenants.create(tenant_id, program, clock.now())
    return Creds(created.api_key, created.tenant.webhook_secrets["standard"][0], tenant_id)


class Api:
    """The merchant's side: signed webhooks and Bearer calls through the Chalice test client."""

    def __init__(self, client: Any, creds: Creds) -> None:
        self.client = client
        self.creds = creds
        self.prefix = f"/v1/tenants/{creds.tenant_id}"

    def _auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.creds.api_key}", "content-type": "application/json"}

    def webhook(self, event: dict[str, Any]) -> Any:
        from shared.webhooks.standard import sign

        raw = json.dumps(event).encode()
        msg_id, ts = f"msg_{uuid.uuid4().hex}", int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(ts),
            "webhook-signature": sign(self.creds.secret, msg_id, ts, raw),
        }
        return self.client.http.post(f"{self.prefix}/webhooks/standard", body=raw, headers=headers)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.http.post(self.prefix + path, body=json.dumps(body), headers=self._auth())

    def get(self, path: str) -> Any:
        return self.client.http.get(self.prefix + path, headers=self._auth())

    # -- the operations ----------------------------------------------------------------------------------------

    def paid(self, member: str, order: str, items: int = 1, **data: Any) -> Any:
        return self.webhook(paid_event(member, order, items, **data))

    def refund(self, order: str, refund_id: str, amount: int) -> Any:
        from shared import clock

        data = {"order_id": order, "refund_id": refund_id, "amount_minor": amount}
        return self.webhook({"type": "order.refunded", "timestamp": clock.iso(clock.now()), "data": data})

    def quote(self, member: str) -> Any:
        return self.post("/checkout/quote", {"member_id": member, "currency": "RUB", "total_minor": ORDER_TOTAL})

    def hold(self, member: str, order: str, points: int) -> Any:
        return self.post("/holds", {"member_id": member, "order_id": order, "points": points})

    def capture(self, hold_id: str) -> Any:
        return self.post(f"/holds/{hold_id}/capture", {})

    def member(self, member: str) -> Any:
        return self.get(f"/members/{member}")


def paid_event(member: str, order: str, items: int | list[dict[str, Any]], **data: Any) -> dict[str, Any]:
    """An order.paid of ``items`` book lines (or of the lines given)."""
    from shared import clock

    now = clock.iso(clock.now())
    lines = (
        items
        if isinstance(items, list)
        else [
            {"sku": f"SKU-{i:04d}", "category": "books", "quantity": 1, "amount_minor": ORDER_TOTAL // items}
            for i in range(items)
        ]
    )
    body = {
        "order_id": order,
        "customer": {"id": member},
        "currency": "RUB",
        "total_minor": ORDER_TOTAL,
        "paid_at": now,
        "items": lines,
        **data,
    }
    return {"type": "order.paid", "timestamp": now, "data": body}


def json_body(response: Any) -> Any:
    return json.loads(response.body)


# --- measuring ---------------------------------------------------------------------------------------------------


class Bench:
    def __init__(self, api: Api, recorder: Recorder) -> None:
        self.api = api
        self.recorder = recorder
        self.results: list[Measurement] = []

    def measure(self, name: str, request: Callable[[], Any], expect: int = 200, note: str = "") -> Any:
        with self.recorder.recording() as calls, redirect_stdout(StringIO()):
            started = time.perf_counter()
            response = request()
            ms = (time.perf_counter() - started) * 1000
        if response.status_code != expect:
            raise RuntimeError(f"{name}: expected {expect}, got {response.status_code} {response.body!r}")
        self.results.append(Measurement(name, response.status_code, ms, list(calls), note))
        return response

    def quietly(self, request: Callable[[], Any], expect: int = 200) -> Any:
        with redirect_stdout(StringIO()):
            response = request()
        if response.status_code != expect:
            raise RuntimeError(f"set-up request: expected {expect}, got {response.status_code} {response.body!r}")
        return response


def run_cold(bench: Bench) -> None:
    """The very first request of a fresh container: settings, clients, the tenant and validators load on the way.
    Its member is new, so compare it with the warm "first order of a new member" row."""
    from shared.container import reset

    reset()
    note = "first request of a fresh container; member is new"
    bench.measure("paid order, new member (COLD)", lambda: bench.api.paid("m-cold", "o-cold"), note=note)


def warm_up(bench: Bench) -> None:
    api = bench.api
    bench.quietly(lambda: api.paid("m-warm", "o-warm-1"))
    bench.quietly(lambda: api.quote("m-warm"))
    hold = json_body(bench.quietly(lambda: api.hold("m-warm", "o-warm-2", 10), expect=201))
    bench.quietly(lambda: api.capture(hold["hold_id"]))
    bench.quietly(lambda: api.refund("o-warm-1", "r-warm", ORDER_TOTAL // 10))
    bench.quietly(lambda: api.member("m-warm"))


def run_steady(bench: Bench) -> None:
    """Each operation once, tenant cached, on a member with history (2 earlier orders, so 2 open lots)."""
    api, member = bench.api, "m-main"
    for n in (1, 2):
        bench.quietly(lambda n=n: api.paid(member, f"o-seed-{n}"))  # type: ignore[misc]
    bench.measure("paid order, 1 item (has 2 lots)", lambda: api.paid(member, "o-1"))
    bench.measure("paid order, 10 items (has 3 lots)", lambda: api.paid(member, "o-10", items=10))
    bench.measure("quote", lambda: api.quote(member))
    hold = json_body(bench.measure("hold", lambda: api.hold(member, "o-held", 20), expect=201))
    bench.measure("capture", lambda: api.capture(hold["hold_id"]))
    bench.measure("refund (partial)", lambda: api.refund("o-10", "r-1", ORDER_TOTAL // 4))
    bench.measure("member view", lambda: api.member(member))
    hold2 = json_body(bench.quietly(lambda: api.hold(member, "o-hp", 20), expect=201))
    bench.measure("paid order + hold_id (capture)", lambda: api.paid(member, "o-hp", hold_id=hold2["hold_id"]))
    bench.measure("paid order, new member", lambda: api.paid("m-new", "o-new"), note="first order, no contact data")
    contact = {"id": "m-contact", "email": "new.member@example.com", "phone": "+79161234567", "name": "New Member"}
    bench.measure("paid order, new member + contact", lambda: api.paid("m-contact", "o-contact", customer=contact))


def run_all_rules(rules_bench: Bench, bench: Bench) -> None:
    """A paid order of 100 items on a tenant with every order rule on, for a Gold member inside a boost."""
    from scripts import bench_rules

    api = rules_bench.api
    rules_bench.quietly(lambda: api.webhook(paid_event("m-rules", "o-rules-seed", 1, total_minor=200_000)))
    lines = bench_rules.items(100, ORDER_TOTAL)
    rules_bench.measure(
        "paid order, every rule on, 100 items",
        lambda: api.webhook(paid_event("m-rules", "o-rules", lines)),
        note="tier, min check, 3 promos, happy hours, categories, combos, boost",
    )
    bench.results.extend(rules_bench.results)


@dataclass
class SweepPoint:
    lots: int
    items_written: list[str]
    account_bytes: int
    paid_entry_bytes: int
    paid_table_wcu: float
    paid_index_wcu: float
    view_rcu: float
    view_reads: int


def run_sweep(bench: Bench) -> list[SweepPoint]:
    """How a paid order's cost grows with the member's open lots (one lot per paid order)."""
    api, member, points = bench.api, "m-sweep", []
    for n in range(1, SWEEP_ORDERS + 1):
        paid = measure_quietly(bench, lambda n=n: api.paid(member, f"o-sweep-{n}"))  # type: ignore[misc]
        if n not in SWEEP_CHECKPOINTS:
            continue
        view = measure_quietly(bench, lambda: api.member(member))
        sizes = {item.label.split(":")[0]: item.size_bytes for item in paid.written}
        points.append(
            SweepPoint(
                n,
                [item.label for item in paid.written],
                sizes.get("account", 0),
                sizes.get("entry", 0),
                paid.table_wcu,
                paid.index_wcu,
                view.rcu,
                view.count(READ_APIS),
            )
        )
    return points


def run_large_member(bench: Bench) -> None:
    """The steady-state operations again on the sweep's member, who now has SWEEP_ORDERS open lots."""
    api, member, lots = bench.api, "m-sweep", SWEEP_ORDERS
    note = f"member with {lots} open lots"
    bench.measure(f"paid order, 1 item (has {lots} lots)", lambda: api.paid(member, "o-big"), note=note)
    hold = json_body(bench.quietly(lambda: api.hold(member, "o-big-held", 20), expect=201))
    bench.measure(f"capture (has {lots + 1} lots)", lambda: api.capture(hold["hold_id"]), note=note)
    bench.measure(f"member view (has {lots + 1} lots)", lambda: api.member(member), note=note)


def measure_quietly(bench: Bench, request: Callable[[], Any]) -> Measurement:
    before = len(bench.results)
    bench.measure("sweep", request)
    return bench.results.pop(before)


def run_dynamodb_bench(endpoint: str, recorder: Recorder) -> tuple[list[Measurement], list[SweepPoint], dict[str, Any]]:
    configure_environment(endpoint)
    source = create_tables()
    creds = create_tenant()
    from chalice.test import Client

    from app import app

    with Client(app, project_dir=str(ROOT)) as client:
        bench = Bench(Api(client, creds), recorder)
        run_cold(bench)
        warm_up(bench)
        run_steady(bench)
        sweep = run_sweep(bench)
        run_large_member(bench)
        from scripts.bench_rules import ALL_RULES

        run_all_rules(Bench(Api(client, create_tenant("bench-rules", **ALL_RULES)), recorder), bench)
    from shared.container import container

    settings = container().settings
    info = {"tables_from": source, "tenants_table": settings.tenants_table, "ledger_table": settings.ledger_table}
    return bench.results, sweep, info


def run_scheduled(recorder: Recorder) -> tuple[list[ExpiryRun], list[StageRun]]:
    """Expiry at scale and the reminder ladder through the scheduled functions and the SQS worker
    (scripts/bench_expiry.py, scripts/bench_reminders.py). E-mail and SMS go to a moto server
    (``MESSAGING_ENDPOINT_URL``): only DynamoDB and SQS, on ministack, are measured here."""
    import boto3

    from scripts.bench_expiry import run_expiry_bench
    from scripts.bench_reminders import run_reminder_bench
    from scripts.emulator import start_moto
    from scripts.infra_messaging import create_email_templates, create_queues
    from shared.container import reset
    from shared.settings import get_settings

    sqs = boto3.client("sqs", region_name=REGION)
    url = create_queues(sqs)["loyalty-sweep"]
    os.environ["SWEEP_QUEUE_URL"] = url
    port = ministack.free_port()
    moto = start_moto(port)
    try:
        os.environ["MESSAGING_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
        reset()
        ses = boto3.client("ses", region_name=REGION, endpoint_url=os.environ["MESSAGING_ENDPOINT_URL"])
        create_email_templates(ses)
        ses.verify_email_identity(EmailAddress=get_settings().email_from)
        sns = boto3.client("sns", region_name=REGION, endpoint_url=os.environ["MESSAGING_ENDPOINT_URL"])
        with redirect_stdout(StringIO()):  # the worker's log lines
            expiry = run_expiry_bench(recorder, sqs, url)
            reminders = run_reminder_bench(recorder, sqs, url, sns)
    finally:
        moto.stop()
        os.environ.pop("MESSAGING_ENDPOINT_URL", None)
    return expiry, reminders


def print_expiry(runs: list[ExpiryRun]) -> dict[str, Any]:
    from scripts.bench_expiry import report
    from shared.container import container
    from shared.keys import INDEX_SHARDS

    return report(runs, INDEX_SHARDS, container().settings.sweep_threads)


# --- targets -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    target: str
    ok: bool
    why: str = ""


def single_write_target(m: Measurement) -> Verdict:
    writes, tx = m.count(WRITE_APIS), m.requests.get("TransactWriteItems", 0)
    ok = writes == 1 and tx == 1 and m.table_wcu <= MAX_WRITE_WCU
    problems = [] if writes == 1 and tx == 1 else [f"{writes} write requests ({tx} TransactWriteItems)"]
    problems += [f"{m.table_wcu:g} table WCU > {MAX_WRITE_WCU:g}"] if m.table_wcu > MAX_WRITE_WCU else []
    why = ", ".join(problems)
    return Verdict(f"1 TransactWriteItems, <= {MAX_WRITE_WCU:g} WCU", ok, why)


def member_view_target(m: Measurement) -> Verdict:
    reads = m.count(READ_APIS)
    ok = reads <= MAX_MEMBER_READS
    return Verdict(f"<= {MAX_MEMBER_READS} read requests", ok, "" if ok else f"{reads} reads")


def verdicts(m: Measurement, tenants_table: str) -> list[Verdict]:
    found: list[Verdict] = []
    if m.name.startswith(("paid order", "capture")):
        found.append(single_write_target(m))
    if m.name.startswith("member view"):
        found.append(member_view_target(m))
    if "COLD" not in m.name:
        reads = m.reads_of(tenants_table)
        found.append(Verdict("tenant cached", reads == 0, "" if reads == 0 else f"{reads} tenant-table reads"))
    return found


# --- cold import and package -------------------------------------------------------------------------------------


def lambda_env(tracing: bool) -> dict[str, str]:
    """What a Lambda container has at import: region, credentials, task root; tracing on unless told otherwise."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C.UTF-8",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_LAMBDA_FUNCTION_NAME": "loyalty-dev",
        "LAMBDA_TASK_ROOT": str(ROOT),
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    }
    if not tracing:
        env["POWERTOOLS_TRACE_DISABLED"] = "1"
    return env


def import_seconds(module: str, env: dict[str, str]) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def import_times() -> dict[str, Any]:
    cases = {"boto3": ("boto3", True), "app": ("app", True), "app (tracing off)": ("app", False)}
    samples: dict[str, list[float]] = defaultdict(list)
    for module, tracing in cases.values():  # one discarded run each: bytecode caches written
        import_seconds(module, lambda_env(tracing))
    for _ in range(IMPORT_RUNS):  # interleaved, so machine noise hits every case alike
        for name, (module, tracing) in cases.items():
            samples[name].append(import_seconds(module, lambda_env(tracing)))
    medians = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    minima = {name: min(values) * 1000 for name, values in samples.items()}
    return {
        "median_ms": medians,
        "min_ms": minima,
        "samples_ms": {k: [round(v * 1000, 1) for v in vs] for k, vs in samples.items()},
        "ratio": medians["app"] / medians["boto3"],
        "ratio_of_minima": minima["app"] / minima["boto3"],
        "top_packages_ms": import_profile(),
        "chain_ms": import_chain(),
    }


def import_chain() -> dict[str, float]:
    """Marginal cost of each step of IMPORT_CHAIN (median over IMPORT_RUNS fresh interpreters), in ms."""
    lines = ["import json, time", "out = {}"]
    for label, statement in IMPORT_CHAIN:
        lines += ["t = time.perf_counter()", statement, f"out[{label!r}] = time.perf_counter() - t"]
    code = "\n".join([*lines, "print(json.dumps(out))"])
    runs: dict[str, list[float]] = defaultdict(list)
    for _ in range(IMPORT_RUNS):
        cmd = [sys.executable, "-c", code]
        out = subprocess.run(cmd, cwd=ROOT, env=lambda_env(True), capture_output=True, text=True, check=True)
        for label, seconds in json.loads(out.stdout.strip().splitlines()[-1]).items():
            runs[label].append(seconds * 1000)
    return {label: round(statistics.median(values), 1) for label, values in runs.items()}


def import_profile(limit: int = 8) -> dict[str, float]:
    """Self time of ``import app`` per top-level package (python -X importtime), largest first."""
    cmd = [sys.executable, "-X", "importtime", "-c", "import app"]
    out = subprocess.run(cmd, cwd=ROOT, env=lambda_env(True), capture_output=True, text=True, check=True)
    per_package: dict[str, float] = defaultdict(float)
    for line in out.stderr.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[0].strip().split(":")[-1].strip().isdigit():
            continue
        self_us = int(parts[0].split(":")[-1])
        per_package[parts[2].strip().split(".")[0]] += self_us / 1000
    top = sorted(per_package.items(), key=lambda kv: -kv[1])[:limit]
    return {name: round(ms, 1) for name, ms in top}


def package_size(out: Path) -> dict[str, Any]:
    """Build the artifact of `make package` (scripts/package.py: chalice package, then the bytecode step) into
    ``out`` and measure it; the init and latency benches use that same artifact."""
    from scripts.package import package

    config = ROOT / ".chalice" / "config.json"
    if not config.exists():
        return {"skipped": ".chalice/config.json does not exist"}
    started = time.perf_counter()
    try:
        package("dev", out, quiet=True)
    except RuntimeError as exc:
        return {"error": str(exc)[-800:]}
    figures = zip_figures(out / "deployment.zip", time.perf_counter() - started)
    figures["command"] = "python scripts/package.py --stage dev (make package)"
    return figures


def zip_figures(path: Path, seconds: float) -> dict[str, Any]:
    per_top: dict[str, int] = defaultdict(int)
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        for info in infos:
            per_top[info.filename.split("/")[0]] += info.file_size
    top = sorted(per_top.items(), key=lambda kv: -kv[1])[:8]
    pyc = [i for i in infos if i.filename.endswith(".pyc")]
    return {
        "zip_mb": round(path.stat().st_size / 2**20, 2),
        "unzipped_mb": round(sum(i.file_size for i in infos) / 2**20, 2),
        "files": len(infos),
        "pyc_files": len(pyc),
        "pyc_unzipped_mb": round(sum(i.file_size for i in pyc) / 2**20, 2),
        "largest_unzipped_mb": {name: round(size / 2**20, 2) for name, size in top},
        "seconds": round(seconds, 1),
    }


# --- report ------------------------------------------------------------------------------------------------------


def fmt_requests(requests: dict[str, int]) -> str:
    return " ".join(f"{api}x{n}" for api, n in sorted(requests.items()))


def status_text(found: list[Verdict]) -> str:
    if not found:
        return "-"
    missed = [v for v in found if not v.ok]
    return "ok" if not missed else "MISSED: " + "; ".join(v.why for v in missed)


def print_operations(results: list[Measurement], tenants_table: str) -> None:
    head = f"{'operation':<34} {'DynamoDB requests':<52} {'tblWCU':>6} {'idxWCU':>6} {'RCU':>5} {'ms':>6}  target"
    print(head)
    print("-" * len(head))
    for m in results:
        found = verdicts(m, tenants_table)
        targets = ", ".join(v.target for v in found) or "-"
        line = f"{m.name:<34} {fmt_requests(m.requests):<52} {m.table_wcu:>6g} {m.index_wcu:>6g} {m.rcu:>5g}"
        print(f"{line} {m.ms:>6.1f}  {targets} -> {status_text(found)}")


def print_items(results: list[Measurement]) -> None:
    print("\nItems written per operation (size by DynamoDB's rules; a transactional write costs 2 x ceil(KB) WCU):")
    for m in results:
        if not m.written:
            continue
        parts = [f"{i.label} {i.size_bytes} B ({i.transactional_wcu} WCU)" for i in m.written]
        print(f"  {m.name:<34} " + ", ".join(parts))
    print("  largest item of each kind, by attribute:\n    ", end="")
    largest: dict[str, WrittenItem] = {}
    for item in (i for m in results for i in m.written):
        kind = item.label.split(":")[0]
        if kind not in largest or item.size_bytes > largest[kind].size_bytes:
            largest[kind] = item
    parts = [
        f"{item.label} {item.size_bytes} B = " + ", ".join(f"{a} {b} B" for a, b in item.top_attributes) + ", ..."
        for item in largest.values()
    ]
    print("\n    ".join(parts))


def print_sweep(points: list[SweepPoint]) -> None:
    print(f"\nPaid order cost vs the member's open lots (one lot per paid order, {SWEEP_ORDERS} orders):")
    head = f"{'lots':>4} {'items':>5} {'account B':>9} {'PAID entry B':>12} {'tblWCU':>6} {'idxWCU':>6}"
    print(f"  {head} {'view RCU':>8} {'view reads':>10}")
    for p in points:
        flag = "" if p.paid_table_wcu <= MAX_WRITE_WCU else f"  MISSED (> {MAX_WRITE_WCU:g} WCU)"
        if p.lots == 1:
            flag += "  (first order: " + ", ".join(p.items_written) + ")"
        print(
            f"  {p.lots:>4} {len(p.items_written):>5} {p.account_bytes:>9} {p.paid_entry_bytes:>12} "
            f"{p.paid_table_wcu:>6g} {p.paid_index_wcu:>6g} {p.view_rcu:>8g} {p.view_reads:>10}{flag}"
        )
    if len(points) >= 2:
        first, last = points[0], points[-1]
        per_lot = (last.account_bytes - first.account_bytes) / (last.lots - first.lots)
        fixed = first.account_bytes - per_lot * first.lots
        limit = int((1024 - fixed) // per_lot)
        print(f"  account item = {fixed:.0f} B + {per_lot:.0f} B per open lot: over 1 KB (4+ WCU) above {limit} lots")


def print_imports(imports: dict[str, Any]) -> None:
    med, ratio = imports["median_ms"], imports["ratio"]
    verdict = "ok" if ratio <= MAX_IMPORT_RATIO else "MISSED"
    print(
        f"\nCold import from this checkout (bytecode cached; fresh interpreter, Lambda-like env, median of {IMPORT_RUNS}):"
    )
    print(
        f"  boto3 alone {med['boto3']:.0f} ms; app {med['app']:.0f} ms (tracing on), "
        f"{med['app (tracing off)']:.0f} ms (tracing off)"
    )
    print(
        f"  app / boto3 = {ratio:.3f}x (medians; {imports['ratio_of_minima']:.3f}x of the fastest runs)"
        f"  target <= {MAX_IMPORT_RATIO:g}x -> {verdict}"
    )
    chain = ", ".join(f"{k} {v:g}" for k, v in imports["chain_ms"].items())
    print(f"  `import app` step by step (marginal ms): {chain}")
    top = ", ".join(f"{k} {v:g}" for k, v in imports["top_packages_ms"].items())
    print(f"  self time by package (ms, -X importtime): {top}")


def print_package(package: dict[str, Any]) -> None:
    print("\nDeployment package:")
    if "skipped" in package:
        print(f"  skipped: {package['skipped']}")
    elif "error" in package:
        print(f"  ERROR: {package['error']}")
    else:
        largest = ", ".join(f"{k} {v:g}" for k, v in package["largest_unzipped_mb"].items())
        print(f"  {package['command']}")
        print(
            f"  deployment.zip {package['zip_mb']:.2f} MB ({package['unzipped_mb']:.2f} MB unzipped, "
            f"{package['files']} files of which {package['pyc_files']} .pyc ({package['pyc_unzipped_mb']:g} MB), "
            f"built in {package['seconds']:g} s)"
        )
        print(f"  largest unzipped (MB): {largest}")


def write_json(report: dict[str, Any]) -> Path:
    BUILD.mkdir(exist_ok=True)
    path = BUILD / "bench.json"
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return path


def measurement_json(m: Measurement, tenants_table: str) -> dict[str, Any]:
    return {
        "operation": m.name,
        "requests": m.requests,
        "write_requests": m.count(WRITE_APIS),
        "read_requests": m.count(READ_APIS),
        "table_wcu": m.table_wcu,
        "index_wcu": m.index_wcu,
        "rcu": m.rcu,
        "rcu_reported_by_ministack": m.rcu_reported,
        "ms": round(m.ms, 1),
        "items_written": [asdict(i) for i in m.written],
        "targets": [asdict(v) for v in verdicts(m, tenants_table)],
        "note": m.note,
    }


def main() -> int:
    started = time.perf_counter()
    errors: list[str] = []
    recorder = Recorder()
    recorder.install()
    with ministack.running(BUILD / "ministack.log", services="dynamodb,sqs") as endpoint:
        results, sweep, info = run_dynamodb_bench(endpoint, recorder)
        expiry_runs, reminder_runs = run_scheduled(recorder)
    print(f"DynamoDB per operation (ministack, in-process HTTP handlers; tables from {info['tables_from']}):\n")
    print_operations(results, info["tenants_table"])
    print_items(results)
    print_sweep(sweep)
    expiry = print_expiry(expiry_runs)
    from scripts import bench_reminders

    reminders = bench_reminders.report(reminder_runs)
    from scripts import bench_rules

    rules_cpu = bench_rules.cpu_per_order()
    bench_rules.print_cpu(rules_cpu)
    if not rules_cpu["ok"]:
        errors.append("rules CPU over target")
    imports = import_times()
    print_imports(imports)
    package_dir = BUILD / "bench" / "package"
    package = package_size(package_dir)
    print_package(package)
    init: dict[str, Any] = {}
    latency: dict[str, Any] = {}
    if "error" in package:
        errors.append(package["error"])
    elif "skipped" not in package:
        from scripts import bench_init, bench_latency

        init = bench_init.init_times(package_dir)
        bench_init.print_init(init)
        latency = bench_latency.run(package_dir, BUILD / "bench")
        bench_latency.print_latency(latency)
    report = {
        "dynamodb": [measurement_json(m, info["tenants_table"]) for m in results],
        "lot_sweep": [asdict(p) for p in sweep],
        "expiry": expiry,
        "reminders": reminders,
        "rules_cpu": rules_cpu,
        "cold_import": imports,
        "init_per_function": init,
        "latency": latency,
        "package": package,
        "environment": info,
        "seconds": round(time.perf_counter() - started, 1),
    }
    path = write_json(report)
    print(f"\nFigures written to {path.relative_to(ROOT)}; bench took {report['seconds']:g} s.")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
