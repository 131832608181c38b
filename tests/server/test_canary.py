"""The canary over HTTP: a planted value and a token appear nowhere else.

A value is written through the API and a token is minted; then every
endpoint is called with them, successes and failures (the value inside
malformed bodies, the token in a query string, in the wrong scope).
Afterwards the value may appear only in the responses whose job is to
return it (reading the secret, decrypting it), and the token nowhere:
not in a response body or header, not in the server's log output (at
debug level), not in an audit event, not in /metrics, not in the
database files.
"""

from __future__ import annotations

import base64
from pathlib import Path

import httpx

from platxa_secrets.services.audit import AuditLog
from platxa_secrets.services.tokens import TokenService
from tests.server.conftest import Served, pxs_env, pxs_serve

CANARY = b"CANARY-5e0a91-http-planted-value"
VALUE_FORMS = [
    CANARY,
    CANARY.hex().encode(),
    *(base64.b64encode(CANARY[i:])[:24] for i in range(3)),
    *(base64.urlsafe_b64encode(CANARY[i:])[:24] for i in range(3)),
]
NS = "tenant-canary"


def _blob(response: httpx.Response) -> bytes:
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    return headers.encode() + b"\n" + response.content


def _exercise(
    served: Served, token: str, fixtures: Path
) -> tuple[list[bytes], list[bytes]]:
    """Call everything; return (responses that may show the value, the rest)."""
    auth = {"Authorization": f"Bearer {token}"}
    api = httpx.Client(base_url=served.url, headers=auth, timeout=30)
    anonymous = httpx.Client(base_url=served.url, timeout=30)
    value = base64.b64encode(CANARY).decode()
    secret = f"/v1/namespaces/{NS}/secrets/app"
    context = f"{NS}/app/password"
    json_type = {"content-type": "application/json"}

    allowed = [_blob(api.put(secret, json={"data": {"PASSWORD": value}}))]
    allowed.append(_blob(api.get(secret)))
    sealed = api.post(
        "/v1/encrypt", json={"items": [{"plaintext": value, "context": context}]}
    )
    ciphertext = sealed.json()["items"][0]["ciphertext"]
    allowed.append(
        _blob(
            api.post(
                "/v1/decrypt",
                json={"items": [{"ciphertext": ciphertext, "context": context}]},
            )
        )
    )

    others = [sealed]
    others += [
        api.put(secret, json={"string_data": {"PASSWORD": CANARY.decode()}, "cas": 1}),
        api.put(secret, json={"string_data": {"PASSWORD": CANARY.decode()}, "cas": 9}),
        api.put(secret, json={"data": {"PASSWORD": CANARY.decode() + "*"}}),
        api.put(secret, content=b'{"data": {"P": "' + CANARY, headers=json_type),
        api.put(secret, content=CANARY, headers={"content-type": "text/plain"}),
        api.put(secret, json={"data": {"P": value}, "x": CANARY.decode()}),
        api.get(f"{secret}/versions"),
        api.get(f"/v1/namespaces/{NS}/secrets"),
        api.post(
            "/v1/rewrap",
            json={"items": [{"ciphertext": ciphertext, "context": context}]},
        ),
        api.post(
            "/v1/decrypt",
            json={"items": [{"ciphertext": ciphertext, "context": f"{NS}/other"}]},
        ),
        api.post(
            "/v1/encrypt",
            json={"items": [{"plaintext": value, "context": "Bad Context"}]},
        ),
        api.post(
            f"/v1/namespaces/{NS}/provision",
            json={"template": "odoo", "params": {"db_host": "h", "x": CANARY.decode()}},
        ),
        api.post(f"/v1/namespaces/{NS}/provision", json={"params": {"db_host": "h"}}),
        api.post("/v1/jwt/sign", json={"claims": {"note": "n"}}),
        api.post("/v1/jwt/verify", json={"token": CANARY.decode()}),
        api.post("/v1/jwt/verify", json={"token": f"a.{value}.b"}),
        api.post(
            "/v1/webhooks/alertmanager",
            content=(
                fixtures / "alertmanager" / "certificate-expiring.json"
            ).read_bytes(),
            headers=json_type,
        ),
        api.get("/v1/keys"),
        api.get("/v1/keys/census"),
        api.get("/v1/keys/rotation"),
        api.delete(secret),
        api.post(f"{secret}/undelete"),
        api.post(f"{secret}/destroy", params={"versions": "1"}),
        anonymous.get(f"/v1/keys?access_token={token}"),
        anonymous.get(f"/v1/namespaces/{NS}/secrets?{token}"),
        anonymous.get(f"/{token}"),
        anonymous.get("/v1/keys", headers={"Authorization": f"Basic {token}"}),
        anonymous.get("/v1/keys", headers={"Authorization": f"Bearer {token}x"}),
        anonymous.get("/.well-known/jwks.json"),
        anonymous.get("/healthz"),
        anonymous.get("/readyz"),
    ]
    metrics = anonymous.get("/metrics")
    api.close()
    anonymous.close()
    return allowed, [_blob(r) for r in others] + [_blob(metrics)]


def test_the_value_and_the_token_leak_nowhere(
    tmp_path: Path, fixtures_dir: Path
) -> None:
    with pxs_serve(pxs_env(tmp_path), "--log-level", "debug") as served:
        from platxa_secrets.services.jwt_keys import JwtService

        JwtService(served.runtime).rotate()
        token, _ = TokenService(served.runtime).create("canary", ["*:admin"])

        allowed, others = _exercise(served, token, fixtures_dir)
        served.stop()
        events = repr(AuditLog(served.runtime).list(limit=100_000))
        log = served.stderr

    token_forms = [token.encode(), token.split("_")[2].encode()]
    assert any(base64.b64encode(CANARY) in blob for blob in allowed)
    for index, blob in enumerate(others):
        assert not [f for f in VALUE_FORMS + token_forms if f in blob], index
    for blob in allowed:
        assert not [f for f in token_forms if f in blob]
    assert b"GET /v1/keys 200" in log  # the log was captured at debug level
    assert not [f for f in VALUE_FORMS + token_forms if f in log]
    assert not [f for f in VALUE_FORMS + token_forms if f in events.encode()]
    for path in (tmp_path / "pxs").glob("secrets.db*"):
        content = path.read_bytes()
        assert not [f for f in VALUE_FORMS + token_forms if f in content], path.name
