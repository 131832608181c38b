"""Input taken strictly, and problems shaped alike: strict numbers, no
empty or repeated writes, scopes before body rules, token-shaped keys
never echoed, webhook bodies refused as HTTP refuses any body."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from tests.server.conftest import Live, problem_of

MIB = 1024 * 1024


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"string_data": {"K": "v"}, "cas": True}, "body.cas"),
        ({"string_data": {"K": "v"}, "cas": "0"}, "body.cas"),
        ({"string_data": {"K": "v"}, "cas": 1.0}, "body.cas"),
        ({"string_data": {"K": 1}}, "body.string_data.K"),
    ],
)
def test_numbers_and_texts_are_strict(
    live: Live, namespace: str, body: dict[str, object], field: str
) -> None:
    client = live.client(live.token(f"{namespace}:write"))
    path = f"/v1/namespaces/{namespace}/secrets/app"

    response = client.put(path, json=body)

    assert response.status_code == 422
    assert field in [error["field"] for error in problem_of(response)["errors"]]
    assert client.get(path).status_code == 404


def test_a_boolean_ttl_signs_nothing(live: Live, jwt_key: str) -> None:
    response = live.client(live.token("jwt:sign")).post(
        "/v1/jwt/sign", json={"claims": {}, "ttl": True}
    )

    assert response.status_code == 422
    assert problem_of(response)["errors"][0]["field"] == "body.ttl"


@pytest.mark.parametrize("version", [" 1", "1.0", "+1", "1e0", "\u0661"])
def test_query_versions_are_digits_only(
    live: Live, namespace: str, version: str
) -> None:
    client = live.client(live.token(f"{namespace}:write"))
    path = f"/v1/namespaces/{namespace}/secrets/app"
    client.put(path, json={"string_data": {"K": "v"}})

    refused = client.get(path, params={"version": version})
    plain = client.get(path, params={"version": "1"})

    assert refused.status_code == 422
    assert problem_of(refused)["errors"][0]["field"] == "query.version"
    assert plain.status_code == 200


def test_an_empty_put_is_refused_and_writes_nothing(live: Live, namespace: str) -> None:
    client = live.client(live.token(f"{namespace}:write"))
    path = f"/v1/namespaces/{namespace}/secrets/app"

    response = client.put(path, json={})

    problem = problem_of(response)
    assert response.status_code == 422
    assert "data and string_data" in problem["errors"][0]["message"]
    assert client.get(path).status_code == 404


def test_an_identical_put_writes_nothing_and_says_so(
    any_live: Live, namespace: str
) -> None:
    client = any_live.client(any_live.token(f"{namespace}:write"))
    path = f"/v1/namespaces/{namespace}/secrets/app"
    body = {"string_data": {"K": "v"}}

    first = client.put(path, json=body)
    again = client.put(path, json=body)
    other_type = client.put(path, json={**body, "type": "example.com/other"})

    assert (first.json()["version"], first.json()["changed"]) == (1, True)
    assert (again.json()["version"], again.json()["changed"]) == (1, False)
    assert (first.headers["etag"], again.headers["etag"]) == ('"1"', '"1"')
    assert other_type.json()["changed"] is True
    assert other_type.headers["etag"] == '"2"'
    assert len(client.get(f"{path}/versions").json()["items"]) == 2


def test_the_scope_is_checked_before_the_body(live: Live, namespace: str) -> None:
    reader = live.client(live.token(f"{namespace}:read"))
    writer = live.client(live.token(f"{namespace}:write"))
    path = f"/v1/namespaces/{namespace}/secrets/app"
    broken = {"data": {"K": "not base64!"}, "cas": "one"}

    refused = reader.put(path, json=broken)
    provisioned = reader.post(f"/v1/namespaces/{namespace}/provision", json=[])
    invalid = writer.put(path, json=broken)

    assert refused.status_code == 403
    assert "errors" not in problem_of(refused)
    assert provisioned.status_code == 403
    assert invalid.status_code == 422


def test_token_shaped_field_names_are_never_echoed(
    live: Live, admin_token: str
) -> None:
    other = live.token("tenant-x:read")
    random_key = secrets.token_hex(20)
    client = live.client(admin_token)

    encrypted = client.post(
        "/v1/encrypt",
        json={"items": [{"plaintext": "eA==", "context": "t-a/x"}], other: 1},
    )
    doubled = client.put(
        "/v1/namespaces/t-a/secrets/app",
        json={"data": {other: "eA==", random_key: "!"}, "string_data": {other: "x"}},
    )
    doubled_only = client.put(
        "/v1/namespaces/t-a/secrets/app",
        json={"data": {other: "eA=="}, "string_data": {other: "x"}},
    )
    provisioned = client.post(
        "/v1/namespaces/t-a/provision",
        json={"params": {"db_host": "h", other: "x"}},
    )

    for response in (encrypted, doubled, doubled_only, provisioned):
        assert response.status_code == 422, response.text
        assert other not in response.text
        assert other.split("_")[2] not in response.text
        assert random_key not in response.text
    fields = [e["field"] for e in problem_of(encrypted)["errors"]]
    assert fields == ["body.[redacted]"]
    assert "body.data.[redacted]" in [e["field"] for e in problem_of(doubled)["errors"]]
    assert "not shown" in problem_of(doubled_only)["errors"][0]["message"]


def test_service_rules_are_shown_as_errors_naming_the_body_field(
    live: Live, namespace: str
) -> None:
    client = live.client(live.token(f"{namespace}:write"))

    response = client.post(
        f"/v1/namespaces/{namespace}/provision", json={"template": "odoo"}
    )

    problem = problem_of(response)
    assert response.status_code == 422
    assert problem["field"] == "body.params.db_host"
    assert problem["errors"] == [
        {"field": "body.params.db_host", "message": problem["detail"]}
    ]
    assert "params.db_host" in problem["detail"]
    assert "parameters" not in problem["detail"]


def test_webhook_bodies_are_refused_like_any_body(
    live: Live, fixtures_dir: Path
) -> None:
    hook = live.client(live.token("webhook:alertmanager"))
    path = "/v1/webhooks/alertmanager"
    headers = {"content-type": "application/json"}
    notification = json.loads(
        (fixtures_dir / "alertmanager" / "certificate-expiring.json").read_bytes()
    )
    notification["padding"] = "x" * MIB

    malformed = hook.post(path, content=b'{"version": "4", ', headers=headers)
    not_utf8 = hook.post(path, content=b'{"version": "\xff"}', headers=headers)
    too_large = hook.post(path, content=json.dumps(notification), headers=headers)
    not_a_notification = hook.post(path, content=b'{"version": "4"}', headers=headers)

    assert malformed.status_code == 400
    assert problem_of(malformed)["detail"] == "the request body is not valid UTF-8 JSON"
    assert not_utf8.status_code == 400
    assert too_large.status_code == 413
    assert problem_of(too_large)["type"].endswith(":too-large")
    assert not_a_notification.status_code == 422
    assert problem_of(not_a_notification)["errors"][0]["field"] == "alerts"
