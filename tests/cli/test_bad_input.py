"""Bad input through the CLI: a clear error, exit ≠ 0, no traceback, no change."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.harness import Cli

CANARY = "CANARY-bd41-value"


def _assert_clean(result_text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in result_text


GOOD_KEY = Fernet.generate_key().decode()


@pytest.mark.parametrize(
    ("key", "rule"),
    [
        (GOOD_KEY[:-4] + "=", "not valid base64|decodes to"),
        (GOOD_KEY[:30], "decodes to|not valid base64"),
        ("!" + GOOD_KEY[1:], "not url-safe base64"),
        (base64.urlsafe_b64encode(GOOD_KEY.encode()).decode(), "base64-encoded twice"),
        (f'"{GOOD_KEY}"', "quotes"),
        (f"'{GOOD_KEY}'", "quotes"),
        (
            GOOD_KEY.replace("-", "+").replace("_", "/")
            if ("-" in GOOD_KEY or "_" in GOOD_KEY)
            else "+" + GOOD_KEY[1:],
            "standard base64",
        ),
    ],
)
def test_malformed_master_keys(cli: Cli, key: str, rule: str) -> None:
    result = cli("init", env={"PLATXA_SECRETS_MASTER_KEY": key}, ok=False)

    assert "PLATXA_SECRETS_MASTER_KEY entry 1" in result.stderr
    assert pytest.importorskip("re").search(rule, result.stderr), result.stderr
    _assert_clean(result.stderr + result.stdout, key.strip("'\""), GOOD_KEY[:20])
    assert not (cli.home / "secrets.db").exists()


def test_master_key_with_trailing_newline_is_stripped(cli: Cli) -> None:
    cli.env["PLATXA_SECRETS_MASTER_KEY"] = GOOD_KEY + "\n"
    cli("init")
    cli("secret", "set", "tenant-a/odoo", "K=-", stdin=b"v")

    got = cli(
        "secret",
        "get",
        "tenant-a/odoo",
        "--key",
        "K",
        env={"PLATXA_SECRETS_MASTER_KEY": GOOD_KEY},
    )

    assert got.out == b"v"


def test_key_file_readable_by_others_is_refused(cli: Cli, tmp_path: Path) -> None:
    key_file = tmp_path / "master.key"
    key_file.write_text(GOOD_KEY + "\n")
    key_file.chmod(0o644)
    env = {
        "PLATXA_SECRETS_MASTER_KEY": "",
        "PLATXA_SECRETS_MASTER_KEY_FILE": str(key_file),
    }

    refused = cli("init", env=env, ok=False)
    key_file.chmod(0o600)
    cli("init", env=env)

    assert "chmod 600" in refused.stderr
    assert "0644" in refused.stderr
    _assert_clean(refused.stderr, GOOD_KEY)


def test_production_mode_needs_a_master_key(cli: Cli) -> None:
    result = cli(
        "init",
        env={"PLATXA_SECRETS_MASTER_KEY": "", "PLATXA_SECRETS_ENV": "production"},
        ok=False,
    )

    assert "production" in result.stderr
    assert not (cli.home / "master.key").exists()


def test_values_on_the_command_line_are_refused(store: Cli) -> None:
    result = store("secret", "set", "tenant-a/odoo", f"DB_PASSWORD={CANARY}", ok=False)
    bare = store("secret", "set", "tenant-a/odoo", CANARY, ok=False)

    assert "KEY=@FILE" in result.stderr
    assert "visible to every user" in result.stderr
    _assert_clean(result.stderr + bare.stderr, CANARY)
    assert store.count() == 0


def test_secret_template_parameter_from_argv_is_refused(
    store: Cli, tmp_path: Path
) -> None:
    template = tmp_path / "t.yaml"
    template.write_text(
        "name: smtp\nparameters:\n  smtp_password: {secret: true}\n"
        "keys:\n  SMTP_PASSWORD: {param: smtp_password}\n"
    )

    result = store(
        "provision",
        "tenant-a",
        "-t",
        template,
        "--set",
        f"smtp_password={CANARY}",
        ok=False,
    )

    assert "is secret" in result.stderr
    _assert_clean(result.stderr, CANARY)
    assert store.count() == 0


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["secret", "set", "Tenant_A/odoo", "K=-"], "namespace"),
        (["secret", "set", "tenant-a/Odoo!", "K=-"], "name"),
        (["secret", "set", "tenant-a/odoo", "bad key=-"], "key"),
        (["secret", "set", "tenant-a", "K=-"], "NAMESPACE/NAME"),
        (["secret", "set", "tenant-a/odoo", "K=-", "--type", "a b"], "type"),
    ],
)
def test_invalid_names_and_keys(store: Cli, args: list[str], field: str) -> None:
    result = store(*args, stdin=CANARY.encode(), ok=False)

    assert field in result.stderr
    _assert_clean(result.stderr, CANARY)
    assert store.count() == 0


def test_oversize_secret(store: Cli, tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"x" * (1024 * 1024 + 1))

    result = store("secret", "set", "tenant-a/odoo", f"K=@{big}", ok=False)

    assert "1 MiB" in result.stderr
    assert store.count() == 0


@pytest.mark.parametrize(
    ("manifest", "rule"),
    [
        (
            '{apiVersion: v1, kind: Secret, metadata: {name: s}, data: {k: "%s!"}}',
            "base64",
        ),
        (
            "{apiVersion: v1, kind: Secret, metadata: {name: s}, "
            "stringData: {k: \"b'%s'\"}}",
            "bytes",
        ),
        (
            "{apiVersion: v1, kind: Secret, metadata: {name: S_x}, "
            'stringData: {k: "%s"}}',
            "metadata.name",
        ),
        (
            '{apiVersion: v1, kind: Secret, metadata: {name: s}, stringData: {k: "%s"',
            "line",
        ),
    ],
)
def test_bad_manifests_import_nothing(
    store: Cli, tmp_path: Path, manifest: str, rule: str
) -> None:
    good = tmp_path / "a-good.yaml"
    good.write_text(
        '{apiVersion: v1, kind: Secret, metadata: {name: ok}, stringData: {k: "v"}}'
    )
    bad = tmp_path / "b-bad.yaml"
    bad.write_text(manifest % CANARY.replace("-", ""))

    result = store("import", good, bad, ok=False)

    assert rule in result.stderr
    assert "b-bad.yaml" in result.stderr
    _assert_clean(result.stderr, CANARY.replace("-", ""))
    assert store.count() == 0


def test_cas_mismatch_and_missing_things(store: Cli) -> None:
    store("secret", "set", "tenant-a/odoo", "K=-", stdin=b"v1")

    cas = store(
        "secret", "set", "tenant-a/odoo", "K=-", "--cas", "7", stdin=b"v2", ok=False
    )
    missing = store("secret", "get", "tenant-a/nope", ok=False)
    version = store("secret", "get", "tenant-a/odoo", "--version", "9", ok=False)

    assert cas.code == 4 and "expected newest version 7, found 1" in cas.stderr
    assert missing.code == 3 and "tenant-a/nope does not exist" in missing.stderr
    assert version.code == 3 and "version 9 of tenant-a/odoo" in version.stderr
    assert store.count() == 1


def test_damaged_and_foreign_ciphertext(store: Cli) -> None:
    import sqlite3

    store("secret", "set", "tenant-a/odoo", "K=-", stdin=CANARY.encode())
    foreign = Fernet(Fernet.generate_key()).encrypt(CANARY.encode()).decode()
    with sqlite3.connect(store.home / "secrets.db") as conn:
        original = conn.execute("SELECT ciphertext FROM secret_values").fetchone()[0]
        kid = original.split(":")[1]
        conn.execute(
            "UPDATE secret_values SET ciphertext = ?", (f"pxs1:{kid}:{foreign}",)
        )

    result = store("secret", "get", "tenant-a/odoo", ok=False)

    assert result.code == 5
    assert "fails authentication" in result.stderr
    _assert_clean(result.stderr, CANARY, foreign[:30], original[10:40])


def test_store_not_initialised(cli: Cli) -> None:
    result = cli("secret", "list", ok=False)

    assert "pxs init" in result.stderr
    assert not (cli.home / "secrets.db").exists()


def test_json_output_of_get_is_exact_for_binary(store: Cli, tmp_path: Path) -> None:
    blob = tmp_path / "blob"
    blob.write_bytes(bytes(range(256)))
    store("secret", "set", "tenant-a/bin", f"blob=@{blob}")

    doc = json.loads(store("secret", "get", "tenant-a/bin", "-o", "json").out)
    raw = store("secret", "get", "tenant-a/bin", "--key", "blob").out
    env = store("secret", "get", "tenant-a/bin", "-o", "env", ok=False)

    assert set(doc) == {"namespace", "name", "type", "version", "data"}
    assert base64.b64decode(doc["data"]["blob"]) == bytes(range(256))
    assert raw == bytes(range(256))
    assert "binary" in env.stderr


def test_a_pasted_base64_value_is_not_echoed(store: Cli) -> None:
    pasted = "U3VwZXJTZWNyZXRQYXNzd29yZDEyMw=="

    result = store("secret", "set", "tenant-a/odoo", pasted, ok=False)

    assert pasted.rstrip("=") not in result.stderr
    assert "key argument 1" in result.stderr


def test_init_with_the_wrong_master_key_fails(store: Cli) -> None:
    other = Fernet.generate_key().decode()

    result = store("init", env={"PLATXA_SECRETS_MASTER_KEY": other}, ok=False)

    assert "not among the configured master keys" in result.stderr
    _assert_clean(result.stderr, other)


def test_only_init_creates_the_development_key(cli: Cli) -> None:
    result = cli("secret", "list", env={"PLATXA_SECRETS_MASTER_KEY": ""}, ok=False)

    assert "run `pxs init`" in result.stderr
    assert not (cli.home / "master.key").exists()


def test_file_outputs_never_replace_special_files(store: Cli, tmp_path: Path) -> None:
    store("secret", "set", "tenant-a/odoo", "K=-", stdin=b"v")
    link = tmp_path / "link.yaml"
    link.symlink_to(tmp_path / "elsewhere.yaml")
    key_file = tmp_path / "master.key"
    key_file.write_text("existing\n")

    refused = store("export", "tenant-a/odoo", "--file", link, ok=False)
    empty = store("export", "tenant-a/odoo", "--file", "", ok=False)
    kept = store("generate", "fernet-key", "--file", key_file, ok=False)

    assert "not a regular file" in refused.stderr
    assert "file" in empty.stderr
    assert "already exists" in kept.stderr
    assert key_file.read_text() == "existing\n"
    assert not (tmp_path / "elsewhere.yaml").exists()


def test_yaml_aliases_are_refused(store: Cli, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("&doc {apiVersion: v1, kind: List, items: [*doc]}")

    result = store("import", bomb, ok=False)

    assert "aliases are not accepted" in result.stderr


def test_env_file_lines_end_only_at_newlines(store: Cli, tmp_path: Path) -> None:
    env_file = tmp_path / "app.env"
    env_file.write_bytes(b"A=1\x1cB=2\r\nC=3\n")

    store("secret", "set", "tenant-a/env", "--from-env-file", env_file)
    doc = json.loads(store("secret", "get", "tenant-a/env", "-o", "json").out)

    assert {k: base64.b64decode(v) for k, v in doc["data"].items()} == {
        "A": b"1\x1cB=2",
        "C": b"3",
    }
