"""Malformed input of every kind: a 4xx problem naming the field, never a
500, never the value that was sent."""

from __future__ import annotations

import base64
import json
import socket
from urllib.parse import urlsplit

import pytest

from tests.server.conftest import Live, problem_of

PLANTED = "PLANTED-b7e2-value"
MIB = 1024 * 1024


def _raw(live: Live, request: bytes, body_chunks: tuple[bytes, ...] = ()) -> bytes:
    """Send bytes as they are (httpx would refuse them) and read the reply."""
    parts = urlsplit(live.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(request)
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early and closed: what we test
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass  # a reset after the answer (unread body) is fine
    return received


def _status(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1])


def _problem(reply: bytes) -> dict[str, object]:
    head, _, body = reply.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in head.lower()
    document = json.loads(body)
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def admin(live: Live) -> str:
    return live.token("*:admin")


def test_malformed_json_is_400(live: Live, admin: str) -> None:
    response = live.client(admin).put(
        "/v1/namespaces/tenant-bad/secrets/app",
        content=b'{"string_data": {"K": "' + PLANTED.encode() + b'"',
        headers={"content-type": "application/json"},
    )

    problem = problem_of(response)
    assert response.status_code == 400
    assert problem["errors"] == [{"field": "body", "message": "is not valid JSON"}]
    assert PLANTED not in response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"data": "not-an-object"}, "body.data"),
        ({"data": {"K": 42}}, "body.data.K"),
        ({"data": {"K": PLANTED + "!"}}, "body.data.K"),
        ({"data": {"bad key/": "eA=="}}, "body.data.bad key/"),
        ({"string_data": {"K": ["list"]}}, "body.string_data.K"),
        ({"string_data": {"K": PLANTED}, "cas": "three"}, "body.cas"),
        ({"string_data": {"K": PLANTED}, "cas": -1}, "body.cas"),
        ({"string_data": {"K": PLANTED}, "surprise": PLANTED}, "body.surprise"),
        ({"string_data": {"K": PLANTED}, "data": {"K": "eA=="}}, "body"),
    ],
)
def test_wrong_types_and_values_name_the_field(
    live: Live, admin: str, body: dict[str, object], field: str
) -> None:
    response = live.client(admin).put(
        "/v1/namespaces/tenant-bad/secrets/app", json=body
    )

    problem = problem_of(response)
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in problem["errors"]]
    assert PLANTED not in response.text


def test_lone_surrogates_are_refused_not_crashed_on(live: Live, admin: str) -> None:
    response = live.client(admin).put(
        "/v1/namespaces/tenant-bad/secrets/app",
        content=b'{"string_data": {"K": "\\ud800"}}',
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 422
    assert problem_of(response)["errors"][0]["field"] == "body.string_data.K"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/namespaces/Tenant_Bad/secrets", "path.namespace"),
        ("/v1/namespaces/tenant-bad/secrets/" + "a" * 300, "path.name"),
        ("/v1/namespaces/tenant-bad/secrets/UPPER", "path.name"),
        ("/v1/namespaces/tenant-bad/secrets/app?version=0", "query.version"),
        ("/v1/namespaces/tenant-bad/secrets/app?version=x", "query.version"),
    ],
)
def test_invalid_names_and_parameters(
    live: Live, admin: str, path: str, field: str
) -> None:
    response = live.client(admin).get(path)

    problem = problem_of(response)
    assert response.status_code == 422
    assert [error["field"] for error in problem["errors"]] == [field]
    assert "a" * 100 not in json.dumps([problem["detail"], problem["errors"]])


def test_invalid_version_lists_and_preconditions(live: Live, admin: str) -> None:
    client = live.client(admin)
    path = "/v1/namespaces/tenant-bad/secrets/app"

    versions = client.delete(path, params={"versions": "1,two"})
    precondition = client.put(
        path, json={"string_data": {"K": "v"}}, headers={"If-Match": 'W/"1"'}
    )

    assert versions.status_code == 422
    assert problem_of(versions)["errors"][0]["field"] == "query.versions"
    assert precondition.status_code == 422
    assert problem_of(precondition)["field"] == "header.if-match"


