"""`make run`: the package that ships, deployed by CloudFormation on a local AWS emulator (issue 12 item 2).

1. Builds the artifact of `make package` (scripts/package.py) and checks that this Python is the template's runtime.
2. Starts ministack on 127.0.0.1:``AWS_PORT`` (default 4566) with IAM enforced, its log in .local/ministack.log.
3. Uploads the artifact to S3 and creates the stack ``loyalty-dev`` from the template's S3 URL; what the emulator
   cannot create is listed in infra/emulator_gaps.json and done another way (scripts/emulator_gaps.py).
   The API is then API Gateway -> Lambda; the schedules fire from EventBridge on the wall clock; the SQS event source
   mapping runs the sweep worker; SES and SNS keep what they send.
4. Creates the demo tenant with the ops command (credentials in .local/tenant.json, the stack in .local/stack.json).
5. Prints the API URL, a signed example request, how to run a scheduled job now and how to read the sent mail and SMS.

Ctrl-C (or SIGTERM/SIGHUP) stops the emulator, removes the stack file and exits 0. Through `make run` the shell sees
130 all the same: the terminal interrupts make too, and make, once this script has finished, dies of the same SIGINT
whatever its recipe answered (docs/operations.md, "Two commands"). `make dev` is the in-process stack (scripts/local_stack.py).
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parent.parent) not in sys.path:  # run as a file
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts import ministack
from scripts.deploy_local import DeployedStack, DeployError, client, deploy
from scripts.local_stack import ensure_demo_tenant, job_times, shown, tenant_file, until_stopped
from scripts.localenv import ROOT, display_python
from scripts.package import package

DEFAULT_PORT = 4566
DEMO_STAFF_TOPIC = "loyalty-dev-staff-{tenant}"  # the roles may publish to loyalty-<stage>-staff-* only; ops
# accepts for a tenant only the topic named for it
LOCAL = ROOT / ".local"


def stack_file() -> Path:
    return Path(os.environ.get("LOCAL_STACK_FILE") or LOCAL / "stack.json")


def demo_notifications() -> dict[str, str]:
    """The demo tenant's reminders: Russian, from the verified sender, SMS from "Loyalty" (calls: ``staff_topic``)."""
    return {"language": "ru", "email_from": "loyalty@example.com", "sms_sender_id": "Loyalty"}


def staff_topic(stack: DeployedStack) -> Callable[[str], str]:
    def create(tenant_id: str) -> str:
        topic = client("sns", stack.endpoint).create_topic(Name=DEMO_STAFF_TOPIC.format(tenant=tenant_id))
        return str(topic["TopicArn"])

    return create


def bring_up(port: int) -> tuple[ministack.Ministack, DeployedStack, dict[str, Any]]:
    started = time.monotonic()
    print("Packaging (make package) ...", flush=True)
    artifact = package("dev", quiet=True)
    # IAM enforced, as in the deployed test tier: each function calls as its own role, so a missing grant is an
    # AccessDenied here before it is one on AWS (docs/deploy.md, "Permissions")
    emulator = ministack.start(LOCAL / "ministack.log", port=port, enforce_iam=True)
    try:
        print(f"ministack on {emulator.url}; creating stack loyalty-dev by CloudFormation ...", flush=True)
        stack = deploy(emulator.url, artifact)
        print_left_out(stack.left_out)
        if stack.applied_instead:
            print(f"  Ignored by the emulator, put by this script instead: {', '.join(stack.applied_instead)}")
        creds = provision(stack)
        print(f"Ready in {time.monotonic() - started:.0f} s; stack described in {shown(stack_file())}")
        return emulator, stack, creds
    except BaseException:
        emulator.stop()
        raise


def provision(stack: DeployedStack) -> dict[str, Any]:
    """What `make run` does on the deployed stack: points this process at it, creates (or reuses) the demo tenant
    with its credentials in .local/tenant.json, and describes the stack in .local/stack.json. The README
    walk-through's test (tests/deployed/test_readme_walkthrough.py) provisions its stack with this too."""
    os.environ.update(stack.environment())
    creds = ensure_demo_tenant(tenant_file(), demo_notifications(), staff_topic(stack))
    stack_file().parent.mkdir(parents=True, exist_ok=True)
    stack_file().write_text(stack.to_json())
    return creds


