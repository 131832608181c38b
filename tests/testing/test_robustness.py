"""Malformed requests get a 4xx Status, never an emulator bug (a 500)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client

from platxa_secrets.testing import KubeEmulator

from .helpers import APPLY, MERGE

JSON_PATCH = "application/json-patch+json"
SECRETS = "/api/v1/namespaces/tenant-a/secrets"
DB = f"{SECRETS}/db"

BODIES: list[Any] = [
    [],
    "text",
    42,
    None,
    {"metadata": []},
    {"metadata": {"name": 5}},
    {"metadata": {"name": "db", "labels": []}},
    {"metadata": {"name": "db", "labels": {"a": 1}}},
    {"metadata": {"name": "db", "annotations": {"a": None}}},
    {"metadata": {"name": "db"}, "data": []},
    {"metadata": {"name": "db"}, "data": {"k": 1}},
    {"metadata": {"name": "db"}, "stringData": {"k": {}}},
    {"metadata": {"name": "db"}, "type": 3},
    {"metadata": {"name": "db"}, "immutable": "yes"},
    {"metadata": {"name": "db"}, "kind": "ConfigMap"},
    {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "other"}},
    {"apiVersion": "v1", "kind": "Secret", "metadata": "db"},
    {"apiVersion": "v1", "kind": "Secret", "metadata": {"labels": {"a": []}}},
    {"spec": []},
    {"spec": "x"},
    {"spec": {"resourceAttributes": []}},
]
REQUESTS = [
    ("POST", SECRETS, "application/json"),
    ("POST", "/api/v1/namespaces", "application/json"),
    ("PUT", DB, "application/json"),
    ("PATCH", DB, MERGE),
    ("PATCH", DB, JSON_PATCH),
    ("PATCH", DB, APPLY),
    (
        "POST",
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        "application/json",
    ),
]


def _send(api: client.ApiClient, method: str, path: str, ctype: str, body: Any) -> int:
    request = api.param_serialize(
        method,
        path,
        query_params=[("fieldManager", "m")] if ctype == APPLY else [],
        header_params={"Content-Type": ctype, "Accept": "application/json"},
        body=body,
        auth_settings=["BearerToken"],
    )
    response = api.call_api(*request)
    response.read()
    return int(response.status)


@pytest.mark.parametrize(("method", "path", "ctype"), REQUESTS)
def test_malformed_bodies_are_refused_cleanly(
    api_client: client.ApiClient,
    kube: KubeEmulator,
    method: str,
    path: str,
    ctype: str,
) -> None:
    kube.put_secret("tenant-a", "db", {"k": "v"})

    codes = [_send(api_client, method, path, ctype, body) for body in BODIES]

    assert kube.internal_errors == []
    assert all(code < 500 for code in codes), codes


@pytest.mark.parametrize(
    "operations",
    [
        [{"op": "add", "path": "data/x", "value": "eA=="}],
        [{"op": "remove", "path": "/data/missing"}],
        [{"op": "replace", "path": "/data/missing", "value": "eA=="}],
        [{"op": "move", "from": "/data/missing", "path": "/data/x"}],
        [{"op": "copy", "from": "/data/k", "path": "/data/k2"}],
        [{"op": "add", "path": "/metadata/labels/a/b", "value": "x"}],
        [{"op": "add", "path": "", "value": []}],
        [{"op": "remove", "path": ""}],
        [{"op": "frobnicate", "path": "/data"}],
        [{"op": "add", "path": "/finalizers/-", "value": "x"}],
        ["not-an-object"],
    ],
)
def test_malformed_json_patches(
    api_client: client.ApiClient, kube: KubeEmulator, operations: list[Any]
) -> None:
    kube.put_secret("tenant-a", "db", {"k": "v"})

    code = _send(api_client, "PATCH", DB, JSON_PATCH, operations)

    assert code in (200, 400, 422)
    assert kube.internal_errors == []


def test_unparsable_json_is_a_bad_request(
    api_client: client.ApiClient, kube: KubeEmulator
) -> None:
    request = api_client.param_serialize(
        "POST",
        SECRETS,
        header_params={"Content-Type": "application/json"},
        body="{not json",
        auth_settings=["BearerToken"],
    )
    response = api_client.call_api(*request)
    response.read()

    assert response.status == 400
    assert json.loads(response.data)["reason"] == "BadRequest"
