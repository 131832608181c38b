"""Secrets over HTTP: round trips, check-and-set, versions, provisioning."""

from __future__ import annotations

import base64

import pytest

from platxa_secrets.services.audit import AuditLog
from tests.server.conftest import Live, problem_of

BINARY = bytes(range(256))


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def test_put_then_get_round_trips_bytes_and_text(
    any_live: Live, namespace: str
) -> None:
    client = any_live.client(any_live.token(f"{namespace}:write"))
    path = f"/v1/namespaces/{namespace}/secrets/odoo"

    written = client.put(
        path,
        json={"data": {"blob": _b64(BINARY)}, "string_data": {"user": "odoo-ü"}},
    )
    read = client.get(path)

    assert written.status_code == 200, written.text
    assert written.json()["version"] == 1
    assert written.json()["keys"] == ["blob", "user"]
    assert "data" not in written.json()
    body = read.json()
    assert base64.b64decode(body["data"]["blob"]) == BINARY
    assert base64.b64decode(body["data"]["user"]) == "odoo-ü".encode()
    assert body["type"] == "Opaque"
    assert read.headers["etag"] == '"1"'


def test_put_replaces_the_whole_secret(live: Live, namespace: str) -> None:
    client = live.client(live.token(f"{namespace}:write"))
    path = f"/v1/namespaces/{namespace}/secrets/app"
    client.put(path, json={"string_data": {"A": "1", "B": "2"}})

    client.put(path, json={"string_data": {"A": "3"}, "type": "Opaque"})

    assert client.get(path).json()["data"] == {"A": _b64(b"3")}


def test_versions_history_and_reading_an_old_version(
    live: Live, namespace: str
) -> None:
    client = live.client(live.token(f"{namespace}:write"))
    path = f"/v1/namespaces/{namespace}/secrets/app"
    for value in ("one", "two", "three"):
        client.put(path, json={"string_data": {"V": value}})

    history = client.get(f"{path}/versions").json()["items"]
    old = client.get(path, params={"version": 2}).json()

    assert [v["version"] for v in history] == [1, 2, 3]
    assert {v["state"] for v in history} == {"live"}
    assert all("data" not in v for v in history)
    assert base64.b64decode(old["data"]["V"]) == b"two"


def test_check_and_set_in_the_body_is_409(live: Live, namespace: str) -> None:
    client = live.client(live.token(f"{namespace}:write"))
    path = f"/v1/namespaces/{namespace}/secrets/app"

    created = client.put(path, json={"string_data": {"V": "a"}, "cas": 0})
    again = client.put(path, json={"string_data": {"V": "b"}, "cas": 0})
    stale = client.put(path, json={"string_data": {"V": "b"}, "cas": 7})
    current = client.put(path, json={"string_data": {"V": "b"}, "cas": 1})

    assert created.status_code == 200
    assert again.status_code == 409
    assert stale.status_code == 409
    assert "expected newest version 7, found 1" in problem_of(stale)["detail"]
    assert current.json()["version"] == 2


def test_check_and_set_with_if_match_is_412(live: Live, namespace: str) -> None:
    client = live.client(live.token(f"{namespace}:write"))
    path = f"/v1/namespaces/{namespace}/secrets/app"
    body = {"string_data": {"V": "a"}}

    created = client.put(path, json=body, headers={"If-None-Match": "*"})
    exists = client.put(path, json=body, headers={"If-None-Match": "*"})
    etag = client.get(path).headers["etag"]
    stale = client.put(path, json=body, headers={"If-Match": '"9"'})
    fresh = client.put(
        path, json={"string_data": {"V": "b"}}, headers={"If-Match": etag}
    )

    assert created.status_code == 200
    assert exists.status_code == 412
    assert stale.status_code == 412
    assert problem_of(stale)["type"].endswith(":precondition-failed")
    assert fresh.status_code == 200
    assert fresh.json()["version"] == 2


def test_a_failed_check_and_set_changes_nothing(live: Live, namespace: str) -> None:
    client = live.client(live.token(f"{namespace}:write"))
    path = f"/v1/namespaces/{namespace}/secrets/app"
    client.put(path, json={"string_data": {"V": "kept"}})

    client.put(path, json={"string_data": {"V": "lost"}, "cas": 5})

    assert client.get(path).json()["data"]["V"] == _b64(b"kept")
    assert len(client.get(f"{path}/versions").json()["items"]) == 1


