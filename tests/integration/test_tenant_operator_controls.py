"""What only the operator may do to a tenant (issue 13 items 3 and 18): bind its e-mail sender and its managers'
topic (a merchant's PUT /program cannot), and rotate or revoke its API keys, through scripts/ops.py and the API."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import boto3
import pytest

from scripts import ops
from shared import clock
from shared.errors import Forbidden
from tests.conftest import TenantCreds, make_tenant
from tests.integration.conftest import Clock
from tests.integration.support import assert_error

REGION = "us-east-1"


def run_ops(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = ops.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def program(client: Any, creds: TenantCreds) -> Any:
    return client.http.get(f"/v1/tenants/{creds.tenant_id}/program", headers=creds.auth)


def verified(identity: str) -> str:
    ses = boto3.client("ses", region_name=REGION)
    if "@" in identity:
        ses.verify_email_identity(EmailAddress=identity)
    else:
        ses.verify_domain_identity(Domain=identity)
    return identity


def topic(name: str) -> str:
    return str(boto3.client("sns", region_name=REGION).create_topic(Name=name)["TopicArn"])


# -- item 3: the sender and the staff topic ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email_from", "news@victim.example"),
        ("staff_topic_arn", "arn:aws:sns:us-east-1:123456789012:loyalty-staff-victim"),
        ("email_from", "not an address"),
        ("staff_topic_arn", None),
    ],
)
def test_a_merchant_cannot_set_its_sender_or_staff_topic(
    client: Any, aws: None, field: str, value: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given tenant evil, its sender and topic bound by the operator
    evil = make_tenant("evil", staff_topic_arn=topic("loyalty-staff-evil"))
    # When its merchant puts victim's sender or topic (or clears its topic) in the program
    raw = json.dumps({field: value, "earn_rate_bp": 900})
    response = client.http.put("/v1/tenants/evil/program", body=raw, headers=evil.auth)
    # Then it is 403 operator_setting naming the field, and no version was written
    error = assert_error(response, 403, "operator_setting")
    assert [d["field"] for d in error["details"]] == [field]
    shown = json.loads(program(client, evil).body)
    assert shown["version"] == 1 and shown["earn_rate_bp"] == 500
    assert shown["staff_topic_arn"].endswith(":loyalty-staff-evil") and shown["email_from"] is None


def test_a_merchant_may_put_back_the_program_it_read(client: Any, aws: None) -> None:
    # Given a tenant with a bound topic, when it puts back what it read with one change, then that is a new version
    creds = make_tenant("shop-1", staff_topic_arn=topic("loyalty-staff-shop-1"))
    read = {k: v for k, v in json.loads(program(client, creds).body).items() if k not in ("version", "effective_at")}
    response = client.http.put(
        "/v1/tenants/shop-1/program", body=json.dumps({**read, "earn_rate_bp": 900}), headers=creds.auth
    )
    assert response.status_code == 200, response.body
    assert json.loads(response.body)["staff_topic_arn"] == read["staff_topic_arn"]


def test_set_staff_topic_refuses_a_topic_not_named_for_the_tenant(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given tenants victim and evil, and each one's topic
    make_tenant("victim")
    make_tenant("evil")
    victims, evils = topic("loyalty-staff-victim"), topic("loyalty-staff-evil")
    # When the operator binds victim's topic, a topic of another naming, or a missing topic to evil, it is refused
    for arn in (victims, topic("evil-staff"), evils.replace("loyalty-staff-evil", "loyalty-staff-evil-x")):
        code, out, err = run_ops(capsys, "set-staff-topic", "--id", "evil", "--topic-arn", arn)
        assert (code, out) == (1, ""), err
        assert "loyalty-staff-evil" in err
    code, out, err = run_ops(capsys, "set-staff-topic", "--id", "evil", "--topic-arn", evils.replace("evil", "evil-2"))
    assert code == 1
    # And create-tenant refuses another tenant's topic the same way
    code, out, err = run_ops(
        capsys, "create-tenant", "--id", "evil-3", "--currency", "RUB", "--staff-topic-arn", victims
    )
    assert (code, out) == (1, "") and "loyalty-staff-evil-3" in err
    # When evil's own topic is bound, then it is printed and in force
    code, out, err = run_ops(capsys, "set-staff-topic", "--id", "evil", "--topic-arn", evils)
    assert code == 0, err
    assert json.loads(out) == {"tenant_id": "evil", "staff_topic_arn": evils}
    from shared.container import container

    assert container().tenants.get("evil").staff_topic_arn == evils  # type: ignore[union-attr]


def test_set_sender_refuses_an_unverified_sender_or_one_bound_to_another_tenant(
    client: Any, aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given victim bound to its verified domain's sender, and evil
    make_tenant("victim")
    evil = make_tenant("evil")
    verified("victim.example")
    code, _, err = run_ops(capsys, "set-sender", "--id", "victim", "--email-from", "news@victim.example")
    assert code == 0, err
    # When the operator binds to evil an address SES has not verified, then it is refused
    code, out, err = run_ops(capsys, "set-sender", "--id", "evil", "--email-from", "news@evil.example")
    assert (code, out) == (1, "") and "is a verified SES identity" in err and "neither" in err
    # When the operator binds to evil an address of victim's domain, then it is refused too
    code, out, err = run_ops(capsys, "set-sender", "--id", "evil", "--email-from", "promo@victim.example")
    assert (code, out) == (1, "") and "bound to another tenant" in err
    # When evil's own verified sender is bound, then its program shows it
    verified("news@evil.example")
    code, out, err = run_ops(capsys, "set-sender", "--id", "evil", "--email-from", "news@evil.example")
    assert code == 0 and json.loads(out) == {"tenant_id": "evil", "email_from": "news@evil.example"}, err
    assert json.loads(program(client, evil).body)["email_from"] == "news@evil.example"
    # When victim clears its sender, then its domain is free for another tenant
    assert run_ops(capsys, "set-sender", "--id", "victim", "--clear")[0] == 0
    assert run_ops(capsys, "set-sender", "--id", "evil", "--email-from", "promo@victim.example")[0] == 0


def test_a_sender_a_merchant_stored_before_the_fix_is_never_used(aws: None) -> None:
    # Given evil's program version written by a PUT before the sender and topic were the operator's
    from shared.container import container
    from shared.dal.models import ProgramItem
    from shared.dal.tenants_keys import tenant_pk

    make_tenant("evil")
    settings = {
        "currency": "RUB",
        "email_from": "news@victim.example",
        "staff_topic_arn": topic("loyalty-staff-victim"),
    }
    at = clock.now()
    ProgramItem(
        tenant_pk("evil"), "PROGRAM#000002", version=2, effective_at=at, settings=settings, created_at=at
    ).save()
    # When the tenant is loaded, then neither value is in force: the operator bound none
    evil = container().tenants.get("evil")
    assert evil is not None and evil.current.version == 2
    assert (evil.email_from, evil.staff_topic_arn) == (None, None)
    assert (evil.current.settings.email_from, evil.current.settings.staff_topic_arn) == (None, None)


# -- item 18: rotate and revoke API keys ------------------------------------------------------------------------------


def members(client: Any, tenant_id: str, key: str) -> Any:
    return client.http.get(f"/v1/tenants/{tenant_id}/members/c1", headers={"authorization": f"Bearer {key}"})


def test_rotate_key_prints_a_new_key_once_and_the_leaked_one_stops(
    client: Any, aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a tenant whose key leaked
    creds = make_tenant("shop-1")
    assert members(client, "shop-1", creds.api_key).status_code == 404
    # When the operator rotates it without grace
    code, out, err = run_ops(capsys, "rotate-key", "--id", "shop-1")
    assert code == 0, err
    printed = json.loads(out)
    assert printed["previous_valid_until"] is None and printed["api_key"].startswith("lk_")
    assert printed["api_key"] not in err and creds.api_key not in out + err
    # Then the leaked key gets 403 and the new one works
    assert_error(members(client, "shop-1", creds.api_key), 403, "forbidden")
    assert members(client, "shop-1", printed["api_key"]).status_code == 404  # authorized: no such member yet
    # And only hashes are stored
    stored = boto3.client("dynamodb", region_name=REGION).scan(TableName="loyalty-tenants")["Items"]
    assert printed["api_key"] not in json.dumps(stored) and creds.api_key not in json.dumps(stored)


def test_rotate_with_grace_keeps_the_old_key_until_it_ends_and_revoke_keys_stops_every_key(
    client: Any, frozen: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a tenant whose key is rotated with 60 minutes of grace
    creds = make_tenant("shop-1")
    code, out, err = run_ops(capsys, "rotate-key", "--id", "shop-1", "--grace-minutes", "60")
    assert code == 0, err
    new = json.loads(out)["api_key"]
    assert json.loads(out)["previous_valid_until"] == clock.iso(frozen.now + timedelta(minutes=60))
    # Then both keys work for the hour, and the old one is refused after it
    assert members(client, "shop-1", creds.api_key).status_code == 404
    frozen.advance(timedelta(minutes=60))
    assert_error(members(client, "shop-1", creds.api_key), 403, "forbidden")
    assert members(client, "shop-1", new).status_code == 404
    # When every key is revoked, then the new key is refused too until the next rotation
    code, out, err = run_ops(capsys, "revoke-keys", "--id", "shop-1")
    assert code == 0 and json.loads(out) == {"tenant_id": "shop-1", "revoked": 1}, err
    assert_error(members(client, "shop-1", new), 403, "forbidden")
    code, out, _ = run_ops(capsys, "rotate-key", "--id", "shop-1")
    assert members(client, "shop-1", json.loads(out)["api_key"]).status_code == 404
    # And an unknown tenant or a grace over 7 days is an error
    assert run_ops(capsys, "rotate-key", "--id", "nobody")[0] == 1
    assert run_ops(capsys, "rotate-key", "--id", "shop-1", "--grace-minutes", str(8 * 24 * 60))[0] == 1


def test_a_revoked_key_stops_in_another_container_within_the_cache_lifetime(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given another API container caching tenants for 60 s, which has just served the tenant's key
    from shared import tenants
    from shared.container import build
    from shared.settings import get_settings

    creds = make_tenant("shop-1")
    other = build(get_settings().model_copy(update={"tenant_cache_seconds": 60})).tenants
    other.authorize("shop-1", creds.api_key)
    # When the operator revokes every key
    assert run_ops(capsys, "revoke-keys", "--id", "shop-1")[0] == 0
    # Then that container may still accept it from its cache, but not once its copy is 60 s old
    started = tenants.time.monotonic()
    monkeypatch.setattr(tenants.time, "monotonic", lambda: started + 60)
    with pytest.raises(Forbidden):
        other.authorize("shop-1", creds.api_key)
