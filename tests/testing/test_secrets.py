"""Create, read, list, replace and delete Secrets and Namespaces."""

from __future__ import annotations

import pytest
from kubernetes import client

from platxa_secrets.testing import KubeEmulator

from .helpers import b64, secret_body, status_of, stored


def test_create_folds_string_data_and_stamps_server_fields(
    core: client.CoreV1Api, kube: KubeEmulator
) -> None:
    body = secret_body(
        "db",
        metadata={"labels": {"app": "odoo"}},
        data={"user": b64("odoo"), "password": b64("from-data")},
        stringData={"password": "from-string-data", "host": "pg"},
    )

    created = core.create_namespaced_secret("tenant-a", body)

    assert created.data == {
        "user": b64("odoo"),
        "password": b64("from-string-data"),
        "host": b64("pg"),
    }
    assert created.string_data is None
    assert created.type == "Opaque"
    assert created.metadata.namespace == "tenant-a"
    assert created.metadata.uid
    assert created.metadata.creation_timestamp is not None
    assert int(created.metadata.resource_version) > 0
    assert "stringData" not in stored(kube, "tenant-a", "db")
    assert kube.secret_data("tenant-a", "db")["password"] == b"from-string-data"
    assert kube.calls[-1].status == 201


def test_read_returns_what_was_stored(
    core: client.CoreV1Api, kube: KubeEmulator
) -> None:
    kube.put_secret("tenant-a", "db", {"password": "p"}, labels={"app": "odoo"})

    read = core.read_namespaced_secret("db", "tenant-a")

    assert read.data == {"password": b64("p")}
    assert read.metadata.labels == {"app": "odoo"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("", ["a1", "a2", "a3", "a4"]),
        ("app=odoo", ["a1", "a2"]),
        ("app==odoo,tier=db", ["a1"]),
        ("app!=odoo", ["a3", "a4"]),
        ("tier", ["a1", "a3"]),
        ("!tier", ["a2", "a4"]),
        ("app in (odoo, pg)", ["a1", "a2", "a3"]),
        ("app notin (odoo)", ["a3", "a4"]),
        ("app=odoo,!tier", ["a2"]),
    ],
)
def test_list_with_label_selectors(
    core: client.CoreV1Api, kube: KubeEmulator, selector: str, expected: list[str]
) -> None:
    kube.put_secret("tenant-a", "a1", {"k": "v"}, labels={"app": "odoo", "tier": "db"})
    kube.put_secret("tenant-a", "a2", {"k": "v"}, labels={"app": "odoo"})
    kube.put_secret("tenant-a", "a3", {"k": "v"}, labels={"app": "pg", "tier": "x"})
    kube.put_secret("tenant-a", "a4", {"k": "v"})
    kube.put_secret("tenant-b", "b1", {"k": "v"}, labels={"app": "odoo"})

    listed = core.list_namespaced_secret("tenant-a", label_selector=selector)

    assert [item.metadata.name for item in listed.items] == expected
    assert listed.kind == "SecretList"
    assert int(listed.metadata.resource_version) >= 5


def test_unparsable_label_selector_is_bad_request(core: client.CoreV1Api) -> None:
    status_of(
        lambda: core.list_namespaced_secret("tenant-a", label_selector="a in (b"),
        400,
        "BadRequest",
    )


def test_cluster_wide_list_and_field_selector(
    core: client.CoreV1Api, kube: KubeEmulator
) -> None:
    kube.put_secret("tenant-a", "db", {"k": "v"}, labels={"app": "odoo"})
    kube.put_secret("tenant-b", "db", {"k": "v"}, labels={"app": "odoo"})
    kube.put_secret("tenant-b", "other", {"k": "v"})

    everywhere = core.list_secret_for_all_namespaces(label_selector="app=odoo")
    by_name = core.list_secret_for_all_namespaces(field_selector="metadata.name=db")

    assert [(s.metadata.namespace, s.metadata.name) for s in everywhere.items] == [
        ("tenant-a", "db"),
        ("tenant-b", "db"),
    ]
    assert len(by_name.items) == 2
    assert kube.calls[-1].verb == "list"
    assert kube.calls[-1].namespace == ""


def test_replace_bumps_the_resource_version_unless_nothing_changed(
    core: client.CoreV1Api, kube: KubeEmulator
) -> None:
    created = core.create_namespaced_secret(
        "tenant-a", secret_body("db", data={"k": b64("1")})
    )
    created.data = {"k": b64("2")}

    replaced = core.replace_namespaced_secret("db", "tenant-a", created)
    again = core.replace_namespaced_secret("db", "tenant-a", replaced)

    assert int(replaced.metadata.resource_version) > int(
        created.metadata.resource_version
    )
    assert replaced.metadata.uid == created.metadata.uid
    assert again.metadata.resource_version == replaced.metadata.resource_version
    assert kube.secret_data("tenant-a", "db") == {"k": b"2"}


