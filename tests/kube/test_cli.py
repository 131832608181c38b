"""`pxs k8s …` as a user runs it, against the emulator, with a canary."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from platxa_secrets.testing import KubeEmulator, Policy, Rule
from tests.harness import Cli

CANARY = b"CANARY-k8s-cli-77e2"


def _cli(tmp_path: Path, kube: KubeEmulator, master_key: str) -> Cli:
    import os

    kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PLATXA_SECRETS_HOME": str(tmp_path / "home"),
        "PLATXA_SECRETS_MASTER_KEY": master_key,
        "KUBECONFIG": str(kubeconfig),
    }
    cli = Cli(tmp_path / "home", env)
    cli("init")
    return cli


def _certificate(
    tmp_path: Path, days: int, other_key: bool = False
) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "acme.example")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    signer = ec.generate_private_key(ec.SECP256R1()) if other_key else key
    cert_path, key_path = tmp_path / f"tls-{days}.crt", tmp_path / f"tls-{days}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        signer.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_apply_get_diff_sync_from_the_command_line(
    tmp_path: Path, kube: KubeEmulator, master_key: str
) -> None:
    cli = _cli(tmp_path, kube, master_key)
    cli("-v", "secret", "set", "tenant-a/odoo", "DB_PASSWORD=-", stdin=CANARY)
    cli("-v", "secret", "set", "tenant-a/empty", "E=-", stdin=b"")

    applied = json.loads(cli("-v", "k8s", "apply", "tenant-a/odoo", "-o", "json").out)
    raw = cli("k8s", "get", "tenant-a/odoo", "--key", "DB_PASSWORD").out
    synced = json.loads(cli("-v", "k8s", "sync", "tenant-a", "-o", "json").out)
    diff = json.loads(cli("-v", "k8s", "diff", "tenant-a", "-o", "json").out)
    again = json.loads(cli("-v", "k8s", "sync", "tenant-a", "-o", "json").out)

    assert applied == {"secret": "tenant-a/odoo", "version": 1, "action": "created"}
    assert raw == CANARY
    assert synced["created"] == ["tenant-a/empty"]
    assert sorted(x["state"] for x in diff) == ["in-step", "in-step"]
    assert sorted(again["unchanged"]) == ["tenant-a/empty", "tenant-a/odoo"]
    assert (
        base64.b64decode(
            json.loads(cli("k8s", "get", "tenant-a/empty", "-o", "json").out)["data"][
                "E"
            ]
        )
        == b""
    )

    forms = (CANARY, base64.b64encode(CANARY))
    for index, call in enumerate(cli.calls):
        if index == 4:  # `k8s get --key` prints the value by design
            continue
        for form in forms:
            assert form not in call.out + call.err, index


def test_tls_is_checked_stored_and_applied(
    tmp_path: Path, kube: KubeEmulator, master_key: str
) -> None:
    cli = _cli(tmp_path, kube, master_key)
    good_cert, good_key = _certificate(tmp_path, 90)
    soon_cert, soon_key = _certificate(tmp_path, 10)
    bad_cert, bad_key = _certificate(tmp_path, 60, other_key=True)

    good = cli(
        "k8s", "tls", "tenant-a/odoo-tls", "--cert", good_cert, "--key", good_key
    )
    soon = cli("k8s", "tls", "tenant-a/soon", "--cert", soon_cert, "--key", soon_key)
    bad = cli(
        "k8s", "tls", "tenant-a/bad", "--cert", bad_cert, "--key", bad_key, ok=False
    )
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"not a certificate " + CANARY)
    broken = cli(
        "k8s", "tls", "tenant-a/bad", "--cert", garbage, "--key", good_key, ok=False
    )

    live = kube.secret("tenant-a", "odoo-tls")
    assert live is not None and live["type"] == "kubernetes.io/tls"
    assert kube.secret_data("tenant-a", "odoo-tls")["tls.crt"] == good_cert.read_bytes()
    assert "created in the cluster" in good.stderr
    assert "expires in" in soon.stderr
    assert "does not belong to tls.crt" in bad.stderr
    assert "tls.crt is not a PEM certificate" in broken.stderr
    assert CANARY.decode() not in broken.stderr
    assert kube.secret("tenant-a", "bad") is None


def test_forbidden_and_check_access_print_the_missing_role(
    tmp_path: Path, kube: KubeEmulator, master_key: str
) -> None:
    cli = _cli(tmp_path, kube, master_key)
    cli("secret", "set", "tenant-a/odoo", "K=-", stdin=CANARY)
    kube.policy = Policy.of(Rule.of(["get", "list"], "secrets", "tenant-a"))

    refused = cli("k8s", "apply", "tenant-a/odoo", ok=False)
    access = cli("k8s", "check-access", "tenant-a", ok=False)

    assert refused.code == 8
    assert "forbidden" in refused.stderr and "kind: Role" in refused.stderr
    assert "missing on secrets in tenant-a: create, patch, delete" in access.stderr
    assert 'verbs: ["create", "patch", "delete"]' in access.stdout
    assert CANARY.decode() not in refused.stderr + access.stderr


def test_unreachable_cluster_and_missing_kubeconfig(
    tmp_path: Path, kube: KubeEmulator, master_key: str
) -> None:
    cli = _cli(tmp_path, kube, master_key)
    cli("secret", "set", "tenant-a/odoo", "K=-", stdin=b"v")
    kube.stop()

    down = cli("k8s", "apply", "tenant-a/odoo", ok=False)
    nowhere = cli(
        "k8s",
        "apply",
        "tenant-a/odoo",
        env={"KUBECONFIG": str(tmp_path / "none")},
        ok=False,
    )

    assert "cannot reach the Kubernetes API" in down.stderr
    assert "no kubeconfig" in nowhere.stderr


def test_diff_exits_1_when_anything_differs(
    tmp_path: Path, kube: KubeEmulator, master_key: str
) -> None:
    cli = _cli(tmp_path, kube, master_key)
    cli("secret", "set", "tenant-a/odoo", "K=-", stdin=b"one-value")
    cli("k8s", "sync", "tenant-a")
    assert cli("k8s", "diff", "tenant-a").code == 0

    cli("secret", "set", "tenant-a/odoo", "K=-", stdin=b"two-value")
    drifted = cli("k8s", "diff", "tenant-a", "-o", "json", ok=False)

    assert drifted.code == 1
    assert json.loads(drifted.stdout)[0]["changed"] == ["K"]
