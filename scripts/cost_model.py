"""The cost model (issue 6 item 6): what 1 million paid orders cost on AWS, with their expiry and reminders.

  python scripts/cost_model.py            # build/bench.json (from `make bench`) -> docs/cost-inputs.json + docs/cost.md
  python scripts/cost_model.py --check    # docs/cost.md is what docs/cost-inputs.json gives (run by the tests)

The measured figures come from `make bench` (DynamoDB requests and capacity units per operation, per expired member
and per reminded member, the handler time of each operation). They are copied into ``docs/cost-inputs.json`` so
that the document can be re-rendered and checked without an emulator. Prices are public list prices, stated in
``PRICES`` with their source; the traffic mix is stated in ``MIX``. Change either and re-run.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parent.parent) not in sys.path:  # run as a file
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from shared.scheduled_jobs import SCHEDULED_JOBS

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "build" / "bench.json"
INPUTS = ROOT / "docs" / "cost-inputs.json"
DOC = ROOT / "docs" / "cost.md"

ORDERS = 1_000_000

# US East (N. Virginia) list prices in USD. Sources: aws.amazon.com/lambda/pricing, /api-gateway/pricing,
# /dynamodb/pricing/on-demand (after the November 2024 reduction), /sqs/pricing, /ses/pricing, /sns/sms-pricing,
# /cloudwatch/pricing, /xray/pricing. Free tiers are ignored (a platform outgrows them).
PRICES = {
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second": 0.0000166667,  # x86
    "apigw_rest_request": 3.50 / 1e6,  # REST API, first 333 million a month
    "dynamodb_write_unit": 0.625 / 1e6,  # on-demand write request unit
    "dynamodb_read_unit": 0.125 / 1e6,  # on-demand read request unit
    "dynamodb_gb_month": 0.25,  # table and index storage
    "dynamodb_pitr_gb_month": 0.20,  # continuous backups
    "sqs_request": 0.40 / 1e6,  # standard queue, per 64 KB request
    "ses_email": 0.10 / 1000,
    "sns_publish": 0.50 / 1e6,  # a staff call task to the managers' topic
    "sms_us": 0.00883,  # transactional SMS to the US, carrier fee included (shared/notify/costs.py)
    "logs_ingest_gb": 0.50,
    "xray_trace": 5.00 / 1e6,
}

# What happens around 1 million paid orders (stated assumptions, not measurements).
MIX = {
    "quotes_per_order": 1.0,  # the checkout asks once what the points are worth
    "holds_per_order": 0.2,  # one order in five pays part with points (hold, then the paid order captures it)
    "member_views_per_order": 1.0,  # the customer or the merchant looks at the balance once
    "refunds_per_order": 0.05,
    "orders_per_member": 4,  # 250,000 members
    "lots_reminded_share": 0.5,  # half the lots still hold points 60 days before they expire
    "lots_expiring_share": 0.3,  # 30% of the lots expire with points left
    "email_share": 0.8,  # members with an e-mail address and consent
    "sms_share": 0.5,  # members with a phone and SMS consent
    "call_share": 0.5,  # members with a phone the staff may call
    "log_bytes_per_request": 1500,  # Powertools JSON lines of one request
    "xray_sampled_share": 0.05,  # the default sampling rule: 1 a second + 5%
    "entry_bytes": 400,  # a ledger entry (history GSI copy included below)
    "account_bytes": 700,  # the account item with its open lots and profile
}

API_OPERATIONS = {  # cost-inputs name -> the bench's operation name
    "paid_order": "paid order, 1 item (has 2 lots)",
    "quote": "quote",
    "hold": "hold",
    "paid_with_hold": "paid order + hold_id (capture)",
    "refund": "refund (partial)",
    "member_view": "member view",
}
LAMBDA_API_GB = 0.5  # .chalice/config.json lambda_memory_size (dev); prod uses 1 GB and a shorter time
LAMBDA_WORKER_GB = 1.0  # sweep_worker


def extract(bench: dict[str, Any]) -> dict[str, Any]:
    """The figures the model needs, from a `make bench` report."""
    ops = {m["operation"]: m for m in bench["dynamodb"]}
    api = {}
    for key, name in API_OPERATIONS.items():
        m = ops[name]
        api[key] = {
            "write_units": m["table_wcu"] + m["index_wcu"],
            "read_units": m["rcu"],
            "requests": sum(m["requests"].values()),
            "handler_ms": m["ms"],
        }
    run = bench["expiry"]["runs"][-1]
    expiry = {
        "lots": run["lots"],
        "members": run["members"],
        "write_units_per_member": round((run["table_wcu"] + run["index_wcu"]) / run["members"], 3),
        "read_units_per_member": round(run["rcu"] / run["members"], 3),
        "worker_seconds_per_member": round(run["seconds"] / run["members"], 5),
    }
    stages = {str(s["days_before"]): s["per_member"] for s in bench["reminders"]["stages"]}
    for s in bench["reminders"]["stages"]:
        stages[str(s["days_before"])]["worker_seconds"] = round(s["seconds"] / s["members"], 5)
    return {"api": api, "expiry": expiry, "reminders": stages}


@dataclass(frozen=True)
class Line:
    item: str
    quantity: float
    unit: str
    usd: float


def _lambda(invocations: float, seconds: float, gb: float) -> float:
    return invocations * PRICES["lambda_request"] + invocations * seconds * gb * PRICES["lambda_gb_second"]


def api_requests() -> dict[str, float]:
    """How many of each API operation the mix makes around ``ORDERS`` paid orders."""
    return {
        "paid_order": ORDERS * (1 - MIX["holds_per_order"]),
        "paid_with_hold": ORDERS * MIX["holds_per_order"],
        "hold": ORDERS * MIX["holds_per_order"],
        "quote": ORDERS * MIX["quotes_per_order"],
        "member_view": ORDERS * MIX["member_views_per_order"],
        "refund": ORDERS * MIX["refunds_per_order"],
    }


def api_lines(inputs: dict[str, Any]) -> list[Line]:
    api, counts = inputs["api"], api_requests()
    requests = sum(counts.values())
    wru = sum(n * api[k]["write_units"] for k, n in counts.items())
    rru = sum(n * api[k]["read_units"] for k, n in counts.items())
    # Lambda bills by the millisecond; the handler time measured in-process against the emulator stands for AWS's
    seconds = sum(n * math.ceil(api[k]["handler_ms"]) / 1000 for k, n in counts.items()) / requests
    return [
        Line("API Gateway REST requests", requests, "requests", requests * PRICES["apigw_rest_request"]),
        Line("Lambda (API handler, 512 MB)", requests, "invocations", _lambda(requests, seconds, LAMBDA_API_GB)),
        Line("DynamoDB writes (API)", wru, "write units", wru * PRICES["dynamodb_write_unit"]),
        Line("DynamoDB reads (API)", rru, "read units", rru * PRICES["dynamodb_read_unit"]),
    ]


def scheduled_lines(inputs: dict[str, Any]) -> list[Line]:
    lots = ORDERS  # one lot per paid order
    expiring = lots * MIX["lots_expiring_share"]
    reminded = lots * MIX["lots_reminded_share"]  # a member per lot and expiry date, at worst
    exp, r60, r45 = inputs["expiry"], inputs["reminders"]["60"], inputs["reminders"]["45"]
    wru = expiring * exp["write_units_per_member"] + reminded * (r60["write_units"] + r45["write_units"])
    rru = expiring * exp["read_units_per_member"] + reminded * (r60["read_units"] + r45["read_units"])
    worker = expiring * exp["worker_seconds_per_member"] + reminded * (r60["worker_seconds"] + r45["worker_seconds"])
    # 8 threads share an invocation: billed time is wall time; about 10,000 members per invocation
    invocations = (expiring + 2 * reminded) / 10_000
    emails, texts, calls = reminded * MIX["email_share"], reminded * MIX["sms_share"], reminded * MIX["call_share"]
    return [
        Line("DynamoDB writes (expiry + reminders)", wru, "write units", wru * PRICES["dynamodb_write_unit"]),
        Line("DynamoDB reads (expiry + reminders)", rru, "read units", rru * PRICES["dynamodb_read_unit"]),
        Line(
            "Lambda (sweep worker, 1 GB)",
            worker,
            "seconds",
            invocations * PRICES["lambda_request"] + worker * LAMBDA_WORKER_GB * PRICES["lambda_gb_second"],
        ),
        Line("SES reminder e-mails", emails, "e-mails", emails * PRICES["ses_email"]),
        Line("SNS reminder SMS (US)", texts, "SMS", texts * PRICES["sms_us"]),
        Line("SNS staff call tasks", calls, "publishes", calls * PRICES["sns_publish"]),
    ]


def fixed_lines() -> list[Line]:
    """A year of schedules whatever the volume: 8 jobs fan out to 64 shard tasks (send, receive, delete each)."""
    runs_per_day = {row.job: row.runs_per_day for row in SCHEDULED_JOBS}
    runs = sum(runs_per_day.values()) * 365
    sqs = runs * 64 * 3
    invocations = runs * (1 + math.ceil(64 / 5))  # the starter, then the worker takes 5 tasks an invocation
    return [
        Line("SQS (shard tasks, a year)", sqs, "requests", sqs * PRICES["sqs_request"]),
        Line(
            "Lambda (schedule starters + shard sweeps, a year)",
            invocations,
            "invocations",
            _lambda(invocations, 0.2, LAMBDA_WORKER_GB),
        ),
    ]


def platform_lines() -> list[Line]:
    requests = sum(api_requests().values())
    log_gb = requests * MIX["log_bytes_per_request"] / 1e9
    traces = requests * MIX["xray_sampled_share"]
    members = ORDERS / MIX["orders_per_member"]
    entries = ORDERS * (1 + MIX["holds_per_order"] + MIX["refunds_per_order"] + MIX["lots_expiring_share"])
    gb = (entries * MIX["entry_bytes"] * 2 + members * MIX["account_bytes"]) / 1e9  # entries twice: the history GSI
    gb_months = gb * 12 / 2  # the table grows through the year
    return [
        Line("CloudWatch Logs ingestion", log_gb, "GB", log_gb * PRICES["logs_ingest_gb"]),
        Line("X-Ray traces (5% sampled)", traces, "traces", traces * PRICES["xray_trace"]),
        Line(
            "DynamoDB storage + PITR (a year)",
            gb_months,
            "GB-months",
            gb_months * (PRICES["dynamodb_gb_month"] + PRICES["dynamodb_pitr_gb_month"]),
        ),
    ]


def hosted() -> list[tuple[str, float, str]]:
    """Smile.io's published usage-based plans for the same volume, spread over a year (83,334 orders a month)."""
    monthly = math.ceil(ORDERS / 12)
    growth = 199 + math.ceil((monthly - 2_500) / 100) * 20
    plus_usage = math.ceil((monthly - 7_500) / 100) * 5
    return [
        (
            "Smile.io Growth ($199/month incl. 2,500 orders, $20 per 100 more)",
            growth * 12,
            "help.smile.io, usage-based pricing",
        ),
        (
            "Smile.io Plus (7,500 orders included, $5 per 100 more) — usage alone, before its base fee",
            plus_usage * 12,
            "help.smile.io, usage-based pricing",
        ),
    ]


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def _table(lines: list[Line]) -> list[str]:
    rows = ["| item | quantity | unit | cost |", "|---|---|---|---|"]
    rows += [f"| {ln.item} | {ln.quantity:,.0f} | {ln.unit} | {_usd(ln.usd)} |" for ln in lines]
    return rows


