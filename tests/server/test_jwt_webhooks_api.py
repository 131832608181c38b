"""JWKS, JWT signing and verification, and the Alertmanager webhook."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path

import httpx
import pytest

from platxa_secrets.services.audit import AuditLog
from tests.server.conftest import Live, problem_of, pxs_env, pxs_serve


def _segment(document: dict[str, object]) -> str:
    raw = json.dumps(document).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_jwks_is_public_and_holds_public_members_only(live: Live, jwt_key: str) -> None:
    response = live.client().get("/.well-known/jwks.json")

    keys = response.json()["keys"]
    assert response.status_code == 200
    assert jwt_key in {key["kid"] for key in keys}
    assert all(not {"d", "p", "q", "dp", "dq", "qi"} & set(key) for key in keys)
    assert response.headers["cache-control"] == "public, max-age=60"


def test_an_empty_jwks_is_not_cached(tmp_path: Path) -> None:
    with pxs_serve(pxs_env(tmp_path)) as served:
        empty = httpx.get(f"{served.url}/.well-known/jwks.json", timeout=10)

    assert empty.json() == {"keys": []}
    assert empty.headers["cache-control"] == "no-store"


def test_sign_then_verify(live: Live, jwt_key: str) -> None:
    signer = live.client(live.token("jwt:sign"))
    verifier = live.client(live.token("tenant-x:read"))

    signed = signer.post(
        "/v1/jwt/sign",
        json={
            "claims": {"sub": "tenant-a", "role": "db"},
            "ttl": 300,
            "audience": "odoo",
        },
    )
    token = signed.json()["token"]
    verified = verifier.post(
        "/v1/jwt/verify", json={"token": token, "audience": "odoo"}
    )
    wrong_audience = verifier.post("/v1/jwt/verify", json={"token": token})

    assert signed.status_code == 200, signed.text
    claims = verified.json()["claims"]
    assert (claims["sub"], claims["role"], claims["aud"]) == ("tenant-a", "db", "odoo")
    assert claims["exp"] - claims["iat"] == 300
    assert wrong_audience.status_code == 400
    assert problem_of(wrong_audience)["detail"] == "invalid token"


def test_alg_none_and_tampered_tokens_are_invalid(live: Live, jwt_key: str) -> None:
    client = live.client(live.token("*:admin"))
    token = client.post("/v1/jwt/sign", json={"claims": {"sub": "a"}}).json()["token"]
    header, payload, signature = token.split(".")
    forged_payload = _segment({"sub": "admin", "iss": "platxa-secrets"})
    unsigned = f"{_segment({'alg': 'none', 'kid': jwt_key})}.{payload}.x"

    responses = [
        client.post("/v1/jwt/verify", json={"token": forged})
        for forged in (
            unsigned,
            f"{header}.{forged_payload}.{signature}",
            f"{header}.{payload}.{signature[:-4]}AAAA",
            "not.a.jwt",
        )
    ]

    assert [r.status_code for r in responses] == [400] * 4
    assert {problem_of(r)["detail"] for r in responses} == {"invalid token"}
    assert all(r.headers.get("www-authenticate") is None for r in responses)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"claims": {"exp": 9999999999}}, "body.claims"),
        ({"claims": {}, "ttl": 10 * 86400}, "body.ttl"),
        ({"claims": {}, "audience": "has space"}, "body.audience"),
    ],
)
def test_sign_refuses_what_it_sets_itself(
    live: Live, jwt_key: str, body: dict[str, object], field: str
) -> None:
    response = live.client(live.token("jwt:sign")).post("/v1/jwt/sign", json=body)

    problem = problem_of(response)
    assert response.status_code == 422
    assert problem["field"] == field
    assert [error["field"] for error in problem["errors"]] == [field]


def test_verify_is_audited_with_its_reason(live: Live, jwt_key: str) -> None:
    client = live.client(live.token("tenant-x:read"))

    client.post(
        "/v1/jwt/verify", json={"token": "a.b.c"}, headers={"X-Request-ID": "jv-1"}
    )

    event = next(e for e in AuditLog(live.runtime).list() if e.request_id == "jv-1")
    assert (event.action, event.outcome) == ("jwt.verify", "error")
    assert "a.b.c" not in (event.detail or "")


def test_alertmanager_webhook_is_idempotent(live: Live, fixtures_dir: Path) -> None:
    notification = json.loads(
        (fixtures_dir / "alertmanager" / "certificate-expiring.json").read_bytes()
    )
    notification["alerts"][0]["fingerprint"] = secrets.token_hex(8)  # this test's own
    body = json.dumps(notification).encode()
    client = live.client(live.token("webhook:alertmanager"))
    path = "/v1/webhooks/alertmanager"
    headers = {"content-type": "application/json"}

    first = client.post(path, content=body, headers=headers)
    second = client.post(path, content=body, headers=headers)

    assert first.status_code == 200, first.text
    assert first.json() == {
        "receiver": "alertmanager",
        "received": 1,
        "recorded": 1,
        "duplicates": 0,
    }
    assert second.json()["recorded"] == 0
    assert second.json()["duplicates"] == 1


def test_webhook_refusals(live: Live, fixtures_dir: Path) -> None:
    hook = live.client(live.token("webhook:alertmanager"))
    other = live.client(live.token("webhook:grafana"))
    headers = {"content-type": "application/json"}

    malformed = hook.post(
        "/v1/webhooks/alertmanager", content=b'{"version": "4"}', headers=headers
    )
    unknown = other.post("/v1/webhooks/grafana", content=b"{}", headers=headers)
    wrong_receiver = hook.post("/v1/webhooks/grafana", content=b"{}", headers=headers)
    as_text = hook.post(
        "/v1/webhooks/alertmanager",
        content=b"{}",
        headers={"content-type": "text/plain"},
    )

    assert malformed.status_code == 422
    assert unknown.status_code == 404
    assert wrong_receiver.status_code == 403
    assert as_text.status_code == 415


def test_an_alert_cannot_file_events_under_a_reserved_namespace(
    live: Live, fixtures_dir: Path
) -> None:
    notification = json.loads(
        (fixtures_dir / "alertmanager" / "certificate-expiring.json").read_bytes()
    )
    reserved, tenant = (dict(notification["alerts"][0]) for _ in range(2))
    reserved["fingerprint"] = secrets.token_hex(8)
    tenant["fingerprint"] = secrets.token_hex(8)
    reserved["labels"] = {**reserved["labels"], "namespace": "platxa-system"}
    notification["alerts"] = [reserved, tenant]
    client = live.client(live.token("webhook:alertmanager"))

    response = client.post(
        "/v1/webhooks/alertmanager",
        content=json.dumps(notification),
        headers={"content-type": "application/json", "X-Request-ID": "am-reserved"},
    )

    events = [
        e
        for e in AuditLog(live.runtime).list(limit=500)
        if e.request_id == "am-reserved"
    ]
    filed = {
        fingerprint: (e.namespace, e.name)
        for e in events
        for fingerprint in (reserved["fingerprint"], tenant["fingerprint"])
        if fingerprint in (e.detail or "")
    }
    assert response.json()["recorded"] == 2
    assert filed[reserved["fingerprint"]] == (None, None)
    assert filed[tenant["fingerprint"]] == ("tenant-acme", "odoo-tls")
    assert all(e.namespace != "platxa-system" for e in events)
