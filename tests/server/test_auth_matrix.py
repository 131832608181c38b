"""Every endpoint by every kind of credential: only the expected calls pass.

The table is the whole policy in one place. A credential that does not
authenticate (none, a damaged checksum, unknown, expired, revoked) gets
401 with a `WWW-Authenticate: Bearer` challenge on every `/v1` route; a
valid token without the scope gets 403; a token with it gets a 2xx.
Public routes answer everyone alike.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from platxa_secrets.core.token_format import new_token
from platxa_secrets.services.envelope import Envelope
from platxa_secrets.services.jwt_keys import JwtService
from platxa_secrets.services.secrets import SecretService
from tests.server.conftest import Live, problem_of

NS = f"mx-{secrets.token_hex(3)}"

# Credentials that never authenticate, and valid tokens by their grants.
INVALID = ("none", "bad-checksum", "unknown", "expired", "revoked")
GRANTS: dict[str, tuple[str, ...]] = {
    "wrong-namespace": ("other-ns:admin",),
    "reader": (f"{NS}:read",),
    "writer": (f"{NS}:write",),
    "ns-admin": (f"{NS}:admin",),
    "admin": ("*:admin",),
    "signer": ("jwt:sign",),
    "hook": ("webhook:alertmanager",),
}
VALID = tuple(GRANTS)
READ = {"reader", "writer", "ns-admin", "admin"}
WRITE = {"writer", "ns-admin", "admin"}
NS_ADMIN = {"ns-admin", "admin"}
ADMIN = {"admin"}
SIGN = {"signer", "admin"}
ANY = set(VALID)
HOOK = {"hook"}
PUBLIC = {"*"}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    allowed: set[str]
    body: Callable[[World, str], Any] | None = None
    prepare: Callable[[World, str], None] | None = None


@dataclass
class World:
    """The module's store: what each call needs to find."""

    live: Live
    tokens: dict[str, str | None]
    jwt: str
    alert: bytes

    def secret(self, name: str) -> None:
        SecretService(self.live.runtime).put(NS, name, {"K": b"matrix"})

    def deleted(self, name: str) -> None:
        self.secret(name)
        SecretService(self.live.runtime).delete(NS, name)

    def sealed(self) -> str:
        return Envelope(self.live.runtime).encrypt(b"matrix", f"{NS}/app")


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


ENDPOINTS: dict[str, Endpoint] = {
    "list": Endpoint("GET", "/v1/namespaces/{ns}/secrets", READ),
    "get": Endpoint(
        "GET", "/v1/namespaces/{ns}/secrets/{name}", READ, prepare=World.secret
    ),
    "put": Endpoint(
        "PUT",
        "/v1/namespaces/{ns}/secrets/{name}",
        WRITE,
        body=lambda w, n: {"string_data": {"K": "v"}},
    ),
    "history": Endpoint(
        "GET",
        "/v1/namespaces/{ns}/secrets/{name}/versions",
        READ,
        prepare=World.secret,
    ),
    "delete": Endpoint(
        "DELETE", "/v1/namespaces/{ns}/secrets/{name}", WRITE, prepare=World.secret
    ),
    "undelete": Endpoint(
        "POST",
        "/v1/namespaces/{ns}/secrets/{name}/undelete",
        WRITE,
        prepare=World.deleted,
    ),
    "destroy": Endpoint(
        "POST",
        "/v1/namespaces/{ns}/secrets/{name}/destroy",
        NS_ADMIN,
        prepare=World.secret,
    ),
    "provision": Endpoint(
        "POST",
        "/v1/namespaces/{ns}/provision",
        WRITE,
        body=lambda w, n: {"template": "odoo", "params": {"db_host": "db"}},
    ),
    "keys": Endpoint("GET", "/v1/keys", ADMIN),
    "census": Endpoint("GET", "/v1/keys/census", ADMIN),
    "rotation": Endpoint("GET", "/v1/keys/rotation", ADMIN),
    "encrypt": Endpoint(
        "POST",
        "/v1/encrypt",
        WRITE,
        body=lambda w, n: {
            "items": [{"plaintext": _b64(b"x"), "context": f"{NS}/app"}]
        },
    ),
    "decrypt": Endpoint(
        "POST",
        "/v1/decrypt",
        READ,
        body=lambda w, n: {
            "items": [{"ciphertext": w.sealed(), "context": f"{NS}/app"}]
        },
    ),
    "rewrap": Endpoint(
        "POST",
        "/v1/rewrap",
        WRITE,
        body=lambda w, n: {
            "items": [{"ciphertext": w.sealed(), "context": f"{NS}/app"}]
        },
    ),
    "jwt-sign": Endpoint(
        "POST", "/v1/jwt/sign", SIGN, body=lambda w, n: {"claims": {"sub": "s"}}
    ),
    "jwt-verify": Endpoint(
        "POST", "/v1/jwt/verify", ANY, body=lambda w, n: {"token": w.jwt}
    ),
    "webhook": Endpoint(
        "POST", "/v1/webhooks/alertmanager", HOOK, body=lambda w, n: w.alert
    ),
    "jwks": Endpoint("GET", "/.well-known/jwks.json", PUBLIC),
    "healthz": Endpoint("GET", "/healthz", PUBLIC),
    "readyz": Endpoint("GET", "/readyz", PUBLIC),
    "metrics": Endpoint("GET", "/metrics", PUBLIC),
}


