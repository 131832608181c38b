"""`doctor` cluster checks against the emulator: each rule passes on a
tidy cluster and fails (or warns) on one broken on purpose."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from platxa_secrets.api import Platxa
from platxa_secrets.kube.connection import connect
from platxa_secrets.kube.doctor import cluster_checks
from platxa_secrets.kube.reconcile import KubeSecrets
from platxa_secrets.services.doctor import FAIL, PASS, WARN, Finding, run_checks
from platxa_secrets.testing import KubeEmulator, Policy, Rule
from tests.harness import Cli

NAMESPACED = Policy.of(
    Rule.of(["get", "list", "create", "patch", "delete"], "secrets", ["tenant-a"]),
    Rule.of("create", "selfsubjectaccessreviews"),
)


def run(store: Platxa, kube: KubeEmulator) -> list[Finding]:
    api = connect(store.runtime.config, context="emulator")
    return list(run_checks(cluster_checks(store.runtime, api, ["tenant-a"])).findings)


def by_check(findings: list[Finding], check: str) -> list[Finding]:
    return [f for f in findings if f.check == check]


def certificate(days: int) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "acme.example")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=400))
        .not_valid_after(now + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def test_a_tidy_cluster_passes(
    store: Platxa, cluster: KubeSecrets, kube: KubeEmulator
) -> None:
    store.secrets.put("tenant-a", "odoo", {"DB_PASSWORD": b"x" * 20})
    cluster.sync(["tenant-a"])
    kube.put_secret(
        "tenant-a",
        "web-tls",
        {"tls.crt": certificate(90), "tls.key": b"k"},
        type="kubernetes.io/tls",
    )
    kube.policy = NAMESPACED

    findings = run(store, kube)

    assert [f for f in findings if f.status != PASS] == []
    assert {f.check for f in findings} >= {
        "kube.rbac.needed",
        "kube.rbac.cluster-wide",
        "kube.in-step",
        "kube.last-applied",
        "kube.tls",
    }


def test_missing_verbs_fail_with_the_role_to_grant(
    store: Platxa, kube: KubeEmulator
) -> None:
    kube.policy = Policy.of(
        Rule.of(["get", "list"], "secrets", ["tenant-a"]),
        Rule.of("create", "selfsubjectaccessreviews"),
    )

    (needed,) = by_check(run(store, kube), "kube.rbac.needed")

    assert needed.status == FAIL
    assert "create, patch, delete" in needed.reason
    assert "kind: Role" in needed.fix


def test_cluster_wide_rights_beyond_secrets_fail(
    store: Platxa, kube: KubeEmulator
) -> None:
    kube.policy = Policy.allow_all()

    (wide,) = by_check(run(store, kube), "kube.rbac.cluster-wide")

    assert wide.status == FAIL
    assert "create clusterrolebindings" in wide.reason
    assert "pods/exec" in wide.reason


def test_drift_warns_and_names_the_fix(
    store: Platxa, cluster: KubeSecrets, kube: KubeEmulator
) -> None:
    store.secrets.put("tenant-a", "odoo", {"DB_PASSWORD": b"x" * 20})
    cluster.sync(["tenant-a"])
    store.secrets.put("tenant-a", "odoo", {"DB_PASSWORD": b"y" * 20})

    (step,) = by_check(run(store, kube), "kube.in-step")

    assert step.status == WARN
    assert "tenant-a/odoo (drifted)" in step.reason
    assert step.fix == "run `pxs k8s sync tenant-a`"


def test_a_last_applied_annotation_fails(store: Platxa, kube: KubeEmulator) -> None:
    kube.put_secret(
        "tenant-a",
        "by-kubectl",
        {"password": b"p"},
        annotations={"kubectl.kubernetes.io/last-applied-configuration": "{}"},
    )

    (found,) = by_check(run(store, kube), "kube.last-applied")

    assert found.status == FAIL
    assert "tenant-a/by-kubectl" in found.reason


def test_tls_secrets_must_be_typed_and_in_date(
    store: Platxa, kube: KubeEmulator
) -> None:
    kube.put_secret("tenant-a", "untyped", {"tls.crt": certificate(90)})
    kube.put_secret(
        "tenant-a",
        "soon",
        {"tls.crt": certificate(10), "tls.key": b"k"},
        type="kubernetes.io/tls",
    )
    kube.put_secret(
        "tenant-a",
        "expired",
        {"tls.crt": certificate(-1), "tls.key": b"k"},
        type="kubernetes.io/tls",
    )

    tls = {
        f.reason.split(":")[0].split(" ")[0]: f
        for f in by_check(run(store, kube), "kube.tls")
    }

    assert tls["tenant-a/untyped"].status == FAIL
    assert tls["tenant-a/soon"].status == WARN
    assert tls["tenant-a/expired"].status == FAIL


def test_the_command_reports_json_and_exits_with_the_worst(
    tmp_path: Path, kube: KubeEmulator, kube_env: dict[str, str]
) -> None:
    cli = Cli(tmp_path / "home", kube_env)
    cli("init")
    cli("secret", "set", "tenant-a/odoo", "K=-", stdin=b"v" * 16)
    cli("k8s", "sync", "tenant-a")
    kube.policy = NAMESPACED

    healthy = cli("doctor", "--namespace", "tenant-a", "-o", "json")
    assert json.loads(healthy.stdout)["status"] == "pass", healthy.stdout

    kube.policy = Policy.allow_all()
    broken = cli("doctor", "--namespace", "tenant-a", "-o", "json", ok=False)

    assert broken.code == 2
    report = json.loads(broken.stdout)
    assert report["status"] == "fail"
    assert report["counts"]["fail"] == 1
    assert "Traceback" not in broken.stderr


def test_a_namespace_the_store_does_not_know_warns(
    store: Platxa, kube: KubeEmulator
) -> None:
    store.secrets.put("tenant-a", "odoo", {"K": b"v" * 12})
    api = connect(store.runtime.config, context="emulator")

    def known(namespaces: list[str]) -> Finding:
        checks = cluster_checks(store.runtime, api, namespaces)
        report = run_checks([c for c in checks if c[0] == "kube.namespaces"])
        return report.findings[0]

    assert known(["tenant-a"]).status == PASS
    typo = known(["tenant-aa"])
    assert typo.status == WARN and "tenant-aa" in typo.reason