def test_replace_with_a_stale_resource_version_is_a_conflict(
    core: client.CoreV1Api,
) -> None:
    first = core.create_namespaced_secret(
        "tenant-a", secret_body("db", data={"k": b64("1")})
    )
    core.patch_namespaced_secret("db", "tenant-a", {"data": {"k": b64("2")}})
    first.data = {"k": b64("3")}

    _, body = status_of(
        lambda: core.replace_namespaced_secret("db", "tenant-a", first),
        409,
        "Conflict",
    )

    assert body["message"] == (
        'Operation cannot be fulfilled on secrets "db": the object has been '
        "modified; please apply your changes to the latest version and try again"
    )
    assert body["details"] == {"name": "db", "kind": "secrets"}


def test_replace_of_a_missing_secret_is_not_found(core: client.CoreV1Api) -> None:
    status_of(
        lambda: core.replace_namespaced_secret("db", "tenant-a", secret_body("db")),
        404,
        "NotFound",
    )


def test_delete_answers_a_success_status(
    core: client.CoreV1Api, kube: KubeEmulator
) -> None:
    kube.put_secret("tenant-a", "db", {"k": "v"})
    uid = stored(kube, "tenant-a", "db")["metadata"]["uid"]

    answer = core.delete_namespaced_secret("db", "tenant-a")

    assert answer == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": "db", "kind": "secrets", "uid": uid},
    }
    assert kube.secret("tenant-a", "db") is None
    _, body = status_of(
        lambda: core.read_namespaced_secret("db", "tenant-a"), 404, "NotFound"
    )
    assert body["message"] == 'secrets "db" not found'


def test_delete_with_a_stale_precondition_is_a_conflict(
    core: client.CoreV1Api, kube: KubeEmulator
) -> None:
    kube.put_secret("tenant-a", "db", {"k": "v"})
    options = client.V1DeleteOptions(
        preconditions=client.V1Preconditions(resource_version="1")
    )

    _, body = status_of(
        lambda: core.delete_namespaced_secret("db", "tenant-a", body=options),
        409,
        "Conflict",
    )

    assert "Precondition failed: ResourceVersion in precondition: 1" in body["message"]
    assert kube.secret("tenant-a", "db") is not None


def test_generate_name_and_dry_run(core: client.CoreV1Api, kube: KubeEmulator) -> None:
    body = {"metadata": {"generateName": "db-"}, "data": {"k": b64("v")}}

    generated = core.create_namespaced_secret("tenant-a", body)
    dry = core.create_namespaced_secret("tenant-a", secret_body("dry"), dry_run="All")

    assert generated.metadata.name.startswith("db-")
    assert len(generated.metadata.name) == len("db-") + 5
    assert dry.metadata.name == "dry"
    assert kube.secret("tenant-a", "dry") is None


def test_namespaces_lifecycle(core: client.CoreV1Api, kube: KubeEmulator) -> None:
    created = core.create_namespace({"metadata": {"name": "tenant-c"}})
    kube.put_secret("tenant-c", "db", {"k": "v"})

    read = core.read_namespace("tenant-c")
    names = [ns.metadata.name for ns in core.list_namespace().items]
    deleted = core.delete_namespace("tenant-c")

    assert created.status.phase == "Active"
    assert read.metadata.labels == {"kubernetes.io/metadata.name": "tenant-c"}
    assert names == ["tenant-a", "tenant-b", "tenant-c"]
    assert deleted["kind"] == "Namespace"
    assert deleted["status"]["phase"] == "Terminating"
    assert "tenant-c" not in kube.namespaces()
    assert kube.secret("tenant-c", "db") is None
    status_of(lambda: core.read_namespace("tenant-c"), 404, "NotFound")


def test_namespace_errors(core: client.CoreV1Api) -> None:
    _, exists = status_of(
        lambda: core.create_namespace({"metadata": {"name": "tenant-a"}}),
        409,
        "AlreadyExists",
    )
    _, bad = status_of(
        lambda: core.create_namespace({"metadata": {"name": "Tenant_A"}}),
        422,
        "Invalid",
    )

    assert exists["message"] == 'namespaces "tenant-a" already exists'
    assert bad["message"].startswith('Namespace "Tenant_A" is invalid: metadata.name:')
    assert bad["details"]["causes"][0]["field"] == "metadata.name"
