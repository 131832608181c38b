"""Merge, strategic merge, JSON Patch and server-side apply."""

from __future__ import annotations

import json

from kubernetes import client

from platxa_secrets.testing import KubeEmulator

from .helpers import APPLY, MERGE, b64, secret_body, status_of, stored

CANARY = "canary-7f3a9c1e-never-in-metadata"


def test_merge_patch_adds_and_removes_keys(
    core: client.CoreV1Api, kube: KubeEmulator
) -> None:
    kube.put_secret("tenant-a", "db", {"keep": "1", "drop": "2"})

    patched = core.patch_namespaced_secret(
        "db",
        "tenant-a",
        {"data": {"drop": None, "new": b64("3")}, "metadata": {"labels": {"a": "b"}}},
        _content_type=MERGE,
    )

    assert patched.data == {"keep": b64("1"), "new": b64("3")}
    assert patched.metadata.labels == {"a": "b"}
    assert kube.calls[-1].content_type == MERGE
    assert kube.calls[-1].verb == "patch"


def test_a_dict_patch_goes_as_strategic_merge_and_a_list_as_json_patch(
    core: client.CoreV1Api, kube: KubeEmulator
) -> None:
    kube.put_secret("tenant-a", "db", {"k": "1"})

    core.patch_namespaced_secret("db", "tenant-a", {"stringData": {"s": "x"}})
    strategic = kube.calls[-1].content_type
    core.patch_namespaced_secret(
        "db", "tenant-a", [{"op": "add", "path": "/data/j", "value": b64("y")}]
    )
    json_patch = kube.calls[-1].content_type

    assert strategic == "application/strategic-merge-patch+json"
    assert json_patch == "application/json-patch+json"
    assert kube.secret_data("tenant-a", "db") == {"k": b"1", "s": b"x", "j": b"y"}


def test_json_patch_operations(core: client.CoreV1Api, kube: KubeEmulator) -> None:
    kube.put_secret("tenant-a", "db", {"a": "1", "b": "2", "c": "3"}, labels={"x": "1"})

    core.patch_namespaced_secret(
        "db",
        "tenant-a",
        [
            {"op": "test", "path": "/data/a", "value": b64("1")},
            {"op": "replace", "path": "/data/a", "value": b64("one")},
            {"op": "remove", "path": "/data/b"},
            {"op": "add", "path": "/metadata/labels/x~1y", "value": "z"},
        ],
    )

    assert kube.secret_data("tenant-a", "db") == {"a": b"one", "c": b"3"}
    assert stored(kube, "tenant-a", "db")["metadata"]["labels"] == {
        "x": "1",
        "x/y": "z",
    }


def test_failed_json_patch_test_is_invalid_and_quotes_no_value(
    core: client.CoreV1Api, kube: KubeEmulator
) -> None:
    kube.put_secret("tenant-a", "db", {"a": CANARY})
    before = kube.secret("tenant-a", "db")

    error, body = status_of(
        lambda: core.patch_namespaced_secret(
            "db",
            "tenant-a",
            [
                {"op": "test", "path": "/data/a", "value": b64(CANARY + "x")},
                {"op": "remove", "path": "/data/a"},
            ],
        ),
        422,
        "Invalid",
    )

    assert '"/data/a"' in body["message"]
    assert b64(CANARY) not in error.body and b64(CANARY + "x") not in error.body
    assert kube.secret("tenant-a", "db") == before


def test_merge_patch_with_a_stale_resource_version_is_a_conflict(
    core: client.CoreV1Api, kube: KubeEmulator
) -> None:
    kube.put_secret("tenant-a", "db", {"a": "1"})

    status_of(
        lambda: core.patch_namespaced_secret(
            "db",
            "tenant-a",
            {"metadata": {"resourceVersion": "1"}},
            _content_type=MERGE,
        ),
        409,
        "Conflict",
    )


def test_unknown_patch_type_is_unsupported_media_type(
    core: client.CoreV1Api, kube: KubeEmulator
) -> None:
    kube.put_secret("tenant-a", "db", {"a": "1"})

    _, body = status_of(
        lambda: core.patch_namespaced_secret(
            "db", "tenant-a", {"data": {}}, _content_type="application/x-custom+json"
        ),
        415,
        "UnsupportedMediaType",
    )

    assert "application/apply-patch+yaml" in body["message"]


def test_apply_creates_then_updates_and_tracks_field_names_only(
    core: client.CoreV1Api, kube: KubeEmulator
) -> None:
    config = secret_body(
        "db",
        metadata={"labels": {"app.kubernetes.io/managed-by": "platxa-secrets"}},
        data={"password": b64(CANARY)},
        stringData={"token": CANARY},
    )

    created = core.patch_namespaced_secret(
        "db",
        "tenant-a",
        config,
        field_manager="platxa-secrets",
        force=True,
        _content_type=APPLY,
    )
    status_created = kube.calls[-1].status
    query = dict(kube.calls[-1].query)
    again = core.patch_namespaced_secret(
        "db", "tenant-a", config, field_manager="platxa-secrets", _content_type=APPLY
    )

    assert status_created == 201
    assert query == {"fieldManager": "platxa-secrets", "force": "true"}
    assert kube.secret_data("tenant-a", "db") == {
        "password": CANARY.encode(),
        "token": CANARY.encode(),
    }
    [entry] = [e for e in created.metadata.managed_fields if e.operation == "Apply"]
    assert entry.manager == "platxa-secrets"
    assert entry.api_version == "v1"
    assert entry.fields_type == "FieldsV1"
    assert entry.fields_v1 == {
        "f:data": {"f:password": {}},
        "f:metadata": {"f:labels": {"f:app.kubernetes.io/managed-by": {}}},
        "f:stringData": {"f:token": {}},
    }
    assert again.metadata.resource_version == created.metadata.resource_version
    metadata = json.dumps(stored(kube, "tenant-a", "db")["metadata"])
    assert CANARY not in metadata and b64(CANARY) not in metadata


