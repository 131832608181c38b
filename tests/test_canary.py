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


TOKENS: list[str] = []
PRIVATE_KEY_MARK = b"PRIVATE KEY-----"


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
    allowed |= _run_service_commands(cli, tmp)
    return allowed


def _run_service_commands(cli: Cli, tmp: Path) -> set[int]:
    """Tokens, JWT keys, the audit chain, doctor and scan.

    The token text may be printed once, by the call that creates it;
    every other output is searched for it like for the value.
    """
    allowed: set[int] = set()
    v = "-vv"
    created = cli(v, "token", "create", "--scope", "tenant-*:read", "--expires", "1d")
    TOKENS.append(created.stdout.strip())
    allowed.add(len(cli.calls) - 1)
    token_id = created.stdout.strip().split("_")[1]
    rotated = cli(v, "token", "rotate", token_id, "--grace", "1h")
    TOKENS.append(rotated.stdout.strip())
    allowed.add(len(cli.calls) - 1)
    cli(v, "token", "list", "--all", "-o", "json")
    cli(v, "token", "revoke", token_id)
    cli(v, "token", "create", "--scope", CANARY.decode(), ok=False)
    cli(v, "jwt", "rotate")
    cli(v, "jwt", "keys", "-o", "json")
    cli(v, "jwt", "jwks")
    cli(v, "jwt", "maintain")
    cli(v, "audit", "verify", "-o", "json")
    cli(v, "audit", "export", "--format", "jsonl")
    cli(v, "audit", "export", "--format", "jsonl", "--file", tmp / "audit.jsonl")
    cli(v, "doctor", "--no-cluster", "-o", "json", ok=None)
    leaked = tmp / "leaked"
    leaked.mkdir()
    (leaked / "config.py").write_bytes(
        b"PASSWORD = '" + CANARY + b"'\nTOKEN = '" + TOKENS[0].encode() + b"'\n"
    )
    cli(v, "scan", "--store", leaked, ok=False)
    cli(v, "scan", "--store", leaked, "-o", "json", ok=False)
    return allowed


def _token_leaks(blob: bytes) -> list[bytes]:
    """The token text or its secret part, wherever it shows."""
    parts = [t.encode() for t in TOKENS] + [t.split("_")[2].encode() for t in TOKENS]
    return [part for part in parts if part in blob]


def test_planted_value_appears_only_as_ciphertext(cli: Cli, tmp_path: Path) -> None:
    TOKENS.clear()
    allowed = _run_everything(cli, tmp_path)

    for index, call in enumerate(cli.calls):
        for stream in (call.err, call.out):
            assert PRIVATE_KEY_MARK not in stream, f"call {index} shows a key"
        assert not _leaks(call.err), f"call {index} stderr leaks"
        assert not _token_leaks(call.err), f"call {index} stderr shows a token"
        if index not in allowed:
            assert not _leaks(call.out), f"call {index} stdout leaks"
            assert not _token_leaks(call.out), f"call {index} stdout shows a token"
    assert any(_leaks(cli.calls[i].out) for i in allowed), "the canary was never read"
    assert len(TOKENS) == 2 and all(t.startswith("pxs_") for t in TOKENS)

    db_files = sorted(cli.home.glob("secrets.db*"))
    assert db_files
    exported = tmp_path / "audit.jsonl"
    for path in [*db_files, exported]:
        blob = path.read_bytes()
        assert not _leaks(blob), f"{path.name} holds the value"
        assert not _token_leaks(blob), f"{path.name} holds a token"
        assert PRIVATE_KEY_MARK not in blob, f"{path.name} holds a private key"


def test_the_value_is_really_stored(cli: Cli, tmp_path: Path) -> None:
    """Guards the canary test: the same search finds the value when it is there."""
    TOKENS.clear()
    _run_everything(cli, tmp_path)
    assert _token_leaks(TOKENS[0].encode())
    scanned = cli("scan", "--store", tmp_path / "leaked", ok=False)
    assert "tenant-a/app" in scanned.stdout and "pxs_" in scanned.stdout

    assert _leaks(cli("secret", "get", "tenant-b/imported", "--key", "token").out)
    assert _leaks(cli("secret", "get", "tenant-old/odoo", "--key", "PW").out)
    assert _leaks((tmp_path / "out.yaml").read_bytes())
