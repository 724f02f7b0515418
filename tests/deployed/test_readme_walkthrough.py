"""The README walk-through as a newcomer meets it (issue 14 item 6).

Every block README.md marks ``<!-- walkthrough: NAME -->`` runs exactly as written, with bash, in order and in one
shell (the blocks share ``KEY``, ``API``, ``HOLD``…), from a checkout whose ``.local/`` is this test's own, against
the stack the ``deployed`` fixture deploys as `make run` does, provisioned by `make run`'s own code (the demo tenant,
``.local/tenant.json``, ``.local/stack.json``). Each block's output is then checked against what the README says
next to it. tests/deployed/test_walkthrough.py tells the same story through a Python client; this one runs the text.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from scripts.deploy_local import DeployedStack
from scripts.localenv import ROOT
from tests.deployed.stack import eventually

README = ROOT / "README.md"
BLOCK = re.compile(r"<!-- walkthrough: ([a-z-]+) -->\n```bash\n(.*?)```", re.DOTALL)
RUN_SECONDS = 600  # the whole walk-through; the reminder's drain of 64 shard tasks is most of it
# what the environment of a newcomer's second terminal does not hold: the AWS settings of this test session, a
# chosen API or local file, and the flags of a `make test` that runs this test (a sub-make would say so)
NOT_INHERITED = ("API_URL", "PORT", "LOCAL_TENANT_FILE", "LOCAL_STACK_FILE", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")


@dataclass(frozen=True)
class Ran:
    """One block as it ran: its name, stdout, stderr and exit status (its last command's)."""

    name: str
    out: str
    err: str
    status: int

    def documents(self) -> list[Any]:
        """The JSON documents of stdout, in order (lines such as ``HTTP 200`` between them are skipped; curl's answers
        may follow each other on one line, as curl adds no newline)."""
        decoder, found, at = json.JSONDecoder(), [], self.out.find("{")
        while at >= 0:
            document, end = decoder.raw_decode(self.out, at)
            found.append(document)
            at = self.out.find("{", end)
        return found


def readme_blocks() -> list[tuple[str, str]]:
    return [(name, text) for name, text in BLOCK.findall(README.read_text())]


def checkout_copy(root: Path) -> Path:
    """The repository as a newcomer's checkout: every top-level entry linked, but a ``.local/`` of its own, so that
    the README's relative paths (``.local/tenant.json``, ``.local/hold.json``) are this test's and never the files of
    a `make run` in the real checkout."""
    root.mkdir()
    for entry in ROOT.iterdir():
        if entry.name != ".local":
            (root / entry.name).symlink_to(entry)
    (root / ".local").mkdir()
    return root


def newcomer_env(checkout: Path, stack: DeployedStack) -> dict[str, str]:
    """No AWS settings (the commands find the stack in .local/stack.json, as after `make run`); the scripts resolve
    their default .local/ from their real path, so the checkout's files are named; AWS_PORT is ministack's port, as
    when `make run` was started with another one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in NOT_INHERITED}
    env.update(
        LOCAL_TENANT_FILE=str(checkout / ".local" / "tenant.json"),
        LOCAL_STACK_FILE=str(checkout / ".local" / "stack.json"),
        AWS_PORT=str(urlparse(stack.endpoint).port),
    )
    return env


def provision(stack: DeployedStack, env: dict[str, str]) -> None:
    """What `make run` does once its stack is up (scripts/deployed_stack.py ``provision``): the demo tenant and the
    two files; in a child process, so that this session's environment and caches stay as they are."""
    code = (
        "import sys; from scripts.deploy_local import DeployedStack; from scripts.deployed_stack import provision; "
        "provision(DeployedStack.from_json(sys.stdin.read()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], input=stack.to_json(), cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def run_in_one_shell(checkout: Path, env: dict[str, str], blocks: list[tuple[str, str]]) -> Iterator[Ran]:
    """Each block sourced as written by one bash, its stdout, stderr and status kept apart."""
    work = checkout.parent / "blocks"
    work.mkdir()
    driver = []
    for i, (_name, text) in enumerate(blocks):
        (work / f"{i}.sh").write_text(text)
        at = shlex.quote(str(work / str(i)))
        driver.append(f". {at}.sh >{at}.out 2>{at}.err; echo $? >{at}.status")
    subprocess.run(["bash", "-c", "\n".join(driver)], cwd=checkout, env=env, timeout=RUN_SECONDS, check=False)
    for i, (name, _text) in enumerate(blocks):
        read = (work / f"{i}.out").read_text(), (work / f"{i}.err").read_text()
        yield Ran(name, *read, int((work / f"{i}.status").read_text()))


# -- what the README says next to each block ------------------------------------------------------------------------


def setup(ran: Ran) -> None:
    assert (ran.status, ran.out) == (0, "")


def earn(ran: Ran) -> None:
    assert ran.out.startswith("HTTP 200\n")
    [answer] = ran.documents()
    assert (answer["status"], answer["points_earned"], answer["balance"]) == ("applied", 50, 50)


def quote(ran: Ran) -> None:
    assert ran.documents() == [
        {
            "available": 50,
            "max_redeemable_points": 50,
            "max_discount_minor": 5000,
            "points_to_earn": 120,
            "points_to_earn_at_max_redeem": 117,
            "tier": None,
            "tier_discount_minor": 0,
            "boost_discount_minor": 0,
        }
    ]


def hold(ran: Ran) -> None:
    [answer] = ran.documents()
    assert answer["hold_id"].startswith("h_") and answer["expires_at"]
    assert (answer["points"], answer["discount_minor"], answer["status"]) == (50, 5000, "active")


def pay(ran: Ran) -> None:
    assert ran.out.startswith("HTTP 200\n")
    [paid, member] = ran.documents()
    assert (paid["points_earned"], paid["points_redeemed"], paid["balance"]) == (117, 50, 117)
    assert (member["available"], member["held"], member["lifetime_spend_minor"]) == (117, 0, 345000)
    expiries = [lot["expires_at"] for lot in member["lots"]]
    assert expiries and expiries == sorted(expiries)


def refund(ran: Ran) -> None:
    [answer] = ran.documents()
    assert (answer["points_reversed"], answer["points_restored"], answer["balance"]) == (58, 25, 84)


def history(ran: Ran) -> None:
    [page1, page2] = ran.documents()
    moves = [[(entry["kind"], entry["delta"]) for entry in page["entries"]] for page in (page1, page2)]
    assert moves == [[("restore", 25), ("reverse", -58), ("earn", 117)], [("redeem", -50), ("earn", 50)]]
    assert page2["next_cursor"] is None
    assert all("balance_after" in entry and "lots" in entry for entry in page1["entries"] + page2["entries"])


def replay(ran: Ran) -> None:
    answers = ran.documents()
    assert ran.out.count("HTTP 200\n") == 2 and [a["status"] for a in answers] == ["duplicate", "duplicate"]
    assert [a["balance"] for a in answers] == [50, 50]  # the first result, unchanged


def contact(ran: Ran) -> None:
    [answer] = ran.documents()
    assert (answer["member_id"], answer["email"], answer["phone"]) == ("anna", "anna@example.com", "+79990001001")
    assert answer["consent"] == {"email": True, "sms": True, "call": True}


def remind(ran: Ran) -> None:
    assert ran.status == 0, ran.out + ran.err
    assert "Invoking the deployed send_reminders" in ran.err
    # the README's figures are those of a stack holding only the demo tenant; this session's stack may hold other
    # tests' members with contact data, so Anna's two messages are checked by name in the next block
    counts = re.search(r"messages sent (\d+), failed (\d+), skipped (\d+)", ran.out)
    assert counts is not None and int(counts[1]) >= 2 and int(counts[2]) == 0, ran.out
    assert re.search(r"kept by the emulator since: \d+ e-mails, \d+ SMS, 0 dead letters", ran.out), ran.out


def sent(ran: Ran) -> None:
    emails, sms = ran.documents()
    [mail] = [m for listed in emails["messages"].values() for m in listed if "anna@example.com" in m["To"]]
    assert mail["Source"] == "loyalty@example.com" and "84 балла" in mail["Subject"]
    [text] = sms["sms_messages"]["+79990001001"]
    assert "84 балла" in text["Message"]


def grant(ran: Ran) -> None:
    created, progress = ran.documents()
    assert (created["grant_id"], created["status"]) == ("newyear-2027", "queued")
    assert progress["grant_id"] == "newyear-2027" and progress["status"] in ("queued", "running", "done")


def grant_done(checkout: Path, stack: DeployedStack) -> dict[str, Any]:
    """The demo's grant, once the deployed worker has finished it (the README: within seconds)."""
    key = json.loads((checkout / ".local" / "tenant.json").read_text())["api_key"]
    url = f"{stack.api_url}/v1/tenants/demo/grants/newyear-2027"

    def done() -> dict[str, Any] | None:
        answer = api_get(url, key)
        return answer if answer["status"] == "done" else None

    return eventually(done, 60, what="the grant done")


def api_get(url: str, key: str) -> dict[str, Any]:
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})) as answer:
        return dict(json.loads(answer.read()))