def print_left_out(left_out: dict[str, str]) -> None:
    """What the emulator does not create (infra/emulator_gaps.json), one line per kind of resource."""
    kinds: dict[str, list[str]] = {}
    for logical_id, why in sorted(left_out.items()):
        kinds.setdefault(why, []).append(logical_id)
    for why, ids in kinds.items():
        print(f"  Not created by the emulator (infra/emulator_gaps.json): {', '.join(ids)}\n    {why}")


def cabinet_url(stack: DeployedStack, tenant_id: str) -> str:
    """The customer cabinet's page of a tenant, served by the stack through API Gateway (issue 16)."""
    return f"{stack.api_url}/v1/tenants/{tenant_id}/cabinet"


def banner(stack: DeployedStack, creds: dict[str, Any]) -> str:
    from scripts.scheduler import JOB_FUNCTIONS
    from scripts.signed_curl import curl_command, event_body, parse_args, signed_headers, webhook_url

    body = event_body(parse_args(["order.paid", "--member", "alice", "--total", "100000"]))
    curl = curl_command(
        webhook_url(stack.api_url, creds["tenant_id"]), signed_headers(creds["webhook_secrets"]["standard"], body), body
    )
    py = display_python()
    remind, expire = (at.isoformat() for at in job_times(_now()))
    return "\n".join(
        [
            "",
            f"Loyalty API   {stack.api_url}   (API Gateway -> Lambda; try {stack.api_url}/v1/health)",
            f"AWS emulator  {stack.endpoint}   ministack, stack {stack.name} (data lasts until Ctrl-C)",
            f"Demo tenant   {creds['tenant_id']}   credentials: {shown(tenant_file())}",
            f"Cabinet       {cabinet_url(stack, creds['tenant_id'])}   (the customer's page; the login code is in",
            "              the sent SMS or e-mail below)",
            "",
            "A signed order.paid (the signature is valid for 5 minutes):",
            "",
            curl,
            "",
            f"A freshly signed one at any time: {py} scripts/signed_curl.py order.paid --member alice --total 100000",
            "",
            "The schedules fire from EventBridge on the wall clock. To run a job now at another time (the deployed",
            "starter is invoked with a scheduled event, its tasks go through SQS to the worker). For points earned",
            "now, the 60-day reminder, then the expiry:",
            f"  make schedule JOB=remind AT={remind}",
            f"  make schedule JOB=expire AT={expire}",
            f"JOB is any of the {len(JOB_FUNCTIONS)} scheduled jobs: {', '.join(JOB_FUNCTIONS)}",
            "Sent e-mail and SMS, as the emulator keeps them:",
            f"  curl -s {stack.endpoint}/_ministack/ses/messages | {py} -m json.tool",
            f"  curl -s {stack.endpoint}/_ministack/sns/sms-messages | {py} -m json.tool",
            f"Functions' logs: {shlex.quote(str(LOCAL / 'ministack.log'))} and the emulator's CloudWatch Logs API",
            "",
            "Stop with Ctrl-C.",
            "",
        ]
    )


def _now() -> Any:
    from shared import clock

    return clock.now()


def run() -> int:
    port = int(os.environ.get("AWS_PORT", str(DEFAULT_PORT)))
    emulator, stack, creds = bring_up(port)
    try:
        print(banner(stack, creds), flush=True)
        while emulator.proc.poll() is None:
            time.sleep(0.5)
        print(f"ministack exited with status {emulator.proc.returncode}; see {emulator.log}", file=sys.stderr)
        return 1
    finally:
        emulator.stop()
        stack_file().unlink(missing_ok=True)


def main() -> int:
    return until_stopped(run, DeployError)


if __name__ == "__main__":
    sys.exit(main())
