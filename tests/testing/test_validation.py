"""The object rules: each refusal with its code, reason, message and cause."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client

from platxa_secrets.testing import KubeEmulator

from .helpers import MERGE, b64, secret_body, status_of

CANARY = "canary-52d1e0-secret-value"
IMMUTABLE = "Forbidden: field is immutable when `immutable` is set"


def test_data_that_is_not_base64_is_a_bad_request(
    core: client.CoreV1Api, kube: KubeEmulator
) -> None:
    error, body = status_of(
        lambda: core.create_namespaced_secret(
            "tenant-a", secret_body("db", data={"password": CANARY + "!"})
        ),
        400,
        "BadRequest",
    )

    assert body["message"].startswith(
        'Secret in version "v1" cannot be handled as a Secret: illegal base64 data '
        "at input byte "
    )
    assert CANARY not in error.body
    assert kube.secret("tenant-a", "db") is None


def test_create_in_a_missing_namespace_is_not_found(core: client.CoreV1Api) -> None:
    _, body = status_of(
        lambda: core.create_namespaced_secret("nowhere", secret_body("db")),
        404,
        "NotFound",
    )

    assert body["message"] == 'namespaces "nowhere" not found'
    assert body["details"] == {"name": "nowhere", "kind": "namespaces"}


def test_create_twice_is_already_exists(core: client.CoreV1Api) -> None:
    core.create_namespaced_secret("tenant-a", secret_body("db"))

    _, body = status_of(
        lambda: core.create_namespaced_secret("tenant-a", secret_body("db")),
        409,
        "AlreadyExists",
    )

    assert body["message"] == 'secrets "db" already exists'
    assert body["details"] == {"name": "db", "kind": "secrets"}


def test_body_namespace_must_match_the_url(core: client.CoreV1Api) -> None:
    _, body = status_of(
        lambda: core.create_namespaced_secret(
            "tenant-a", secret_body("db", metadata={"namespace": "tenant-b"})
        ),
        400,
        "BadRequest",
    )

    assert "does not match the namespace sent on the request" in body["message"]


def test_resource_version_on_create_is_refused(core: client.CoreV1Api) -> None:
    _, body = status_of(
        lambda: core.create_namespaced_secret(
            "tenant-a", secret_body("db", metadata={"resourceVersion": "7"})
        ),
        500,
        "InternalError",
    )

    assert (
        "resourceVersion should not be set on objects to be created" in body["message"]
    )


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("Bad_Name", "metadata.name"),
        ("x" * 254, "metadata.name"),
        ("", "metadata.name"),
    ],
)
def test_invalid_names(core: client.CoreV1Api, name: str, field: str) -> None:
    _, body = status_of(
        lambda: core.create_namespaced_secret("tenant-a", {"metadata": {"name": name}}),
        422,
        "Invalid",
    )

    assert body["message"].startswith(f'Secret "{name}" is invalid: {field}: ')
    assert body["details"]["kind"] == "Secret"
    assert body["details"]["causes"][0]["field"] == field


@pytest.mark.parametrize("key", ["bad key", ".", "..", "..hidden", "a/b"])
def test_invalid_data_keys(core: client.CoreV1Api, key: str) -> None:
    _, body = status_of(
        lambda: core.create_namespaced_secret(
            "tenant-a", secret_body("db", data={key: b64("v")})
        ),
        422,
        "Invalid",
    )

    [cause] = body["details"]["causes"]
    assert cause["reason"] == "FieldValueInvalid"
    assert cause["field"] == f"data[{key}]"
    assert cause["message"].startswith(f'Invalid value: "{key}": ')


@pytest.mark.parametrize("key", ["ok.key", "KEY_NAME", "key-name", ".dotfile"])
def test_valid_data_keys(core: client.CoreV1Api, key: str) -> None:
    created = core.create_namespaced_secret(
        "tenant-a", secret_body("db", data={key: b64("v")})
    )

    assert list(created.data) == [key]


@pytest.mark.parametrize(
    ("kind", "data", "fields"),
    [
        ("kubernetes.io/tls", {}, ["data[tls.crt]", "data[tls.key]"]),
        ("kubernetes.io/tls", {"tls.crt": "c"}, ["data[tls.key]"]),
        ("kubernetes.io/basic-auth", {}, ["data[username]", "data[password]"]),
        ("kubernetes.io/ssh-auth", {}, ["data[ssh-privatekey]"]),
        ("kubernetes.io/dockerconfigjson", {}, ["data[.dockerconfigjson]"]),
        ("kubernetes.io/dockercfg", {}, ["data[.dockercfg]"]),
        (
            "kubernetes.io/service-account-token",
            {},
            ["metadata.annotations[kubernetes.io/service-account.name]"],
        ),
    ],
)
def test_typed_secrets_need_their_keys(
    core: client.CoreV1Api, kind: str, data: dict[str, str], fields: list[str]
) -> None:
    encoded = {key: b64(value) for key, value in data.items()}

    _, body = status_of(
        lambda: core.create_namespaced_secret(
            "tenant-a", secret_body("typed", type=kind, data=encoded)
        ),
        422,
        "Invalid",
    )

    causes = body["details"]["causes"]
    assert [cause["field"] for cause in causes] == fields
    assert {cause["reason"] for cause in causes} == {"FieldValueRequired"}


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("kubernetes.io/tls", {"tls.crt": "c", "tls.key": "k"}),
        ("kubernetes.io/basic-auth", {"password": "p"}),
        ("kubernetes.io/ssh-auth", {"ssh-privatekey": "k"}),
        ("kubernetes.io/dockerconfigjson", {".dockerconfigjson": '{"auths": {}}'}),
    ],
)
def test_typed_secrets_with_their_keys_are_accepted(
    core: client.CoreV1Api, kind: str, data: dict[str, str]
) -> None:
    created = core.create_namespaced_secret(
        "tenant-a", secret_body("typed", type=kind, stringData=data)
    )

    assert created.type == kind


def test_docker_config_that_is_not_json_is_redacted(core: client.CoreV1Api) -> None:
    error, body = status_of(
        lambda: core.create_namespaced_secret(
            "tenant-a",
            secret_body(
                "pull",
                type="kubernetes.io/dockerconfigjson",
                stringData={".dockerconfigjson": CANARY},
            ),
        ),
        422,
        "Invalid",
    )

    [cause] = body["details"]["causes"]
    assert cause["message"].startswith('Invalid value: "<secret contents redacted>"')
    assert CANARY not in error.body and b64(CANARY) not in error.body


def test_data_over_one_mebibyte_is_too_long(core: client.CoreV1Api) -> None:
    big = {"a": b64(b"x" * (512 * 1024)), "b": b64(b"y" * (512 * 1024 + 1))}

    _, body = status_of(
        lambda: core.create_namespaced_secret("tenant-a", secret_body("big", data=big)),
        422,
        "Invalid",
    )

    assert body["message"] == (
        'Secret "big" is invalid: data: Too long: must have at most 1048576 bytes'
    )
    assert body["details"]["causes"][0]["reason"] == "FieldValueTooLong"


def _immutable(core: client.CoreV1Api) -> None:
    core.create_namespaced_secret(
        "tenant-a", secret_body("frozen", immutable=True, data={"k": b64("1")})
    )


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"data": {"k": b64("2")}}, "data"),
        ({"stringData": {"new": "x"}}, "data"),
        ({"immutable": False}, "immutable"),
        ({"immutable": None}, "immutable"),
    ],
)
def test_immutable_secrets_refuse_changes(
    core: client.CoreV1Api, kube: KubeEmulator, patch: dict[str, Any], field: str
) -> None:
    _immutable(core)

    _, body = status_of(
        lambda: core.patch_namespaced_secret(
            "frozen", "tenant-a", patch, _content_type=MERGE
        ),
        422,
        "Invalid",
    )

    assert f"{field}: {IMMUTABLE}" in body["message"]
    assert {"reason": "FieldValueForbidden", "message": IMMUTABLE, "field": field} in (
        body["details"]["causes"]
    )
    assert kube.secret_data("tenant-a", "frozen") == {"k": b"1"}


def test_immutable_secrets_still_take_label_changes(core: client.CoreV1Api) -> None:
    _immutable(core)

    patched = core.patch_namespaced_secret(
        "frozen", "tenant-a", {"metadata": {"labels": {"a": "b"}}}, _content_type=MERGE
    )

    assert patched.metadata.labels == {"a": "b"}


def test_type_cannot_change(core: client.CoreV1Api) -> None:
    core.create_namespaced_secret("tenant-a", secret_body("db", data={"k": b64("v")}))

    _, body = status_of(
        lambda: core.patch_namespaced_secret(
            "db",
            "tenant-a",
            {"type": "kubernetes.io/basic-auth", "stringData": {"username": "u"}},
            _content_type=MERGE,
        ),
        422,
        "Invalid",
    )

    assert body["message"] == (
        'Secret "db" is invalid: type: Invalid value: "kubernetes.io/basic-auth": '
        "field is immutable"
    )


def test_unserved_method_and_unknown_path(core: client.CoreV1Api) -> None:
    status_of(
        lambda: core.delete_collection_namespaced_secret("tenant-a"),
        405,
        "MethodNotAllowed",
    )
    _, body = status_of(
        lambda: core.list_namespaced_config_map("tenant-a"), 404, "NotFound"
    )

    assert body["message"] == "the server could not find the requested resource"
    assert json.dumps(body["details"]) == "{}"


def test_apply_to_an_immutable_secret_is_refused(
    core: client.CoreV1Api, kube: KubeEmulator
) -> None:
    _immutable(core)

    _, body = status_of(
        lambda: core.patch_namespaced_secret(
            "frozen",
            "tenant-a",
            secret_body("frozen", data={"k": b64("2")}),
            field_manager="platxa-secrets",
            force=True,
            _content_type="application/apply-patch+yaml",
        ),
        422,
        "Invalid",
    )

    assert body["message"] == f'Secret "frozen" is invalid: data: {IMMUTABLE}'
    assert kube.secret_data("tenant-a", "frozen") == {"k": b"1"}


def test_put_body_must_name_the_url_object(core: client.CoreV1Api) -> None:
    core.create_namespaced_secret("tenant-a", secret_body("db"))

    _, body = status_of(
        lambda: core.replace_namespaced_secret("db", "tenant-a", secret_body("other")),
        400,
        "BadRequest",
    )

    assert body["message"] == (
        "the name of the object (other) does not match the name on the URL (db)"
    )


def test_watch_is_refused_by_name(core: client.CoreV1Api) -> None:
    _, body = status_of(
        lambda: core.list_namespaced_secret("tenant-a", watch=True), 400, "BadRequest"
    )

    assert "watch" in body["message"]