def test_delete_undelete_destroy(live: Live, namespace: str) -> None:
    writer = live.client(live.token(f"{namespace}:write"))
    owner = live.client(live.token(f"{namespace}:admin"))
    path = f"/v1/namespaces/{namespace}/secrets/app"
    for value in ("one", "two", "three"):
        writer.put(path, json={"string_data": {"V": value}})

    deleted = writer.delete(path)
    gone = writer.get(path)
    restored = writer.post(f"{path}/undelete")
    destroyed = owner.post(f"{path}/destroy", params={"versions": "1,2"})
    states = [v["state"] for v in writer.get(f"{path}/versions").json()["items"]]

    assert deleted.json()["versions"] == [3]
    assert gone.status_code == 404
    assert problem_of(gone)["type"].endswith(":not-found")
    assert restored.status_code == 200
    assert writer.get(path).json()["version"] == 3
    assert destroyed.json()["versions"] == [1, 2]
    assert states == ["destroyed", "destroyed", "live"]
    assert writer.get(path, params={"version": 1}).status_code == 404


def test_list_shows_newest_versions_without_values(live: Live, namespace: str) -> None:
    client = live.client(live.token(f"{namespace}:write"))
    for name in ("a", "b"):
        client.put(
            f"/v1/namespaces/{namespace}/secrets/{name}",
            json={"string_data": {"K": "v"}},
        )

    listed = client.get(f"/v1/namespaces/{namespace}/secrets").json()["items"]

    assert [(s["name"], s["version"]) for s in listed] == [("a", 1), ("b", 1)]
    assert all("data" not in s for s in listed)


def test_provision_generates_once_and_is_idempotent(
    any_live: Live, namespace: str
) -> None:
    client = any_live.client(any_live.token(f"{namespace}:write"))
    path = f"/v1/namespaces/{namespace}/provision"
    body = {"template": "odoo", "params": {"db_host": "pg.internal"}}

    first = client.post(path, json=body)
    second = client.post(path, json=body)
    stored = client.get(f"/v1/namespaces/{namespace}/secrets/odoo").json()

    assert first.status_code == 200, first.text
    assert first.json()["changed"] is True
    assert sorted(first.json()["generated"]) == ["ADMIN_PASSWORD", "DB_PASSWORD"]
    assert second.json()["changed"] is False
    assert sorted(second.json()["kept"]) == ["ADMIN_PASSWORD", "DB_PASSWORD"]
    assert base64.b64decode(stored["data"]["DB_HOST"]) == b"pg.internal"
    password = stored["data"]["DB_PASSWORD"]
    assert password not in first.text and password not in second.text


@pytest.mark.parametrize("template", ["/etc/passwd", "nope", "../odoo"])
def test_provision_takes_only_builtin_templates(
    live: Live, namespace: str, template: str
) -> None:
    client = live.client(live.token(f"{namespace}:write"))

    response = client.post(
        f"/v1/namespaces/{namespace}/provision", json={"template": template}
    )

    assert response.status_code == 422
    assert problem_of(response)["field"] == "body.template"


def test_each_call_is_audited_with_token_actor_and_request_id(
    live: Live, namespace: str
) -> None:
    token = live.token(f"{namespace}:write")
    token_id = token.split("_")[1]
    client = live.client(token)
    path = f"/v1/namespaces/{namespace}/secrets/app"

    client.put(
        path, json={"string_data": {"K": "v"}}, headers={"X-Request-ID": "put-1"}
    )
    client.get(path, headers={"X-Request-ID": "get-1"})
    client.get(f"/v1/namespaces/{namespace}/secrets", headers={"X-Request-ID": "ls-1"})
    client.delete(path, params={"versions": "9"}, headers={"X-Request-ID": "del-1"})

    events = {e.request_id: e for e in AuditLog(live.runtime).list(namespace)}
    assert events["put-1"].action == "secret.write"
    assert events["get-1"].action == "secret.read"
    assert events["ls-1"].action == "secret.list"
    assert events["del-1"].outcome == "error"
    assert {e.actor for e in events.values()} == {f"token:{token_id}"}
