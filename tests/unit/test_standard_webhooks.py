"""Standard Webhooks signature verification (docs/spec.md §5), shared/webhooks/standard.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from shared.webhooks.signatures import SignatureRefused
from shared.webhooks.standard import sign, verify

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
OLD_SECRET = "whsec_" + base64.b64encode(b"o" * 32).decode()
BODY = b'{"type":"order.paid","data":{"order_id":"o1"}}'
TOLERANCE = 300


def headers(signature: str, msg_id: str = "msg_1", ts: int = TS) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": signature}


def rejected(hdrs: dict[str, str], body: bytes = BODY, secrets: tuple[str, ...] = (SECRET,)) -> str:
    with pytest.raises(SignatureRefused) as exc:
        verify(hdrs, body, list(secrets), NOW, TOLERANCE)
    # every failure answers the same 401 body (issue 13); the reason is kept for the log only
    assert (exc.value.status, exc.value.code, exc.value.message) == (
        401,
        "invalid_signature",
        "signature does not match",
    )
    return exc.value.reason


def test_sign_matches_the_published_scheme() -> None:
    # Given the scheme: HMAC-SHA256 over "{id}.{ts}.{body}" keyed with the base64-decoded secret
    expected = hmac.new(b"k" * 32, b"msg_1.%d." % TS + BODY, hashlib.sha256).digest()
    # Then sign produces "v1,<base64>"
    assert sign(SECRET, "msg_1", TS, BODY) == "v1," + base64.b64encode(expected).decode()


def test_valid_signature_returns_the_message_id() -> None:
    # Given a delivery signed with the tenant's secret
    # When verified, then its id is returned
    assert verify(headers(sign(SECRET, "msg_1", TS, BODY)), BODY, [SECRET], NOW, TOLERANCE) == "msg_1"


def test_header_names_are_case_insensitive() -> None:
    # Given the headers in mixed case, as some proxies send them
    hdrs = {k.title(): v for k, v in headers(sign(SECRET, "msg_1", TS, BODY)).items()}
    # Then the delivery still verifies
    assert verify(hdrs, BODY, [SECRET], NOW, TOLERANCE) == "msg_1"


def test_rotation_accepts_either_secret_and_several_signatures() -> None:
    # Given a tenant with a new and an old secret
    secrets = [SECRET, OLD_SECRET]
    # When a sender still signs with the old secret
    assert verify(headers(sign(OLD_SECRET, "msg_1", TS, BODY)), BODY, secrets, NOW, TOLERANCE) == "msg_1"
    # When a sender sends a stale signature and a valid one, space-separated
    stale = sign("whsec_" + base64.b64encode(b"x" * 32).decode(), "msg_1", TS, BODY)
    both = f"{stale} {sign(SECRET, 'msg_1', TS, BODY)}"
    assert verify(headers(both), BODY, [SECRET], NOW, TOLERANCE) == "msg_1"
    # When the tenant dropped the old secret, the old signature no longer verifies
    assert rejected(headers(sign(OLD_SECRET, "msg_1", TS, BODY))) == "invalid_signature"


def test_tampered_body_is_rejected() -> None:
    # Given a signature over the original body
    signature = sign(SECRET, "msg_1", TS, BODY)
    # When one byte of the body changes
    # Then the delivery is rejected
    assert rejected(headers(signature), BODY.replace(b"o1", b"o2")) == "invalid_signature"


def test_signature_is_bound_to_id_and_timestamp() -> None:
    # Given a valid signature for msg_1 at TS
    signature = sign(SECRET, "msg_1", TS, BODY)
    # When replayed under another id or timestamp, then it is rejected
    assert rejected(headers(signature, msg_id="msg_2")) == "invalid_signature"
    assert rejected(headers(signature, ts=TS + 1)) == "invalid_signature"


def test_wrong_secret_and_garbage_signatures_are_rejected() -> None:
    # Given signatures that are wrong, not base64, or of another scheme version
    good = sign(SECRET, "msg_1", TS, BODY).split(",", 1)[1]
    for signature in (sign(OLD_SECRET, "msg_1", TS, BODY), "v1,@@@not-base64@@@", f"v2,{good}", good, "v1,"):
        # Then each is rejected as an invalid signature
        assert rejected(headers(signature)) == "invalid_signature", signature


@pytest.mark.parametrize("offset", [TOLERANCE + 1, -(TOLERANCE + 1), 86_400])
def test_stale_or_future_timestamp_is_rejected(offset: int) -> None:
    # Given a correctly signed delivery whose timestamp is outside ±5 minutes
    ts = TS + offset
    # Then it is rejected for its timestamp
    assert rejected(headers(sign(SECRET, "msg_1", ts, BODY), ts=ts)) == "timestamp_out_of_tolerance"


@pytest.mark.parametrize("offset", [TOLERANCE, -TOLERANCE, 0])
def test_timestamp_at_the_tolerance_edge_is_accepted(offset: int) -> None:
    # Given a timestamp exactly within ±5 minutes
    ts = TS + offset
    # Then the delivery verifies
    assert verify(headers(sign(SECRET, "msg_1", ts, BODY), ts=ts), BODY, [SECRET], NOW, TOLERANCE) == "msg_1"


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_headers_are_rejected(missing: str) -> None:
    # Given a signed delivery with one of the three headers removed
    hdrs = headers(sign(SECRET, "msg_1", TS, BODY))
    del hdrs[missing]
    # Then it is rejected as unsigned
    assert rejected(hdrs) == "missing_signature"


def test_non_numeric_timestamp_is_rejected() -> None:
    # Given a timestamp that is not Unix seconds
    hdrs = headers(sign(SECRET, "msg_1", TS, BODY))
    hdrs["webhook-timestamp"] = NOW.isoformat()
    # Then it is rejected
    assert rejected(hdrs) in {"invalid_timestamp", "timestamp_out_of_tolerance"}


def test_no_secrets_never_verifies() -> None:
    # Given a tenant without secrets, then nothing verifies
    assert rejected(headers(sign(SECRET, "msg_1", TS, BODY)), secrets=()) == "invalid_signature"