def render(inputs: dict[str, Any]) -> str:
    groups = {
        "Order traffic (webhooks and merchant API)": api_lines(inputs),
        "Expiry and the reminder ladder": scheduled_lines(inputs),
        "Platform (logs, traces, storage)": platform_lines(),
        "Fixed: the schedules for a year": fixed_lines(),
    }
    total = sum(ln.usd for lines in groups.values() for ln in lines)
    sms = sum(ln.usd for ln in groups["Expiry and the reminder ladder"] if "SMS" in ln.item)
    out = [
        "# Cost model: 1 million paid orders",
        "",
        "Generated by `python scripts/cost_model.py` from the figures `make bench` measured (`docs/cost-inputs.json`)",
        "and the list prices and traffic mix stated in the script. Do not edit by hand: change the script or re-run",
        "the bench, then the script; `tests/unit/test_cost_model.py` fails when this file is stale.",
        "",
        f"**Total: {_usd(total)} for {ORDERS:,} paid orders** ({_usd(total / ORDERS * 1000)} per 1,000 orders), of",
        f"which {_usd(sms)} is SMS. Without SMS reminders: {_usd(total - sms)}.",
        "",
    ]
    for title, lines in groups.items():
        out += [f"## {title}", "", *_table(lines), "", f"Subtotal: {_usd(sum(ln.usd for ln in lines))}", ""]
    out += [
        "## Hosted loyalty services, same volume (list prices)",
        "",
        "| service | a year | source |",
        "|---|---|---|",
    ]
    out += [f"| {name} | {_usd(usd)} | {src} |" for name, usd, src in hosted()]
    out += [
        "",
        "LoyaltyLion and Yotpo quote volumes like this one on request only, so they are not listed.",
        "",
        "## Assumptions (traffic mix)",
        "",
        *[f"- `{k}` = {v}" for k, v in MIX.items()],
        "",
        "## Prices (USD, us-east-1 list prices, free tiers ignored)",
        "",
        *[f"- `{k}` = {v:g}" for k, v in PRICES.items()],
        "",
        "## Measured inputs (`make bench`, ministack)",
        "",
        "Per API operation: write and read units (tables and indexes), DynamoDB requests, handler time in ms.",
        "",
        "| operation | write units | read units | requests | handler ms |",
        "|---|---|---|---|---|",
        *[
            f"| {k} | {v['write_units']:g} | {v['read_units']:g} | {v['requests']} | {v['handler_ms']:g} |"
            for k, v in inputs["api"].items()
        ],
        "",
        f"Expiry ({inputs['expiry']['lots']:,} lots, {inputs['expiry']['members']:,} members): "
        f"{inputs['expiry']['write_units_per_member']:g} write units and {inputs['expiry']['read_units_per_member']:g}"
        f" read units per member, {inputs['expiry']['worker_seconds_per_member'] * 1000:g} ms of worker wall time per"
        " member.",
        "",
        *[
            f"Reminder stage {days} days: {s['write_units']:g} write units, {s['read_units']:g} read units, "
            f"{s['messages']:g} messages and {s['worker_seconds'] * 1000:g} ms of worker wall time per member."
            for days, s in sorted(inputs["reminders"].items(), reverse=True)
        ],
        "",
        "## Reading it",
        "",
        "- SMS is most of the bill: a tenant that reminds by e-mail only pays a fraction. SMS prices vary by country",
        "  (`shared/notify/costs.py`); the US rate is used here.",
        "- DynamoDB on-demand is the next item; a steady platform can move to provisioned capacity with auto scaling.",
        "- Lambda time is the handler time measured against the emulator in-process; on AWS the network round trips",
        "  to DynamoDB are shorter than ministack's over HTTP on a 2-core machine, so this errs high.",
        "- Not counted: data transfer out (webhook answers are a few hundred bytes), CloudWatch alarms and the",
        "  dashboard (about $0.10 per alarm and $3 per dashboard a month), custom metrics ($0.30 per metric a month;",
        "  the namespace has about 40 without the tenant dimension).",
        "",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if docs/cost.md is not what the inputs give")
    parser.add_argument("--bench", type=Path, default=BENCH, help="a `make bench` report (default build/bench.json)")
    args = parser.parse_args(argv)
    if args.check:
        expected = render(json.loads(INPUTS.read_text()))
        if DOC.read_text() != expected:
            print("docs/cost.md is stale: run `python scripts/cost_model.py`", file=sys.stderr)
            return 1
        return 0
    if args.bench.exists():
        INPUTS.write_text(json.dumps(extract(json.loads(args.bench.read_text())), indent=2) + "\n")
    elif not INPUTS.exists():
        print(f"no {args.bench}: run `make bench` first", file=sys.stderr)
        return 1
    DOC.write_text(render(json.loads(INPUTS.read_text())))
    print(f"{DOC.relative_to(ROOT)} written from {INPUTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
