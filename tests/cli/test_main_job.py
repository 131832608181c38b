"""The main job and the real inputs from outside the project, via the CLI."""

from __future__ import annotations

import base64
import csv
import json
import stat
import subprocess
from pathlib import Path

from tests.harness import Cli

REPO = Path(__file__).resolve().parents[2]


def test_demo_script_runs_the_main_job(tmp_path: Path) -> None:
    home = tmp_path / "demo-home"
    completed = subprocess.run(
        [str(REPO / "scripts" / "demo")],
        env={"PATH": "/usr/bin:/bin", "PLATXA_SECRETS_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    manifest = home / "demo-odoo.secret.yaml"
    assert stat.S_IMODE(manifest.stat().st_mode) == 0o600
    assert "DB_PASSWORD" in completed.stdout + completed.stderr
    assert stat.S_IMODE((home / "master.key").stat().st_mode) == 0o600
    assert "development master key" in completed.stderr


def test_provision_list_export(store: Cli) -> None:
    store("provision", "tenant-acme", "--set", "db_host=db.internal")
    listed = json.loads(store("secret", "list", "tenant-acme", "-o", "json").out)
    exported = store("export", "tenant-acme/odoo", "-o", "json")
    data = json.loads(exported.out)["data"]

    assert listed[0]["keys"] == [
        "ADMIN_PASSWORD",
        "DB_HOST",
        "DB_NAME",
        "DB_PASSWORD",
        "DB_USER",
    ]
    assert listed[0]["version"] == 1
    assert len(listed[0]["kids"]) == 1
    assert base64.b64decode(data["DB_NAME"]) == b"tenant-acme"
    assert len(base64.b64decode(data["DB_PASSWORD"])) == 32
    assert len(base64.b64decode(data["ADMIN_PASSWORD"])) == 24
    for value in data.values():
        assert base64.b64decode(value).decode() not in store.calls[1].stdout


def test_provision_is_idempotent(store: Cli) -> None:
    store("provision", "tenant-acme", "--set", "db_host=db.internal")
    first = store("secret", "get", "tenant-acme/odoo", "-o", "json").out

    again = json.loads(
        store(
            "provision", "tenant-acme", "--set", "db_host=db.internal", "-o", "json"
        ).out
    )

    assert again["changed"] is False
    assert set(again["kept"]) == {"DB_PASSWORD", "ADMIN_PASSWORD"}
    assert store("secret", "get", "tenant-acme/odoo", "-o", "json").out == first


def test_kubernetes_docs_secrets_round_trip(store: Cli, fixtures_dir: Path) -> None:
    import yaml

    files = sorted((fixtures_dir / "kubernetes-docs").glob("*.yaml"))
    report = json.loads(store("import", *files, "-o", "json").out)

    assert [s["kind"] for s in report["skipped"]] == ["Pod"]
    for path in files:
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") != "Secret":
                continue
            expected = {k: base64.b64decode(v) for k, v in doc.get("data", {}).items()}
            expected |= {k: v.encode() for k, v in doc.get("stringData", {}).items()}
            namespace = doc["metadata"].get("namespace", "default")
            ref = f"{namespace}/{doc['metadata']['name']}"

            exported = yaml.safe_load(store("export", ref).out)

            got = {k: base64.b64decode(v) for k, v in exported["data"].items()}
            assert got == expected, ref
            assert exported["metadata"]["namespace"] == namespace
            assert exported["type"] == doc.get("type", "Opaque")
    assert (
        store("export", "default/dotfile-secret", "-o", "json").stdout.count(
            base64.b64encode(b"value-2\r\n\r\n").decode()
        )
        == 1
    )


def test_reimport_writes_no_new_versions(store: Cli, fixtures_dir: Path) -> None:
    files = sorted((fixtures_dir / "kubernetes-docs").glob("*.yaml"))
    store("import", *files)
    before = store.count()

    second = store("import", *files)

    assert store.count() == before
    assert "unchanged" in second.stderr


def _legacy_args(fixtures_dir: Path, keys_file: Path) -> list[str | Path]:
    legacy = fixtures_dir / "legacy-odoo"
    return [
        "legacy",
        "migrate",
        "--keys-file",
        keys_file,
        "--csv",
        legacy / "instance_credential.csv",
        "--namespace-column",
        "instance",
        "--secret",
        "odoo",
        "--encrypted",
        "DB_PASSWORD=db_password_encrypted",
        "--encrypted",
        "ADMIN_PASSWORD=admin_password_encrypted",
        "--plain",
        "DB_NAME=db_name",
        "--plain",
        "DB_USER=db_user",
    ]


def test_legacy_migration_moves_every_row(store: Cli, fixtures_dir: Path) -> None:
    legacy = fixtures_dir / "legacy-odoo"
    store(*_legacy_args(fixtures_dir, legacy / "legacy_keys.txt"))

    with (legacy / "expected_plaintext.csv").open(encoding="utf-8") as handle:
        expected = list(csv.DictReader(handle))
    assert len(expected) == 40
    for row in expected:
        got = json.loads(
            store("secret", "get", f"{row['instance']}/odoo", "-o", "json").out
        )
        values = {
            k: base64.b64decode(v).decode("utf-8") for k, v in got["data"].items()
        }
        assert values["DB_PASSWORD"] == row["db_password"], row["id"]
        assert values["ADMIN_PASSWORD"] == row["admin_password"], row["id"]
        assert values["DB_NAME"] == f"{row['instance']}-db"


def test_legacy_migration_with_a_wrong_key_writes_nothing(
    store: Cli, fixtures_dir: Path, tmp_path: Path
) -> None:
    keys = (fixtures_dir / "legacy-odoo" / "legacy_keys.txt").read_text().splitlines()
    partial = tmp_path / "only-second-key.txt"
    partial.write_text(keys[1] + "\n")
    partial.chmod(0o600)

    failed = store(*_legacy_args(fixtures_dir, partial), ok=False)

    assert "cannot be migrated; nothing was written" in failed.stderr
    assert "line 2 (id=1)" in failed.stderr
    assert "column db_password_encrypted" in failed.stderr
    assert store.count() == 0
    for key in keys:
        assert key not in failed.stderr