@pytest.fixture(scope="module")
def world(live: Live, fixtures_dir: Path, jwt_key: str) -> Iterator[World]:
    valid = live.token("*:admin")
    damaged = valid[:-1] + ("A" if valid[-1] != "A" else "B")
    tokens: dict[str, str | None] = {
        "none": None,
        "bad-checksum": damaged,
        "unknown": new_token()[0],
        "expired": live.expired_token("*:admin"),
        "revoked": live.revoked_token("*:admin"),
    }
    tokens.update({name: live.token(*scopes) for name, scopes in GRANTS.items()})

    jwt = JwtService(live.runtime)
    alert = (fixtures_dir / "alertmanager" / "certificate-expiring.json").read_bytes()
    yield World(live, tokens, jwt.sign({"sub": "matrix"}), alert)


CASES = [
    pytest.param(endpoint, credential, id=f"{endpoint}-{credential}")
    for endpoint in ENDPOINTS
    for credential in (*INVALID, *VALID)
]


@pytest.mark.parametrize(("endpoint", "credential"), CASES)
def test_only_the_expected_calls_pass(
    world: World, endpoint: str, credential: str
) -> None:
    spec = ENDPOINTS[endpoint]
    name = f"{endpoint}-{credential}"
    if spec.prepare is not None:
        spec.prepare(world, name)

    response = _call(world, spec, name, world.tokens[credential])

    if spec.allowed == PUBLIC or credential in spec.allowed:
        assert 200 <= response.status_code < 300, response.text
        return
    if credential in INVALID:
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"].startswith("Bearer ")
        assert problem_of(response)["detail"] == "a valid bearer token is required"
        return
    assert response.status_code == 403, response.text
    assert problem_of(response)["type"].endswith(":forbidden")


def _call(world: World, spec: Endpoint, name: str, token: str | None) -> Any:
    client = world.live.client(token)
    path = spec.path.format(ns=NS, name=name)
    body = spec.body(world, name) if spec.body else None
    if isinstance(body, bytes):
        return client.request(
            spec.method,
            path,
            content=body,
            headers={"content-type": "application/json"},
        )
    if body is None:
        return client.request(spec.method, path)
    return client.request(
        spec.method,
        path,
        content=json.dumps(body),
        headers={"content-type": "application/json"},
    )


def test_401_challenges_follow_rfc_6750(world: World) -> None:
    """No credential: a bare challenge; a rejected one: error=invalid_token."""
    path = f"/v1/namespaces/{NS}/secrets"

    bare = world.live.client().get(path)
    rejected = world.live.client(world.tokens["unknown"]).get(path)

    assert bare.headers["www-authenticate"] == 'Bearer realm="platxa-secrets"'
    assert rejected.headers["www-authenticate"] == (
        'Bearer realm="platxa-secrets", error="invalid_token"'
    )
    assert bare.json()["detail"] == rejected.json()["detail"]


def test_403_names_the_missing_scope_not_the_token(world: World) -> None:
    reader = world.tokens["reader"]
    assert reader is not None

    response = world.live.client(reader).put(
        f"/v1/namespaces/{NS}/secrets/x", json={"string_data": {"K": "v"}}
    )

    problem = problem_of(response)
    assert response.status_code == 403
    assert f"write on namespace {NS}" in problem["detail"]
    assert reader.split("_")[1] not in response.text
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
