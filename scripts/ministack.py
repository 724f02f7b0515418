"""ministack, the AWS emulator that runs the deployed package (`make run`, tests/deployed, `make bench`).

It serves every service on one port (``GATEWAY_PORT``): CloudFormation with the SAM transform (``aws-sam-translator``
installed beside it), Lambda (function code runs in worker processes of this same Python), API Gateway, EventBridge
schedules on the wall clock, SQS event source mappings, DynamoDB, SES and SNS (sent messages kept and readable).

With ``enforce_iam`` it evaluates IAM policies as AWS does (``AUTH=true``): each Lambda calls with a session of its
execution role, and a call its role does not allow is refused with AccessDenied. What the emulator checks and what it
does not is in ``IAM_NOT_ENFORCED``; the two places where its evaluation differs from AWS's, for calls this platform
makes, are corrected in its process (``IAM_CORRECTIONS``, ``correct_iam_evaluation``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from scripts.localenv import ROOT, free_port, port_is_free

__all__ = ["ALL_SERVICES", "ROOT_ACCESS_KEY", "Ministack", "free_port", "running", "start"]

START_TIMEOUT_SECONDS = 30
HOST_KEYS = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
# Services the platform uses, and those CloudFormation needs to deploy it (S3 holds the artifact, IAM the roles).
ALL_SERVICES = "cloudformation,s3,iam,sts,lambda,apigateway,events,sqs,dynamodb,ses,sns,logs,cloudwatch"

# The account's root: under AUTH=true ministack takes the key "test" (also its own AWS_ACCESS_KEY_ID, an empty key and
# the account id) as the root user, whom every policy allows and whose signature it does not check. The deployment, the
# ops command and the tests' clients use it; every other key must be an IAM user's or an STS session's, signed with its
# secret, and an unsigned request is refused (MissingAuthenticationToken), but for API Gateway's public methods.
ROOT_ACCESS_KEY = "test"

# Where ministack 1.5.33 evaluates a call of this platform otherwise than AWS does, corrected by correct_iam_evaluation
# in the emulator's process only. Without them a policy that is right on AWS is refused. tests/deployed/
# test_iam_enforced.py fails when ministack itself gets one right (then the entry goes).
IAM_CORRECTIONS = {
    "sqs-batch-actions": (
        "SendMessageBatch, DeleteMessageBatch and ChangeMessageVisibilityBatch are authorized as sqs:SendMessage, "
        "sqs:DeleteMessage and sqs:ChangeMessageVisibility (the SQS Developer Guide, 'Amazon SQS batch actions': there "
        "is no *Batch IAM action); ministack asks for sqs:SendMessageBatch, which no correct policy grants, so every "
        "schedule starter's enqueue was refused"
    ),
    "ses-v1-send-resource": (
        "SES v1 sends (SendEmail, SendRawEmail, SendTemplatedEmail, SendBulkTemplatedEmail) are authorized on the "
        "sender's identity ARN (identity/<address>, or identity/<domain> when only the domain is verified, or the "
        "SourceArn); ministack evaluates them on '*', which a policy naming identities never matches"
    ),
}
SQS_BATCH_ACTIONS = {
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
SES_V1_SENDS = frozenset({"SendEmail", "SendRawEmail", "SendTemplatedEmail", "SendBulkTemplatedEmail"})

# What an enforcing ministack (1.5.33) does not check, found in its code and by experiment (issue 12 item 6): these
# grants of the template stay proven by tests/test_iam.py (the trace of the calls the code makes) only.
IAM_NOT_ENFORCED = {
    "sqs-event-source": (
        "the SQS event source mapping receives and deletes the sweep queue's messages as the emulator, not as the "
        "function's role: SweepWorker's sqs:ReceiveMessage, sqs:DeleteMessage and sqs:GetQueueAttributes are not checked"
    ),
    "lambda-permissions": (
        "API Gateway and EventBridge invoke functions without reading their resource policies "
        "(AWS::Lambda::Permission): a missing permission goes unnoticed"
    ),
    "logs": (
        "Lambda writes its functions' logs itself: the <Function>LogsPolicy grants are not checked (and a direct Logs "
        "call is evaluated on the group's ARN, log-group:NAME, which a grant on its streams, log-group:NAME:*, as on "
        "AWS, does not match)"
    ),
    "ses-templates": "an SES send is checked on the sender's identity only, not on the template it names",
    "xray": "no X-Ray service: the Tracing grants (xray:PutTraceSegments, xray:PutTelemetryRecords) are not checked",
    "trust-policies": (
        "the root user may assume a role whose trust policy names only a service (lambda.amazonaws.com), which AWS "
        "refuses; the tests use that to get a role's session"
    ),
}


@dataclass
class Ministack:
    """One running ministack process."""

    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM (it stops its Lambda workers), SIGKILL after ``timeout``."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        pid_file = Path(tempfile.gettempdir()) / f"ministack-{self.port}.pid"
        if pid_file.exists() and pid_file.read_text().strip() == str(self.proc.pid):
            pid_file.unlink()


def command() -> list[str]:
    """The ministack of this interpreter's environment (its Lambda workers run with this Python)."""
    sibling = Path(sys.executable).parent / "ministack"
    if sibling.exists():
        return [str(sibling)]
    found = shutil.which("ministack")
    return [found] if found else [sys.executable, "-m", "ministack"]