def test_apply_drops_keys_the_manager_no_longer_names(
    core: client.CoreV1Api, kube: KubeEmulator
) -> None:
    full = secret_body("db", data={"a": b64("1"), "b": b64("2")})
    core.patch_namespaced_secret(
        "db", "tenant-a", full, field_manager="platxa-secrets", _content_type=APPLY
    )

    core.patch_namespaced_secret(
        "db",
        "tenant-a",
        secret_body("db", data={"a": b64("1")}),
        field_manager="platxa-secrets",
        _content_type=APPLY,
    )

    assert kube.secret_data("tenant-a", "db") == {"a": b"1"}


def test_apply_conflicts_with_another_manager_unless_forced(
    core: client.CoreV1Api, kube: KubeEmulator
) -> None:
    core.patch_namespaced_secret(
        "db",
        "tenant-a",
        secret_body("db", data={"password": b64(CANARY)}),
        field_manager="someone-else",
        _content_type=APPLY,
    )
    mine = secret_body("db", data={"password": b64("mine")})

    error, body = status_of(
        lambda: core.patch_namespaced_secret(
            "db", "tenant-a", mine, field_manager="platxa-secrets", _content_type=APPLY
        ),
        409,
        "Conflict",
    )
    forced = core.patch_namespaced_secret(
        "db",
        "tenant-a",
        mine,
        field_manager="platxa-secrets",
        force=True,
        _content_type=APPLY,
    )

    assert body["message"] == (
        'Apply failed with 1 conflict: conflict with "someone-else" using v1: '
        ".data.password"
    )
    assert body["details"]["causes"] == [
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "someone-else" using v1',
            "field": ".data.password",
        }
    ]
    assert CANARY not in error.body and b64(CANARY) not in error.body
    assert [e.manager for e in forced.metadata.managed_fields] == ["platxa-secrets"]
    assert kube.secret_data("tenant-a", "db") == {"password": b"mine"}


def test_apply_conflicts_with_a_field_changed_by_an_update(
    core: client.CoreV1Api, kube: KubeEmulator
) -> None:
    core.create_namespaced_secret("tenant-a", secret_body("db", data={"k": b64("1")}))

    _, body = status_of(
        lambda: core.patch_namespaced_secret(
            "db",
            "tenant-a",
            secret_body("db", data={"k": b64("2")}),
            field_manager="platxa-secrets",
            _content_type=APPLY,
        ),
        409,
        "Conflict",
    )

    assert 'conflict with "OpenAPI-Generator" using v1: .data.k' in body["message"]


def test_apply_without_field_manager_is_invalid(core: client.CoreV1Api) -> None:
    _, body = status_of(
        lambda: core.patch_namespaced_secret(
            "db", "tenant-a", secret_body("db"), _content_type=APPLY
        ),
        422,
        "Invalid",
    )

    assert body["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
        "is required for apply patch"
    )


def test_force_on_a_merge_patch_is_invalid(
    core: client.CoreV1Api, kube: KubeEmulator
) -> None:
    kube.put_secret("tenant-a", "db", {"a": "1"})

    status_of(
        lambda: core.patch_namespaced_secret(
            "db", "tenant-a", {"data": {}}, force=True, _content_type=MERGE
        ),
        422,
        "Invalid",
    )


def test_apply_in_a_missing_namespace_is_not_found(core: client.CoreV1Api) -> None:
    _, body = status_of(
        lambda: core.patch_namespaced_secret(
            "db", "nowhere", secret_body("db"), field_manager="m", _content_type=APPLY
        ),
        404,
        "NotFound",
    )

    assert body["message"] == 'namespaces "nowhere" not found'


def test_apply_accepts_a_yaml_body(
    api_client: client.ApiClient, kube: KubeEmulator
) -> None:
    yaml_body = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n"
        "stringData:\n  password: from-yaml\n"
    )
    request = api_client.param_serialize(
        "PATCH",
        "/api/v1/namespaces/{namespace}/secrets/{name}",
        path_params={"namespace": "tenant-a", "name": "db"},
        query_params=[("fieldManager", "platxa-secrets")],
        header_params={"Content-Type": APPLY, "Accept": "application/json"},
        body=yaml_body,
        auth_settings=["BearerToken"],
    )

    response = api_client.call_api(*request)
    response.read()
    secret = api_client.response_deserialize(response, {"201": "V1Secret"}).data

    assert response.status == 201
    assert secret.data == {"password": b64("from-yaml")}
