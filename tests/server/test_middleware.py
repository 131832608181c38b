"""The ASGI middleware, driven over HTTP through a real uvicorn server."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request

from platxa_secrets.api import Platxa
from platxa_secrets.core.scopes import Principal, Scope
from platxa_secrets.core.token_format import new_token
from platxa_secrets.errors import AuthenticationError, StoreError
from platxa_secrets.server.middleware import (
    BearerAuthMiddleware,
    Receive,
    Send,
    verifier_from,
)
from platxa_secrets.server.middleware import Scope as Scope_

GOOD, GOOD_PARTS = new_token()
BROKEN_STORE, _ = new_token()
REFUSED, _ = new_token()
EXEMPT = "/healthz"


def fake_verify(text: str) -> Principal:
    """Stands in for TokenService.authenticate: one good token."""
    if text == BROKEN_STORE:
        raise StoreError("database sqlite:///x failed a read")
    if text != GOOD:
        raise AuthenticationError("invalid token", reason="unknown token id")
    return Principal(GOOD_PARTS.id, "fake", (Scope("tenant-a", "read"),))


async def echo(scope: Scope_, receive: Receive, send: Send) -> None:
    """Says which principal the middleware handed it."""
    principal = (scope.get("state") or {}).get("principal")
    body = json.dumps(
        {
            "principal": principal.token_id if principal else None,
            "path": scope["path"],
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Run `app` on uvicorn on a free port of 127.0.0.1, in a thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    app = BearerAuthMiddleware(echo, fake_verify, exempt_paths=(EXEMPT,))
    with serving(app) as url:
        yield url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, trust_env=False, timeout=10) as client:
        yield client


def assert_refused(
    response: httpx.Response, challenge: str | None, status: int = 401
) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers.get("www-authenticate") == challenge
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    for token in (GOOD, REFUSED, BROKEN_STORE):
        assert token not in response.text
        assert token[17:57] not in response.text
    return body


def test_a_valid_token_reaches_the_app_with_its_principal(http: httpx.Client) -> None:
    for scheme in ("Bearer", "bearer", "BEARER"):
        response = http.get("/x", headers={"Authorization": f"{scheme} {GOOD}"})
        assert response.status_code == 200
        assert response.json() == {"principal": GOOD_PARTS.id, "path": "/x"}


def test_no_credentials_get_a_challenge_without_an_error_code(
    http: httpx.Client,
) -> None:
    body = assert_refused(http.get("/x"), 'Bearer realm="platxa-secrets"')
    assert body["title"] == "Unauthorized"
    assert "Authorization" in body["detail"]

    basic = http.get("/x", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_refused(basic, 'Bearer realm="platxa-secrets"')
    assert "dXNlcjpwYXNz" not in basic.text


def test_a_rejected_token_is_invalid_token_and_not_echoed(http: httpx.Client) -> None:
    response = http.get("/x", headers={"Authorization": f"Bearer {REFUSED}"})

    body = assert_refused(
        response, 'Bearer realm="platxa-secrets", error="invalid_token"'
    )
    assert body["detail"] == "invalid token"


@pytest.mark.parametrize(
    "headers",
    [
        [("Authorization", "Bearer")],
        [("Authorization", f"Bearer {GOOD}, Bearer {GOOD}")],
        [("Authorization", f"Bearer {GOOD}"), ("Authorization", f"Bearer {GOOD}")],
        [("Authorization", f'Bearer "{GOOD}"')],
    ],
)
def test_a_malformed_header_is_invalid_request(
    http: httpx.Client, headers: list[tuple[str, str]]
) -> None:
    response = http.get("/x", headers=headers)

    assert_refused(response, 'Bearer realm="platxa-secrets", error="invalid_request"')


def test_non_ascii_credentials_are_a_401_never_a_500(base_url: str) -> None:
    port = int(base_url.rsplit(":", 1)[1])
    request = (
        b"GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer \xc3\xa9\xff" + GOOD.encode() + b"\r\n"
        b"Connection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk

    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 401 ")
    assert b'error="invalid_request"' in head
    assert (
        json.loads(body)["detail"] == "the Authorization header must be printable ASCII"
    )


def test_a_token_in_the_query_string_is_refused_even_with_a_good_header(
    http: httpx.Client,
) -> None:
    good = {"Authorization": f"Bearer {GOOD}"}
    for url in (f"/x?access_token={GOOD}", f"/x?q={GOOD}", f"{EXEMPT}?token=abc"):
        response = http.get(url, headers=good)
        body = assert_refused(
            response, 'Bearer realm="platxa-secrets", error="invalid_request"'
        )
        assert "query string" in body["detail"]


def test_an_exempt_path_needs_no_token(http: httpx.Client) -> None:
    response = http.get(EXEMPT)

    assert response.status_code == 200
    assert response.json() == {"principal": None, "path": EXEMPT}
    assert http.get(EXEMPT + "/more").status_code == 401


def test_a_store_that_cannot_answer_is_503_not_401(http: httpx.Client) -> None:
    response = http.get("/x", headers={"Authorization": f"Bearer {BROKEN_STORE}"})

    body = assert_refused(response, None, status=503)
    assert "sqlite" not in body["detail"]


def test_the_real_token_service_behind_a_real_server(pxs: Platxa) -> None:
    from platxa_secrets.services.tokens import TokenService

    text, info = TokenService(pxs.runtime).create("svc", ["tenant-a:read"])
    app = BearerAuthMiddleware(echo, verifier_from(pxs))

    with (
        serving(app) as url,
        httpx.Client(base_url=url, trust_env=False, timeout=10) as client,
    ):
        auth = {"Authorization": f"Bearer {text}"}
        assert client.get("/t", headers=auth).json()["principal"] == info.id

        TokenService(pxs.runtime).revoke(info.id)
        refused = client.get("/t", headers=auth)

    assert_refused(refused, 'Bearer realm="platxa-secrets", error="invalid_token"')
    assert refused.json()["detail"] == "invalid token"


# -- the ASGI contract, called directly ------------------------------------------


def call(app: Any, scope: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    asyncio.run(app(scope, receive, send))
    return sent


def test_lifespan_passes_through_and_state_is_copied_per_request() -> None:
    seen: list[Scope_] = []

    async def recorder(scope: Scope_, receive: Receive, send: Send) -> None:
        seen.append(scope)

    app = BearerAuthMiddleware(recorder, fake_verify)
    shared = {"db": "pool"}
    call(app, {"type": "lifespan", "state": shared})
    call(
        app,
        {
            "type": "http",
            "path": "/x",
            "query_string": b"",
            "headers": [(b"authorization", f"Bearer {GOOD}".encode())],
            "state": shared,
        },
    )

    assert seen[0]["type"] == "lifespan"
    assert seen[1]["state"]["principal"].token_id == GOOD_PARTS.id
    assert seen[1]["state"]["db"] == "pool"
    assert shared == {"db": "pool"}


def test_a_websocket_without_a_token_is_closed_before_accept() -> None:
    reached: list[str] = []

    async def app_ws(scope: Scope_, receive: Receive, send: Send) -> None:
        reached.append(scope["path"])

    sent = call(
        BearerAuthMiddleware(app_ws, fake_verify),
        {"type": "websocket", "path": "/ws", "query_string": b"", "headers": []},
    )

    assert sent == [{"type": "websocket.close", "code": 1008}]
    assert reached == []


def test_the_readme_fastapi_example_answers_403_for_another_namespace(
    pxs: Platxa,
) -> None:
    from platxa_secrets.services.tokens import TokenService

    text, _ = TokenService(pxs.runtime).create("svc", ["tenant-acme:write"])
    app = FastAPI()
    app.add_middleware(
        BearerAuthMiddleware, verify=verifier_from(pxs), exempt_paths=("/healthz",)
    )

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/tenants/{namespace}/config")
    def config(namespace: str, request: Request) -> dict[str, str]:
        request.state.principal.require(namespace, "read")
        return {"tenant": namespace}

    with (
        serving(app) as url,
        httpx.Client(base_url=url, trust_env=False, timeout=10) as client,
    ):
        auth = {"Authorization": f"Bearer {text}"}
        own = client.get("/tenants/tenant-acme/config", headers=auth)
        other = client.get("/tenants/tenant-b/config", headers=auth)
        health = client.get("/healthz")

    assert own.json() == {"tenant": "tenant-acme"}
    assert other.status_code == 403
    assert other.headers["content-type"] == "application/problem+json"
    assert 'error="insufficient_scope"' in other.headers["www-authenticate"]
    assert "tenant-b" in other.json()["detail"] and text not in other.text
    assert health.status_code == 200
