"""`require_token` for Flask views: test client, and one real server run."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator

import httpx
import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from platxa_secrets.core.scopes import Principal, Scope
from platxa_secrets.core.token_format import new_token
from platxa_secrets.errors import AuthenticationError, ConfigError, ValidationError
from platxa_secrets.server.flask import init_app, require_token

READER, READER_PARTS = new_token()
HOOK, HOOK_PARTS = new_token()
ADMIN, ADMIN_PARTS = new_token()
UNKNOWN, _ = new_token()
PRINCIPALS = {
    READER: Principal(READER_PARTS.id, "reader", (Scope("tenant-*", "read"),)),
    HOOK: Principal(HOOK_PARTS.id, "hook", (Scope("webhook", "alertmanager"),)),
    ADMIN: Principal(ADMIN_PARTS.id, "admin", (Scope("*", "admin"),)),
}


def verify(text: str) -> Principal:
    try:
        return PRINCIPALS[text]
    except KeyError:
        raise AuthenticationError("invalid token", reason="unknown token id") from None


def build() -> Flask:
    app = Flask(__name__)
    init_app(app, verify)

    @app.get("/any")
    @require_token()
    def any_token() -> str:
        return str(g.principal.token_id)

    @app.get("/tenant-a")
    @require_token("tenant-a:read")
    def tenant_a() -> str:
        return str(g.principal.name)

    @app.post("/hooks/alertmanager")
    @require_token("webhook:alertmanager")
    def hook() -> str:
        return "accepted"

    @app.get("/keys")
    @require_token("*:admin")
    def keys() -> str:
        return "keys"

    return app


@pytest.fixture
def client() -> Iterator[FlaskClient]:
    with build().test_client() as test_client:
        yield test_client


def bearer(text: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {text}"}


def test_a_covering_token_runs_the_view_with_g_principal(client: FlaskClient) -> None:
    assert client.get("/any", headers=bearer(READER)).text == READER_PARTS.id
    assert client.get("/tenant-a", headers=bearer(READER)).text == "reader"
    assert client.get("/tenant-a", headers=bearer(ADMIN)).text == "admin"
    assert client.post("/hooks/alertmanager", headers=bearer(HOOK)).text == "accepted"
    assert client.get("/keys", headers=bearer(ADMIN)).text == "keys"


@pytest.mark.parametrize(
    ("headers", "challenge"),
    [
        ({}, 'Bearer realm="platxa-secrets"'),
        (bearer(UNKNOWN), 'Bearer realm="platxa-secrets", error="invalid_token"'),
        (
            {"Authorization": f"Bearer {READER} {READER}"},
            'Bearer realm="platxa-secrets", error="invalid_request"',
        ),
    ],
)
def test_bad_credentials_are_a_401_problem(
    client: FlaskClient, headers: dict[str, str], challenge: str
) -> None:
    response = client.get("/any", headers=headers)

    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == challenge
    assert response.json is not None and response.json["status"] == 401
    assert UNKNOWN not in response.text and READER not in response.text


@pytest.mark.parametrize(
    ("path", "token", "scope"),
    [
        ("/tenant-a", HOOK, "tenant-a:read"),
        ("/hooks/alertmanager", READER, "webhook:alertmanager"),
        ("/keys", READER, "*:admin"),
    ],
)
def test_a_token_without_the_scope_is_a_403_naming_it(
    client: FlaskClient, path: str, token: str, scope: str
) -> None:
    method = client.post if path.startswith("/hooks") else client.get
    response = method(path, headers=bearer(token))

    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="platxa-secrets", error="insufficient_scope", scope="{scope}"'
    )
    assert response.json is not None and response.json["title"] == "Forbidden"
    assert token not in response.text


def test_a_token_in_the_query_string_is_refused(client: FlaskClient) -> None:
    response = client.get(f"/any?access_token={READER}", headers=bearer(READER))

    assert response.status_code == 401
    assert 'error="invalid_request"' in response.headers["WWW-Authenticate"]
    assert READER not in response.text


def test_a_bad_scope_fails_when_the_view_is_declared() -> None:
    with pytest.raises(ValidationError) as caught:
        require_token("tenant-a:own")
    assert caught.value.field == "scope"


def test_a_view_without_a_verifier_is_a_configuration_error() -> None:
    app = Flask(__name__)
    app.testing = True

    @app.get("/x")
    @require_token()
    def view() -> str:
        return "x"

    @app.get("/y")
    @require_token(verify=verify)
    def given() -> str:
        return "y"

    with pytest.raises(ConfigError, match="init_app"):
        app.test_client().get("/x", headers=bearer(READER))
    assert app.test_client().get("/y", headers=bearer(READER)).text == "y"


def test_a_real_werkzeug_server() -> None:
    server = make_server("127.0.0.1", 0, build(), threaded=True)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        with httpx.Client(base_url=url, trust_env=False, timeout=10) as client:
            ok = client.get("/tenant-a", headers=bearer(READER))
            refused = client.get("/tenant-a")
            raw = client.get("/any", headers={b"Authorization": b"Bearer \xc3\xa9"})
    finally:
        server.shutdown()
        thread.join(10)

    assert (ok.status_code, ok.text) == (200, "reader")
    assert refused.status_code == 401
    assert raw.status_code == 401


def test_the_module_imports_without_flask() -> None:
    code = (
        "import sys; sys.modules['flask'] = None\n"
        "from platxa_secrets.server.flask import require_token\n"
        "require_token('tenant-a:read')\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ok\n"
