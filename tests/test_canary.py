"""The canary: a planted value appears nowhere but in its ciphertext.

Every command runs against one store — successes and failures, with
verbose logging — and then every output, every log line, every audit
event and every byte of the database files is searched for the value in
plain text, base64 and hex. Only `secret get` and `export`, whose job is
to print the value, may show it on stdout.
"""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.fernet import Fernet

from tests.harness import Cli

CANARY = b"CANARY-9c3b27-planted-value"
# Values of this shape trigger base64 padding differences; check each offset.
FORMS = [
    CANARY,
    CANARY.hex().encode(),
    *(base64.b64encode(CANARY[i:])[:24] for i in range(3)),
    *(base64.urlsafe_b64encode(CANARY[i:])[:24] for i in range(3)),
]


def _leaks(blob: bytes) -> list[bytes]:
    return [form for form in FORMS if form in blob]


def _run_everything(cli: Cli, tmp: Path) -> set[int]:
    """Run every command; return the indexes of calls allowed to print it."""
    value_file = tmp / "value"
    value_file.write_bytes(CANARY)
    env_file = tmp / "app.env"
    env_file.write_bytes(b"FROM_ENV=" + CANARY + b"\n")
    manifest = tmp / "secret.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: imported}\n"
        f"data: {{token: {base64.b64encode(CANARY).decode()}}}\n"
    )
    broken = tmp / "broken.yaml"
    broken.write_text(f"{{apiVersion: v1, kind: Secret, data: {{k: {CANARY.decode()}!!")
    legacy_key = Fernet.generate_key()
    legacy_csv = tmp / "old.csv"
    token = Fernet(legacy_key).encrypt(CANARY).decode()
    legacy_csv.write_text(f"id,instance,pw\n1,tenant-old,{token}\n")
    keys_file = tmp / "old-keys.txt"
    keys_file.write_bytes(legacy_key + b"\n")
    keys_file.chmod(0o600)

    allowed: set[int] = set()
    v = "-vv"
    cli(v, "init")
    cli(v, "secret", "set", "tenant-a/app", f"A=@{value_file}")
    cli(v, "secret", "set", "tenant-a/app", "B=-", stdin=CANARY)
    cli(v, "secret", "set", "tenant-a/app", "--from-env-file", env_file)
    cli(v, "secret", "set", "tenant-a/app", f"A={CANARY.decode()}", ok=False)
    cli(v, "secret", "set", "tenant-a/app", "C=-", "--cas", "1", stdin=CANARY, ok=False)
    cli(v, "secret", "set", "Bad_NS/app", "C=-", stdin=CANARY, ok=False)
    for output in ("json", "yaml", "env"):
        cli(v, "secret", "get", "tenant-a/app", "-o", output)
        allowed.add(len(cli.calls) - 1)
    cli(v, "secret", "get", "tenant-a/app", "--key", "A")
    allowed.add(len(cli.calls) - 1)
    cli(v, "export", "tenant-a/app")
    allowed.add(len(cli.calls) - 1)
    cli(v, "export", "tenant-a/app", "--file", tmp / "out.yaml")
    cli(v, "secret", "list")
    cli(v, "secret", "list", "-o", "json")
    cli(v, "secret", "history", "tenant-a/app", "-o", "json")
    cli(v, "secret", "delete", "tenant-a/app", "--version", "1")
    cli(v, "secret", "undelete", "tenant-a/app", "--version", "1")
    cli(v, "secret", "destroy", "tenant-a/app", "--version", "1")
    cli(v, "secret", "get", "tenant-a/app", "--version", "1", ok=False)
    cli(v, "import", manifest, "-n", "tenant-b")
    cli(v, "import", broken, ok=False)
    cli(v, "provision", "tenant-c", "--set", "db_host=db")
    cli(
        v,
        "legacy",
        "migrate",
        "--keys-file",
        keys_file,
        "--csv",
        legacy_csv,
        "--namespace-column",
        "instance",
        "--secret",
        "odoo",
        "--encrypted",
        "PW=pw",
    )
    cli(v, "keys", "import-legacy", "--keys-file", keys_file)
    cli(v, "keys", "list", "-o", "json")
    cli(v, "audit", "list", "-o", "json")
    cli(v, "audit", "list")
    return allowed


def test_planted_value_appears_only_as_ciphertext(cli: Cli, tmp_path: Path) -> None:
    allowed = _run_everything(cli, tmp_path)

    for index, call in enumerate(cli.calls):
        assert not _leaks(call.err), f"call {index} stderr leaks"
        if index not in allowed:
            assert not _leaks(call.out), f"call {index} stdout leaks"
    assert any(_leaks(cli.calls[i].out) for i in allowed), "the canary was never read"

    db_files = sorted(cli.home.glob("secrets.db*"))
    assert db_files
    for path in db_files:
        assert not _leaks(path.read_bytes()), f"{path.name} holds the value"


def test_the_value_is_really_stored(cli: Cli, tmp_path: Path) -> None:
    """Guards the canary test: the same search finds the value when it is there."""
    _run_everything(cli, tmp_path)

    assert _leaks(cli("secret", "get", "tenant-b/imported", "--key", "token").out)
    assert _leaks(cli("secret", "get", "tenant-old/odoo", "--key", "PW").out)
    assert _leaks((tmp_path / "out.yaml").read_bytes())
