"""The edge of every request: request ids, query tokens, trailing
slashes and clients that send their body slowly or not at all."""

from __future__ import annotations

import re
import secrets
import socket
from urllib.parse import urlsplit

import pytest

from platxa_secrets.server.app import create_app
from platxa_secrets.services.audit import AuditLog
from tests.server.conftest import Live, problem_of, serve


def _query_token_refusals(live: Live) -> int:
    text = live.client().get("/metrics").text
    found = re.search(
        r'pxs_http_auth_failures_total\{reason="query_string"\} (\d+)', text
    )
    return int(found.group(1)) if found else 0


def _exchange(url: str, request: bytes) -> tuple[bytes, bool]:
    """Send `request`, read the reply; whether the server then closed.

    The socket's timeout bounds the wait: a server that kept the
    connection open would leave `recv` waiting, and the test failing.
    """
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        sock.sendall(request)
        received = b""
        closed = False
        try:
            while chunk := sock.recv(65536):
                received += chunk
            closed = True
        except ConnectionResetError:
            closed = True
        except TimeoutError:
            closed = False
    return received, closed


def test_a_token_as_request_id_is_replaced_everywhere(
    live: Live, namespace: str
) -> None:
    writer = live.token(f"{namespace}:write")
    other = live.token("tenant-x:read")
    random_run = secrets.token_urlsafe(30)

    written = live.client(writer).put(
        f"/v1/namespaces/{namespace}/secrets/app",
        json={"string_data": {"K": "v"}},
        headers={"X-Request-ID": other},
    )
    probed = live.client().get("/healthz", headers={"X-Request-ID": random_run})

    assert written.status_code == 200
    assert written.headers["x-request-id"] != other
    assert probed.headers["x-request-id"] != random_run
    events = AuditLog(live.runtime).list(namespace)
    assert [e.request_id for e in events] == [written.headers["x-request-id"]]
    assert other not in repr(events)


def test_a_fresh_request_id_can_be_sent_back(live: Live) -> None:
    fresh = live.client().get("/healthz").headers["x-request-id"]

    echoed = live.client().get("/healthz", headers={"X-Request-ID": fresh})

    assert echoed.headers["x-request-id"] == fresh


@pytest.mark.parametrize("kind", ["uuid", "nginx"], ids=["uuid4", "nginx-request-id"])
def test_proxy_and_tracer_ids_are_kept(live: Live, kind: str) -> None:
    import uuid

    sent = str(uuid.uuid4()) if kind == "uuid" else secrets.token_hex(16)

    echoed = live.client().get("/healthz", headers={"X-Request-ID": sent})

    assert echoed.headers["x-request-id"] == sent


def test_a_trailing_slash_is_404_not_a_redirect(live: Live, admin_token: str) -> None:
    response = live.client(admin_token).get(
        "/v1/namespaces/tenant-b/secrets/db/", headers={"Host": "evil.example"}
    )

    assert response.status_code == 404
    assert "location" not in response.headers
    assert problem_of(response)["type"].endswith(":not-found")


@pytest.mark.parametrize(
    "path",
    [
        "/v1/namespaces/tenant-b/secrets/db/",
        "/v1/namespaces/tenant-b/secrets/db",
        "/healthz",
        "/metrics",
        "/nowhere",
    ],
)
def test_a_query_token_is_refused_on_every_path_and_counted(
    live: Live, admin_token: str, path: str
) -> None:
    before = _query_token_refusals(live)

    response = live.client().get(f"{path}?access_token={admin_token}")

    assert response.status_code == 401
    assert "location" not in response.headers
    assert 'error="invalid_request"' in response.headers["www-authenticate"]
    assert "query string" in problem_of(response)["detail"]
    assert admin_token not in response.text
    assert _query_token_refusals(live) == before + 1


def test_a_query_token_refusal_is_audited_without_the_token(
    live: Live, admin_token: str
) -> None:
    request_id = f"qt-{secrets.token_hex(4)}"

    live.client().get(
        f"/v1/keys/?token={admin_token}", headers={"X-Request-ID": request_id}
    )

    events = [
        e for e in AuditLog(live.runtime).list(limit=500) if e.request_id == request_id
    ]
    assert [(e.action, e.outcome, e.actor) for e in events] == [
        ("http.denied", "denied", "http:anonymous")
    ]
    assert admin_token not in repr(events)


def test_a_trickled_body_is_cut_off_with_408(live: Live, admin_token: str) -> None:
    app = create_app(live.config, body_timeout=0.3)
    head = (
        b"PUT /v1/namespaces/tenant-slow/secrets/app HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\n"
        b"Authorization: Bearer " + admin_token.encode() + b"\r\n"
        b"Content-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n"
        b'{"string_data":'
    )

    with serve(app) as url:
        reply, closed = _exchange(url, head)

    status_line, _, rest = reply.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 408 Request Timeout"
    assert b"connection: close" in rest.lower()
    assert b"request-timeout" in rest
    assert closed


def test_an_unread_body_closes_the_connection(live: Live) -> None:
    request = (
        b"POST /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    )

    reply, closed = _exchange(live.url, request)

    assert reply.startswith(b"HTTP/1.1 404 ")
    assert b"connection: close" in reply.lower()
    assert closed


def test_a_complete_request_keeps_its_connection(live: Live) -> None:
    client = live.client()

    first = client.get("/healthz")
    second = client.get("/nowhere")

    assert "connection" not in first.headers
    assert second.status_code == 404
    assert "connection" not in second.headers
