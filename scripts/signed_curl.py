"""Send a freshly signed Standard Webhooks delivery to the local API (the README walk-through).

  .venv/bin/python scripts/signed_curl.py order.paid --order o-1 --member alice --total 100000
  .venv/bin/python scripts/signed_curl.py order.paid --order o-2 --member alice --total 250000 \\
      --shipping 10000 --points-redeemed 50 --hold-id h_...
  .venv/bin/python scripts/signed_curl.py order.refunded --order o-2 --refund r-1 --amount 122500
  .venv/bin/python scripts/signed_curl.py order.cancelled --order o-2
  .venv/bin/python scripts/signed_curl.py events/order_paid.json     # a body file, sent byte for byte

--print-curl prints the equivalent curl command instead of sending; --id sets the webhook-id (a second delivery
with the same id is a replay). The signature is valid for 5 minutes. Credentials come from .local/tenant.json
(written by `make run`, or --tenant-file / LOCAL_TENANT_FILE), the API from $API_URL, else the stack `make run` deployed
(.local/stack.json), else `make dev`'s http://127.0.0.1:$PORT (default 8000).
Prints the HTTP status and the JSON answer; exits 0 on a 2xx, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parent.parent) not in sys.path:  # run as a file
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.localenv import ROOT, default_api_url
from shared.webhooks.standard import sign

KINDS = ("order.paid", "order.refunded", "order.cancelled")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Send a signed order event to the local API.")
    parser.add_argument("event", help=f"one of {', '.join(KINDS)}, or a JSON body file sent as is")
    parser.add_argument("--order", help="order id (order.paid: a new random one by default)")
    parser.add_argument("--member", default="alice", help="customer id (order.paid)")
    parser.add_argument("--currency", default="RUB")
    parser.add_argument("--total", type=int, default=100_000, help="total_minor (order.paid)")
    parser.add_argument("--shipping", type=int, default=0, help="shipping_minor (order.paid)")
    parser.add_argument("--tax", type=int, default=0, help="tax_minor (order.paid)")
    parser.add_argument("--points-redeemed", type=int, default=0, help="points paid on the order (order.paid)")
    parser.add_argument("--hold-id", help="hold captured by the payment (order.paid)")
    parser.add_argument("--refund", help="refund id (order.refunded)")
    parser.add_argument("--amount", type=int, help="cash refunded, amount_minor (order.refunded)")
    parser.add_argument("--id", dest="msg_id", help="webhook-id (default: a new one)")
    parser.add_argument("--tenant-file", type=Path, default=default_tenant_file())
    parser.add_argument(
        "--url",
        default=default_url(),
        help="the API (default $API_URL, else the stack of `make run` (.local/stack.json), else http://127.0.0.1:$PORT)",
    )
    parser.add_argument("--print-curl", action="store_true", help="print a curl command instead of sending")
    return parser.parse_args(argv)


def default_url() -> str:
    return default_api_url(os.environ)


def default_tenant_file() -> Path:
    return Path(os.environ.get("LOCAL_TENANT_FILE") or ROOT / ".local" / "tenant.json")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def paid_data(args: argparse.Namespace) -> dict[str, Any]:
    data: dict[str, Any] = {
        "order_id": args.order or f"o-{uuid.uuid4().hex[:8]}",
        "customer": {"id": args.member},
        "currency": args.currency,
        "total_minor": args.total,
        "shipping_minor": args.shipping,
        "tax_minor": args.tax,
        "points_redeemed": args.points_redeemed,
        "paid_at": now_iso(),
    }
    if args.hold_id:
        data["hold_id"] = args.hold_id
    return data


def event_data(args: argparse.Namespace) -> dict[str, Any]:
    if args.event == "order.paid":
        return paid_data(args)
    if not args.order:
        raise SystemExit(f"{args.event} needs --order")
    if args.event == "order.cancelled":
        return {"order_id": args.order}
    if not args.refund or args.amount is None:
        raise SystemExit("order.refunded needs --refund and --amount")
    return {"order_id": args.order, "refund_id": args.refund, "amount_minor": args.amount}


def event_body(args: argparse.Namespace) -> bytes:
    if args.event not in KINDS:
        return Path(args.event).read_bytes()
    event = {"type": args.event, "timestamp": now_iso(), "data": event_data(args)}
    return json.dumps(event, separators=(",", ":")).encode()


def signed_headers(secret: str, body: bytes, msg_id: str | None = None) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    ts = int(time.time())
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign(secret, msg_id, ts, body),
    }


def curl_command(url: str, headers: dict[str, str], body: bytes) -> str:
    lines = [f"curl -sS -X POST {shlex.quote(url)}"]
    lines += [f"-H {shlex.quote(f'{name}: {value}')}" for name, value in headers.items()]
    lines.append(f"--data-binary {shlex.quote(body.decode())}")
    return " \\\n  ".join(lines)


def post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode()


def pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2)
    except ValueError:
        return text


def load_tenant(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise SystemExit(f"{path} does not exist: start the local stack with `make run` first")
    return dict(json.loads(path.read_text()))


def webhook_url(base: str, tenant_id: str) -> str:
    return f"{base.rstrip('/')}/v1/tenants/{tenant_id}/webhooks/standard"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tenant = load_tenant(args.tenant_file)
    body = event_body(args)
    headers = signed_headers(tenant["webhook_secrets"]["standard"], body, args.msg_id)
    url = webhook_url(args.url, tenant["tenant_id"])
    if args.print_curl:
        print(curl_command(url, headers, body))
        return 0
    try:
        status, text = post(url, headers, body)
    except OSError as error:
        raise SystemExit(f"cannot reach {url}: {error} (is `make run` running?)") from error
    print(f"HTTP {status}")
    print(pretty(text))
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `… | head` ends quietly
    sys.exit(main())