def test_wrong_content_type_is_415(live: Live, admin: str) -> None:
    response = live.client(admin).put(
        "/v1/namespaces/tenant-bad/secrets/app",
        content=json.dumps({"string_data": {"K": "v"}}),
        headers={"content-type": "text/plain"},
    )

    assert response.status_code == 415
    assert problem_of(response)["type"].endswith(":unsupported-media-type")


def test_a_declared_huge_body_is_refused_before_it_is_read(
    live: Live, admin: str
) -> None:
    request = (
        b"PUT /v1/namespaces/tenant-bad/secrets/app HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\n"
        b"Authorization: Bearer " + admin.encode() + b"\r\n"
        b"Content-Type: application/json\r\n"
        b"Connection: close\r\n"
        b"Content-Length: " + str(17 * MIB).encode() + b"\r\n\r\n{"
    )

    reply = _raw(live, request)

    assert _status(reply) == 413
    assert _problem(reply)["type"] == "urn:platxa-secrets:problem:too-large"


def test_a_streamed_huge_body_is_cut_off(live: Live, admin: str) -> None:
    head = (
        b"POST /v1/encrypt HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\n"
        b"Authorization: Bearer " + admin.encode() + b"\r\n"
        b"Content-Type: application/json\r\n"
        b"Connection: close\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"x" * MIB
    chunks = tuple(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(17))

    reply = _raw(live, head, (*chunks, b"0\r\n\r\n"))

    assert _status(reply) == 413


@pytest.mark.parametrize(
    "header",
    [b"Bearer caf\xc3\xa9", b"Bearer \xff\xfe", b"Basic dXNlcjpwYXNz", b"Bearer", b""],
)
def test_odd_authorization_headers_are_401(live: Live, header: bytes) -> None:
    request = (
        b"GET /v1/keys HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: " + header + b"\r\nConnection: close\r\n\r\n"
    )

    reply = _raw(live, request)

    assert _status(reply) == 401
    assert _problem(reply)["detail"] == "a valid bearer token is required"


def test_two_authorization_headers_are_401(live: Live, admin: str) -> None:
    request = (
        b"GET /v1/keys HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer " + admin.encode() + b"\r\n"
        b"Authorization: Bearer " + admin.encode() + b"\r\n"
        b"Connection: close\r\n\r\n"
    )

    assert _status(_raw(live, request)) == 401


@pytest.mark.parametrize(
    "query", ["access_token={t}", "token={t}", "q={t}", "x=1&token="]
)
def test_a_token_in_the_query_string_is_refused(
    live: Live, admin: str, query: str
) -> None:
    response = live.client(admin).get("/v1/keys?" + query.format(t=admin))

    assert response.status_code == 401
    assert 'error="invalid_request"' in response.headers["www-authenticate"]
    assert admin not in response.text


def test_unknown_routes_and_methods(live: Live, admin: str) -> None:
    client = live.client(admin)

    missing = client.get("/v1/nothing-here")
    wrong_method = client.patch("/v1/keys")

    assert missing.status_code == 404
    assert problem_of(missing)["type"].endswith(":not-found")
    assert wrong_method.status_code == 405
    assert problem_of(wrong_method)["type"].endswith(":method-not-allowed")


def test_base64_errors_never_echo_the_value(live: Live, admin: str) -> None:
    secret_text = base64.b64encode(PLANTED.encode()).decode()[:-2] + "*!"

    response = live.client(admin).post(
        "/v1/encrypt",
        json={"items": [{"plaintext": secret_text, "context": "tenant-bad/x"}]},
    )

    problem = problem_of(response)
    assert response.status_code == 422
    assert problem["errors"][0]["field"] == "body.items.0.plaintext"
    assert "base64" in problem["errors"][0]["message"]
    assert secret_text not in response.text
    assert secret_text[:12] not in response.text