def enforcing_command() -> list[str]:
    """ministack's server in this interpreter, with IAM_CORRECTIONS applied first (serve_enforcing)."""
    bootstrap = f"import sys; sys.path.insert(0, {str(ROOT)!r}); import scripts.ministack as m; m.serve_enforcing()"
    return [sys.executable, "-c", bootstrap]


def environment(
    port: int, services: str, extra: Mapping[str, str] | None = None, enforce_iam: bool = False
) -> dict[str, str]:
    # The Lambda workers inherit this environment: only what a Lambda runtime would have, none of the caller's
    # settings (a test's TENANT_CACHE_SECONDS or POWERTOOLS_* would change how the deployed code behaves).
    env = {
        **{key: os.environ[key] for key in HOST_KEYS if key in os.environ},
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "GATEWAY_PORT": str(port),
        "BIND_HOST": "127.0.0.1",
        "SERVICES": services,
        "IOT_MTLS_ENABLED": "0",
        "SFTP_ENABLED": "0",
        "LOG_LEVEL": os.environ.get("MINISTACK_LOG_LEVEL", "WARNING"),
        **({"AUTH": "true"} if enforce_iam else {}),
        **(extra or {}),
    }
    env.pop("AWS_ENDPOINT_URL", None)  # the emulator is the endpoint; its Lambdas get their own
    return env


def start(
    log: Path,
    port: int | None = None,
    services: str = ALL_SERVICES,
    extra_env: Mapping[str, str] | None = None,
    enforce_iam: bool = False,
) -> Ministack:
    """Start ministack on ``port`` (a free one when None) and wait until it is healthy; with ``enforce_iam`` it
    evaluates IAM policies (AUTH=true, IAM_CORRECTIONS applied) and a call needs credentials its policies allow."""
    port = port or free_port()
    if not port_is_free(port):
        raise RuntimeError(f"port {port} is busy: set AWS_PORT to a free port")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            enforcing_command() if enforce_iam else command(),
            env=environment(port, services, extra_env, enforce_iam),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches our process only; we stop ministack in order
        )
    running = Ministack(proc, port, log)
    try:
        wait_healthy(running)
        if enforce_iam and health(running.url).get("auth") != "enabled":
            raise RuntimeError(f"ministack on {running.url} does not enforce IAM; see {log}")
    except RuntimeError:
        running.stop()
        raise
    return running


def health(url: str) -> dict[str, Any]:
    """``/_ministack/health``: the services and, under ``auth``, whether IAM is enforced ("enabled")."""
    with urllib.request.urlopen(url + "/_ministack/health", timeout=5) as response:
        return dict(json.loads(response.read()))


def wait_healthy(stack: Ministack, timeout: float = START_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.proc.poll() is not None:
            raise RuntimeError(f"ministack exited with {stack.proc.returncode}; see {stack.log}")
        try:
            with urllib.request.urlopen(stack.url + "/_ministack/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"ministack did not answer on {stack.url} within {timeout:.0f}s; see {stack.log}")


def correct_iam_evaluation() -> None:
    """Make ministack's IAM evaluation AWS's where IAM_CORRECTIONS says it is not (in the emulator's process)."""
    from ministack.core import iam_actions  # type: ignore[import-untyped]

    if getattr(iam_actions, "_loyalty_corrected", False):
        return
    action_of: Callable[..., str | None] = iam_actions.extract_iam_action
    resource_of: Callable[..., str] = iam_actions.extract_resource_arn

    def extract_iam_action(service: str, *args: Any, **kwargs: Any) -> str | None:
        action = action_of(service, *args, **kwargs)
        return SQS_BATCH_ACTIONS.get(action, action) if action else action

    def extract_resource_arn(
        service: str, method: str, path: str, headers: dict[str, str], body: bytes, params: dict[str, Any], *rest: Any
    ) -> str:
        arn = resource_of(service, method, path, headers, body, params, *rest)
        if arn == "*" and service == "ses" and _param(params, "Action") in SES_V1_SENDS:
            region, account = rest
            return ses_sender_arn(params, region, account) or arn
        return arn

    iam_actions.extract_iam_action = extract_iam_action
    iam_actions.extract_resource_arn = extract_resource_arn
    iam_actions._loyalty_corrected = True  # type: ignore[attr-defined]


def _param(params: dict[str, Any], name: str) -> str:
    value = params.get(name, "")
    return str(value[0] if isinstance(value, list) and value else value or "")


def ses_sender_arn(params: dict[str, Any], region: str, account: str) -> str | None:
    """The identity an SES v1 send is authorized on: SourceArn, else the sender's address when it is verified
    itself, else its domain."""
    if source_arn := _param(params, "SourceArn"):
        return source_arn
    address = parseaddr(_param(params, "Source"))[1]
    if "@" not in address:
        return None
    from ministack.services import ses  # type: ignore[import-untyped]

    identity = address if ses._identities.get(address) else address.rpartition("@")[2].lower()
    return f"arn:aws:ses:{region}:{account}:identity/{identity}"


def serve_enforcing() -> None:
    """ministack's server (its console script's main) with IAM enforced and corrected: see enforcing_command."""
    os.environ["AUTH"] = "true"
    correct_iam_evaluation()
    from ministack.app import main  # type: ignore[import-untyped]

    sys.argv = ["ministack"]
    sys.exit(main())


@contextmanager
def running(log: Path, services: str = ALL_SERVICES, extra_env: Mapping[str, str] | None = None) -> Iterator[str]:
    """ministack on a free loopback port for the duration of the block; yields its URL."""
    stack = start(log, services=services, extra_env=extra_env)
    try:
        yield stack.url
    finally:
        stack.stop()
