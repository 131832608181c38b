"""Store → cluster through the official client and the API emulator."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

from platxa_secrets.api import Platxa
from platxa_secrets.kube import desired as d
from platxa_secrets.kube.errors import KubeForbidden, KubeNotFound, KubeUnavailable
from platxa_secrets.kube.reconcile import KubeSecrets
from platxa_secrets.services.manifests import parse_manifests
from platxa_secrets.services.secrets import WriteRequest
from platxa_secrets.testing import KubeEmulator, Policy, Rule

CANARY = b"CANARY-k8s-41c9"


def writes(kube: KubeEmulator) -> int:
    return sum(kube.count(verb=v) for v in ("create", "update", "patch", "delete"))


def test_kubernetes_docs_fixtures_go_store_cluster_get_identically(
    store: Platxa, cluster: KubeSecrets, kube: KubeEmulator, fixtures_dir: Path
) -> None:
    requests = []
    for path in sorted((fixtures_dir / "kubernetes-docs").glob("*.yaml")):
        batch = parse_manifests(path.read_bytes(), path.name)
        requests += [
            WriteRequest(m.namespace, m.name, m.data, m.type) for m in batch.secrets
        ]
    store.secrets.put_many(requests)

    report = cluster.sync()

    assert len(report.created) == len(requests) == 5
    for request in requests:
        secret_type, data, version = cluster.get(request.namespace, request.name)
        assert version == 1
        assert data == dict(request.data), request.name
        assert secret_type == request.type
    assert cluster.get("default", "dotfile-secret")[1] == {
        ".secret-file": b"value-2\r\n\r\n"
    }
    assert kube.secret("kube-system", "bootstrap-token-5emitj") is not None


def test_apply_uses_server_side_apply_with_labels_and_keyed_hash(
    store: Platxa, cluster: KubeSecrets, kube: KubeEmulator
) -> None:
    store.secrets.put("tenant-a", "odoo", {"DB_PASSWORD": CANARY})

    action, version = cluster.apply("tenant-a", "odoo", labels={"team": "core"})
    live = kube.secret("tenant-a", "odoo")

    assert (action, version) == ("created", 1)
    assert live is not None
    meta = live["metadata"]
    assert meta["labels"] == {"team": "core", d.MANAGED_BY: d.MANAGER}
    assert meta["annotations"][d.SOURCE] == "tenant-a/odoo"
    assert meta["annotations"][d.SOURCE_VERSION] == "1"
    assert meta["annotations"][d.CONTENT_HMAC].startswith("hmac-sha256:")
    assert d.LAST_APPLIED not in meta["annotations"]
    assert [m["manager"] for m in meta["managedFields"]] == [d.MANAGER]
    assert meta["managedFields"][0]["operation"] == "Apply"
    assert kube.secret_data("tenant-a", "odoo") == {"DB_PASSWORD": CANARY}
    everything_but_data = repr({k: v for k, v in live.items() if k != "data"})
    assert base64.b64encode(CANARY).decode() not in everything_but_data
    assert CANARY.decode() not in everything_but_data

    kube.reset_calls()
    assert cluster.apply("tenant-a", "odoo")[0] == "unchanged"
    assert writes(kube) == 0


def test_sync_costs_no_write_when_nothing_changed(
    store: Platxa, cluster: KubeSecrets, kube: KubeEmulator
) -> None:
    for tenant in ("tenant-a", "tenant-b"):
        for name in ("odoo", "smtp", "tls"):
            store.secrets.put(tenant, name, {"K": f"{tenant}-{name}".encode()})
    cluster.sync()

    kube.reset_calls()
    second = cluster.sync()
    assert len(second.unchanged) == 6
    assert writes(kube) == 0
    assert kube.count(verb="list") == 1

    store.secrets.put("tenant-a", "smtp", {"K": b"changed"})
    kube.reset_calls()
    third = cluster.sync()
    assert third.repaired == ["tenant-a/smtp"]
    assert writes(kube) == 1
    assert kube.secret_data("tenant-a", "smtp") == {"K": b"changed"}


def test_drift_is_reported_by_key_name_and_repaired(
    store: Platxa, cluster: KubeSecrets, kube: KubeEmulator
) -> None:
    store.secrets.put("tenant-a", "odoo", {"A": b"1", "B": CANARY})
    cluster.sync()
    live = kube.secret("tenant-a", "odoo")
    assert live is not None
    kube.put_secret(
        "tenant-b",
        "odoo",
        {"A": b"1", "B": b"edited", "C": b"extra"},
        labels=live["metadata"]["labels"],
        annotations={**live["metadata"]["annotations"], d.SOURCE: "tenant-b/odoo"},
    )
    store.secrets.put("tenant-b", "odoo", {"A": b"1", "B": CANARY})

    drifts = {(x.namespace, x.name): x for x in cluster.diff(["tenant-b"])}
    drift = drifts[("tenant-b", "odoo")]
    assert (drift.state, drift.changed, drift.removed) == ("drifted", ["B"], ["C"])
    assert CANARY.decode() not in repr(drifts)

    report = cluster.sync(["tenant-b"])
    assert report.repaired == ["tenant-b/odoo"]
    assert kube.secret_data("tenant-b", "odoo") == {"A": b"1", "B": CANARY}


def test_prune_only_when_asked_and_dry_run_writes_nothing(
    store: Platxa, cluster: KubeSecrets, kube: KubeEmulator
) -> None:
    store.secrets.put("tenant-a", "gone", {"K": b"v"})
    store.secrets.put("tenant-a", "kept", {"K": b"v"})
    cluster.sync()
    store.secrets.delete("tenant-a", "gone")

    kube.reset_calls()
    report = cluster.sync(["tenant-a"])
    dry = cluster.sync(["tenant-a"], prune=True, dry_run=True)
    assert report.orphans == ["tenant-a/gone"]
    assert dry.pruned == ["tenant-a/gone"]
    assert writes(kube) == 0

    pruned = cluster.sync(["tenant-a"], prune=True)
    assert pruned.pruned == ["tenant-a/gone"]
    assert kube.secret("tenant-a", "gone") is None
    assert kube.secret("tenant-a", "kept") is not None


def test_last_applied_annotation_is_reported_and_removed(
    store: Platxa, cluster: KubeSecrets, kube: KubeEmulator
) -> None:
    kube.put_secret(
        "tenant-a",
        "legacy",
        {"K": CANARY},
        labels={d.MANAGED_BY: d.MANAGER},
        annotations={d.LAST_APPLIED: '{"data":{"K":"secret"}}'},
    )
    store.secrets.put("tenant-a", "legacy", {"K": b"new"})

    drift = cluster.diff(["tenant-a"])[0]
    report = cluster.sync(["tenant-a"])
    live = kube.secret("tenant-a", "legacy")

    assert drift.last_applied
    assert report.last_applied_removed == ["tenant-a/legacy"]
    assert live is not None
    assert d.LAST_APPLIED not in live["metadata"].get("annotations", {})


def test_without_cluster_wide_list_sync_lists_per_namespace(
    store: Platxa, cluster: KubeSecrets, kube: KubeEmulator
) -> None:
    store.secrets.put("tenant-a", "odoo", {"K": b"v"})
    store.secrets.put("tenant-b", "odoo", {"K": b"v"})
    cluster.sync()
    kube.policy = Policy.of(Rule.of("*", "secrets", ["tenant-a", "tenant-b"]))

    kube.reset_calls()
    report = cluster.sync()

    assert len(report.unchanged) == 2
    assert kube.count(verb="list") == 3  # the refused cluster-wide list, then 2


def test_api_errors_are_typed_and_name_what_is_missing(
    store: Platxa, cluster: KubeSecrets, kube: KubeEmulator
) -> None:
    store.secrets.put("tenant-a", "odoo", {"K": CANARY})
    store.secrets.put("tenant-x", "odoo", {"K": CANARY})
    kube.policy = Policy.of(Rule.of(["get", "list"], "secrets", "tenant-a"))

    with pytest.raises(KubeForbidden) as forbidden:
        cluster.apply("tenant-a", "odoo")
    kube.policy = Policy.allow_all()
    with pytest.raises(KubeNotFound) as missing:
        cluster.apply("tenant-x", "odoo")
    kube.stop()
    with pytest.raises(KubeUnavailable, match="connection refused"):
        cluster.apply("tenant-a", "odoo")

    assert "cannot patch resource" in forbidden.value.message
    assert 'verbs: ["patch"]' in forbidden.value.message
    assert "tenant-x" in missing.value.message
    for error in (forbidden.value, missing.value):
        assert CANARY.decode() not in str(error)
        assert error.__cause__ is None


def test_check_access_lists_missing_verbs(
    cluster: KubeSecrets, kube: KubeEmulator
) -> None:
    kube.policy = Policy.of(Rule.of(["get", "list"], "secrets", "tenant-a"))

    assert cluster.check_access("tenant-a") == ["create", "patch", "delete"]
    assert cluster.check_access("tenant-b") == [
        "get",
        "list",
        "create",
        "patch",
        "delete",
    ]


def test_exported_manifest_applies_the_same_bytes(
    store: Platxa, cluster: KubeSecrets
) -> None:
    data = {"bin": bytes(range(256)), "empty": b"", "crlf": b"a\r\n"}
    store.secrets.put("tenant-a", "bin", data)
    cluster.apply("tenant-a", "bin")

    assert cluster.get("tenant-a", "bin") == ("Opaque", data, 1)
    assert yaml.safe_load("a: 1") == {"a": 1}


def test_rejected_credentials_and_invalid_fields_are_typed(
    store: Platxa, cluster: KubeSecrets, kube: KubeEmulator
) -> None:
    from platxa_secrets.kube.errors import KubeInvalid, KubeUnauthorized

    store.secrets.put(
        "tenant-a",
        "auth",
        {"username": b"u", "password": CANARY},
        secret_type="kubernetes.io/basic-auth",
    )
    kube.put_secret("tenant-a", "auth", {"username": "u"}, type="Opaque")

    with pytest.raises(KubeInvalid) as invalid:
        cluster.apply("tenant-a", "auth")
    kube.token = "another-token"
    with pytest.raises(KubeUnauthorized, match="401"):
        cluster.apply("tenant-a", "auth")

    assert "422" in invalid.value.message and "type" in invalid.value.message
    assert CANARY.decode() not in invalid.value.message


def test_the_client_never_runs_in_debug_mode(cluster: KubeSecrets) -> None:
    import http.client

    configuration = cluster._api.core.api_client.configuration

    assert configuration.debug is False
    assert http.client.HTTPConnection.debuglevel == 0


def test_sync_reports_a_failing_secret_and_goes_on(
    store: Platxa, cluster: KubeSecrets, kube: KubeEmulator
) -> None:
    store.secrets.put("absent-ns", "odoo", {"K": CANARY})
    store.secrets.put("tenant-a", "odoo", {"K": b"v"})
    store.secrets.put("tenant-b", "odoo", {"K": b"v"})

    report = cluster.sync()

    assert sorted(report.created) == ["tenant-a/odoo", "tenant-b/odoo"]
    assert len(report.failed) == 1
    assert report.failed[0].startswith("absent-ns/odoo: ")
    assert "404" in report.failed[0]
    assert CANARY.decode() not in report.failed[0]


def test_jwt_private_keys_never_reach_a_cluster(
    store: Platxa, cluster: KubeSecrets, kube: KubeEmulator
) -> None:
    from platxa_secrets.errors import ValidationError
    from platxa_secrets.services.jwt_keys import JwtService

    key = JwtService(store.runtime).rotate()
    store.secrets.put("tenant-a", "odoo", {"K": b"v" * 12})

    report = cluster.sync()

    assert report.created == ["tenant-a/odoo"]
    assert kube.secrets("platxa-system") == []
    with pytest.raises(ValidationError, match="reserved"):
        cluster.apply("platxa-system", key.secret.split("/")[1], "tenant-a")
