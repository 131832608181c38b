"""`pxs token …` run as a user would: a real subprocess on a real store."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest
from cryptography.fernet import Fernet

from platxa_secrets.core.config import load_config
from platxa_secrets.core.scopes import Principal
from platxa_secrets.core.token_format import PATTERN, is_token, parse_token
from platxa_secrets.services.runtime import Runtime
from platxa_secrets.services.tokens import TokenService
from tests.harness import Cli


@pytest.fixture(scope="module")
def untouched(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """One initialised store for the refusals, which must leave it empty."""
    root = tmp_path_factory.mktemp("token-refusals")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PLATXA_SECRETS_HOME": str(root / "pxs-home"),
        "PLATXA_SECRETS_MASTER_KEY": Fernet.generate_key().decode(),
        "HOME": str(root),
    }
    cli = Cli(root / "pxs-home", env)
    cli("init")
    return cli


def authenticate(cli: Cli, text: str) -> Principal:
    runtime = Runtime(load_config(env=cli.env))
    try:
        return TokenService(runtime).authenticate(text)
    finally:
        runtime.close()


def listed(cli: Cli, *flags: str) -> dict[str, dict[str, object]]:
    result = cli("token", "list", "-o", "json", *flags)
    return {entry["id"]: entry for entry in json.loads(result.stdout)}


def assert_no_token_outside_stdout_of(cli: Cli, *allowed: int) -> None:
    """No call printed a token, except on stdout of the calls `allowed`."""
    for index, call in enumerate(cli.calls):
        assert PATTERN.search(call.stderr) is None, call.stderr
        if index not in allowed:
            assert PATTERN.search(call.stdout) is None, call.stdout


def test_create_prints_the_token_once_and_list_never_shows_it(store: Cli) -> None:
    created = store(
        "token", "create", "--scope", "tenant-*:read", "--scope", "jwt:sign",
        "--expires", "30d", "--name", "deploy bot",
    )  # fmt: skip

    text = created.stdout.strip()
    assert created.stdout == text + "\n"
    assert is_token(text)
    token_id = parse_token(text).id
    assert "only this once" in created.stderr
    assert token_id in created.stderr
    assert authenticate(store, text).name == "deploy bot"

    table = store("token", "list")
    assert token_id in table.stdout
    assert "deploy bot" in table.stdout
    assert "tenant-*:read jwt:sign" in table.stdout
    assert "active" in table.stdout

    entry = listed(store)[token_id]
    assert entry["state"] == "active"
    assert entry["scopes"] == ["tenant-*:read", "jwt:sign"]
    assert entry["expires_at"] is not None
    assert entry["last_used_at"] is not None
    assert "secret" not in json.dumps(entry)
    assert_no_token_outside_stdout_of(store, 1)


def test_without_name_or_expiry_the_token_is_named_by_its_scopes(store: Cli) -> None:
    text = store("token", "create", "--scope", "tenant-a:write").stdout.strip()
    forever = store("token", "create", "--scope", "a:read", "--expires", "never")

    entries = listed(store)
    entry = entries[parse_token(text).id]

    assert entry["name"] == "tenant-a:write"
    assert entry["expires_at"] is not None  # 90 days by default
    assert "expires never" not in store.calls[1].stderr
    assert entries[parse_token(forever.stdout.strip()).id]["expires_at"] is None
    assert "expires never" in forever.stderr


def test_the_reserved_namespace_is_refused_as_a_scope(store: Cli) -> None:
    refused = store("token", "create", "--scope", "platxa-system:read", ok=False)

    assert refused.code == 2
    assert "reserved namespace platxa-system" in refused.stderr


def test_revoke_then_list_all(store: Cli) -> None:
    text = store("token", "create", "--scope", "a:read").stdout.strip()
    token_id = parse_token(text).id

    revoked = store("token", "revoke", token_id)
    assert f"token {token_id}" in revoked.stderr
    assert token_id not in listed(store)
    assert listed(store, "--all")[token_id]["state"] == "revoked"

    again = store("token", "revoke", token_id, ok=False)
    assert again.code == 4
    assert "already revoked" in again.stderr
    with pytest.raises(Exception, match="invalid token"):
        authenticate(store, text)


def test_rotate_prints_a_new_token_and_both_work_during_the_grace(
    store: Cli,
) -> None:
    old = store("token", "create", "--scope", "webhook:alertmanager").stdout.strip()
    old_id = parse_token(old).id

    rotated = store("token", "rotate", old_id, "--grace", "2h")

    new = rotated.stdout.strip()
    assert rotated.stdout == new + "\n"
    assert is_token(new) and new != old
    new_id = parse_token(new).id
    assert f"token {new_id} replaces {old_id}" in rotated.stderr
    assert authenticate(store, old).token_id == old_id
    assert authenticate(store, new).token_id == new_id
    entries = listed(store)
    assert entries[new_id]["rotated_from"] == old_id
    assert entries[new_id]["name"] == entries[old_id]["name"]
    assert str(entries[old_id]["expires_at"]) in rotated.stderr
    assert_no_token_outside_stdout_of(store, 1, 2)


@pytest.mark.parametrize(
    ("args", "words", "code"),
    [
        (("create",), "--scope", 2),
        (("create", "--scope", "tenant-a"), "scope 'tenant-a' must look like", 2),
        (("create", "--scope", "a:own"), "the levels are read, write and admin", 2),
        (("create", "--scope", "a:read", "--expires", "3x"), "--expires '3x'", 2),
        (("create", "--scope", "a:read", "--expires", "0"), "must be positive", 2),
        (("create", "--scope", "a:read", "--expires", "3651d"), "10 years", 2),
        (("create", "--scope", "a:read", "--name", ""), "token name", 2),
        (("revoke", "abcdefabcdef"), "no API token with id abcdefabcdef", 3),
        (("rotate", "abcdefabcdef"), "no API token with id abcdefabcdef", 3),
        (("revoke", "NOT-AN-ID"), "token id must be 12", 2),
        (("rotate", "abcdefabcdef", "--grace", "soon"), "--grace 'soon'", 2),
    ],
)
def test_bad_input_fails_with_a_message_naming_the_field(
    untouched: Cli, args: tuple[str, ...], words: str, code: int
) -> None:
    failed = untouched("token", *args, ok=False)

    assert failed.code == code
    assert words in failed.stderr
    assert failed.stdout == ""
    with sqlite3.connect(untouched.home / "secrets.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM api_tokens").fetchone() == (0,)


def test_a_whole_token_given_as_an_id_is_not_echoed(store: Cli) -> None:
    text = store("token", "create", "--scope", "a:read").stdout.strip()

    failed = store("token", "revoke", text, ok=False)

    assert failed.code == 2
    assert "whole token" in failed.stderr
    assert text not in failed.stderr
    assert parse_token(text).secret not in failed.stderr
    assert listed(store)[parse_token(text).id]["state"] == "active"


def test_no_token_command_takes_a_token_option() -> None:
    from click import Group

    from platxa_secrets.cli.token import token

    assert isinstance(token, Group)
    for command in token.commands.values():
        for param in command.params:
            assert "token" not in (param.name or "").replace("token_id", "")
            assert param.name != "secret"