CHECKS: dict[str, Callable[[Ran], None]] = {
    check.__name__: check
    for check in (setup, earn, quote, hold, pay, refund, history, replay, contact, remind, sent, grant)
}


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("make") is None, reason="needs curl and make")
@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "python").exists(), reason="the README's commands use .venv")
def test_every_walkthrough_block_of_the_readme_runs_as_written(deployed: DeployedStack, tmp_path: Path) -> None:
    # Given the README's marked blocks, each with what the README says of it
    blocks = readme_blocks()
    assert [name for name, _ in blocks] == list(CHECKS)
    # And a checkout next to the stack deployed as `make run` deploys it, provisioned as `make run` provisions it
    checkout = checkout_copy(tmp_path / "checkout")
    env = newcomer_env(checkout, deployed)
    provision(deployed, env)

    # When a newcomer runs them, in order, in one shell
    ran = list(run_in_one_shell(checkout, env, blocks))

    # Then each says what the README says it does
    for block in ran:
        assert block.status == 0, f"{block.name}: status {block.status}\n{block.out}\n{block.err}"
        CHECKS[block.name](block)
    # And the grant, queued when the block asked, is done for the demo's one member a few seconds later
    done = grant_done(checkout, deployed)
    assert (done["targeted"], done["granted"], done["failed"]) == (1, 1, 0)
