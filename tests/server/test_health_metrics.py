"""Health, readiness, metrics, request ids and refusal audits."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from platxa_secrets.core.config import load_config
from platxa_secrets.server.app import create_app
from platxa_secrets.services.audit import AuditLog
from platxa_secrets.services.initialise import initialise
from platxa_secrets.services.runtime import Runtime
from platxa_secrets.services.secrets import SecretService
from tests.conftest import make_env
from tests.server.conftest import Live, problem_of, serve


def test_health_and_readiness(any_live: Live) -> None:
    client = any_live.client()

    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_not_ready_without_a_store(tmp_path: Path) -> None:
    env = make_env(
        tmp_path, f"sqlite:///{tmp_path / 'missing.db'}", Fernet.generate_key().decode()
    )
    app = create_app(load_config(env=env))

    with serve(app) as url:
        alive = httpx.get(f"{url}/healthz")
        ready = httpx.get(f"{url}/readyz")

    assert alive.status_code == 200
    assert ready.status_code == 503
    assert problem_of(ready)["detail"] == "the store is unavailable; try again later"
    assert "missing.db" not in ready.text


def test_metrics_count_by_route_template_and_hold_no_names(
    live: Live, namespace: str
) -> None:
    token = live.token(f"{namespace}:write")
    client = live.client(token)
    client.put(
        f"/v1/namespaces/{namespace}/secrets/metric-probe",
        json={"string_data": {"K": "v"}},
    )
    damaged = token[:-1] + ("0" if token[-1] != "0" else "1")
    live.client(damaged).get(f"/v1/namespaces/{namespace}/secrets")
    live.client().get(f"/v1/namespaces/{namespace}/secrets")

    response = live.client().get("/metrics")
    text = response.text

    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    put = 'route="/v1/namespaces/{namespace}/secrets/{name}",method="PUT",status="200"'
    assert re.search(rf"pxs_http_requests_total\{{{re.escape(put)}\}} [1-9]", text)
    assert 'pxs_http_auth_failures_total{reason="missing"}' in text
    assert 'pxs_http_auth_failures_total{reason="malformed"}' in text
    assert 'pxs_http_errors_total{route="/v1/namespaces/{namespace}/secrets"' in text
    assert "pxs_http_request_duration_seconds_bucket" in text
    assert re.search(r'pxs_ciphertexts\{kid="[0-9a-f]+"\} [0-9]+', text)
    assert namespace not in text and "metric-probe" not in text
    assert token.split("_")[1] not in text


@pytest.mark.parametrize(
    ("sent", "echoed"),
    [("abc-123._X", True), ("x" * 65, False), ("a b", False), ("é", False)],
)
def test_request_ids(live: Live, sent: str, echoed: bool) -> None:
    response = live.client().get(
        "/healthz", headers={b"X-Request-ID": sent.encode("utf-8")}
    )

    returned = response.headers["x-request-id"]
    assert (returned == sent) is echoed
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,64}", returned)


def test_every_response_has_the_standard_headers(live: Live) -> None:
    for response in (
        live.client().get("/healthz"),
        live.client().get("/v1/keys"),
        live.client().get("/nowhere"),
    ):
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "x-request-id" in response.headers


def test_a_refused_request_is_audited_without_the_token(
    live: Live, namespace: str
) -> None:
    reader = live.token(f"{namespace}:read")
    live.client().get(
        f"/v1/namespaces/{namespace}/secrets", headers={"X-Request-ID": "deny-401"}
    )
    live.client(reader).put(
        f"/v1/namespaces/{namespace}/secrets/app",
        json={"string_data": {"K": "v"}},
        headers={"X-Request-ID": "deny-403"},
    )

    events = {e.request_id: e for e in AuditLog(live.runtime).list(namespace)}
    unauthenticated, forbidden = events["deny-401"], events["deny-403"]
    assert (unauthenticated.action, unauthenticated.outcome) == (
        "http.denied",
        "denied",
    )
    assert unauthenticated.actor == "http:anonymous"
    assert unauthenticated.detail == "GET /v1/namespaces/{namespace}/secrets 401"
    assert forbidden.actor == f"token:{reader.split('_')[1]}"
    assert forbidden.detail == "PUT /v1/namespaces/{namespace}/secrets/{name} 403"
    assert reader not in repr(events)


def test_openapi_declares_bearer_and_problem_responses(live: Live) -> None:
    schema = live.client().get("/openapi.json").json()

    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearer"]["scheme"] == "bearer"
    get = schema["paths"]["/v1/namespaces/{namespace}/secrets/{name}"]["get"]
    assert get["security"] == [{"bearer": []}]
    assert "application/problem+json" in get["responses"]["401"]["content"]
    assert "application/problem+json" in get["responses"]["422"]["content"]
    assert "security" not in schema["paths"]["/healthz"]["get"]


def test_an_unexpected_error_is_a_bare_500(live: Live) -> None:
    app = create_app(live.config)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("PLANTED-detail-of-an-internal-error")

    with serve(app) as url:
        response = httpx.get(f"{url}/boom", headers={"X-Request-ID": "boom-1"})
        metrics = httpx.get(f"{url}/metrics").text

    problem = problem_of(response)
    assert response.status_code == 500
    assert problem["type"].endswith(":internal")
    assert "detail" not in problem
    assert "PLANTED" not in response.text
    assert response.headers["x-request-id"] == "boom-1"
    assert 'pxs_http_errors_total{route="/boom",problem="internal"} 1' in metrics


def test_metrics_answer_while_the_store_is_down_then_count_it(
    tmp_path: Path,
) -> None:
    env = make_env(
        tmp_path, f"sqlite:///{tmp_path / 'later.db'}", Fernet.generate_key().decode()
    )
    config = load_config(env=env)

    with serve(create_app(config)) as url:
        httpx.get(f"{url}/readyz")
        down = httpx.get(f"{url}/metrics")
        runtime = Runtime(config)
        try:
            initialise(runtime)
            SecretService(runtime).put("tenant-a", "app", {"K": b"v"})
        finally:
            runtime.close()
        up = httpx.get(f"{url}/metrics")

    assert down.status_code == 200
    assert 'route="/readyz",method="GET",status="503"' in down.text
    assert "pxs_census_up 0" in down.text
    assert "pxs_ciphertexts{" not in down.text
    assert up.status_code == 200
    assert "pxs_census_up 1" in up.text
    assert re.search(r'pxs_ciphertexts\{kid="[0-9a-f]+"\} [0-9]+', up.text)
