"""`pxs jwt …` run as a user would: the real console script, a real store."""

from __future__ import annotations

import json
import sqlite3

from tests.harness import Cli

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


def keys(store: Cli) -> list[dict[str, str]]:
    listed = json.loads(store("jwt", "keys", "-o", "json").stdout)
    assert isinstance(listed, list)
    return listed


def test_rotate_creates_a_signing_key_then_a_pending_one(store: Cli) -> None:
    first = json.loads(store("jwt", "rotate", "-o", "json").stdout)
    second = store("jwt", "rotate", "--alg", "EdDSA")

    assert first["state"] == "signing"
    assert first["alg"] == "RS256"
    assert "is published and signs from" in second.stderr
    listed = keys(store)
    assert [k["state"] for k in listed] == ["signing", "pending"]
    assert [k["alg"] for k in listed] == ["RS256", "EdDSA"]
    assert listed[0]["kid"] == first["kid"]
    assert listed[1]["kid"] in second.stderr


def test_a_rotation_while_a_key_is_pending_is_refused(store: Cli) -> None:
    store("jwt", "rotate")
    pending = json.loads(store("jwt", "rotate", "-o", "json").stdout)

    refused = store("jwt", "rotate", ok=False)

    assert refused.code == 4
    assert refused.stderr.startswith("pxs: error: JWT key ")
    assert pending["kid"] in refused.stderr
    assert len(keys(store)) == 2


def test_keys_table_names_the_schedule(store: Cli) -> None:
    store("jwt", "rotate")

    table = store("jwt", "keys").stdout.splitlines()

    assert table[0].split("\t") == [
        "KID",
        "ALG",
        "STATE",
        "CREATED",
        "SIGNS FROM",
        "RETIRED",
        "UNPUBLISH AT",
    ]
    assert table[1].split("\t")[1:3] == ["RS256", "signing"]


def test_jwks_prints_public_keys_only(store: Cli) -> None:
    assert json.loads(store("jwt", "jwks").stdout) == {"keys": []}
    store("jwt", "rotate")
    store("jwt", "rotate", "--alg", "EdDSA")

    published = json.loads(store("jwt", "jwks").stdout)["keys"]

    assert [k["kty"] for k in published] == ["RSA", "OKP"]
    assert all(k["use"] == "sig" for k in published)
    assert all(not PRIVATE_MEMBERS & set(k) for k in published)
    with sqlite3.connect(store.home / "secrets.db") as conn:
        stored = [row[0] for row in conn.execute("SELECT public_jwk FROM jwt_keys")]
    assert all("PRIVATE" not in text and '"d"' not in text for text in stored)


def test_maintain_is_idempotent_and_nothing_prints_key_material(store: Cli) -> None:
    store("jwt", "rotate")

    first = json.loads(store("-vv", "jwt", "maintain", "-o", "json").stdout)
    again = store("jwt", "maintain")
    store("-vv", "jwt", "keys")
    store("-vv", "jwt", "jwks")

    assert first == {"retired": [], "destroyed": []}
    assert again.stderr.strip() == "retired: none; destroyed: none"
    for call in store.calls:
        assert "PRIVATE KEY" not in call.stdout + call.stderr
        assert '"d":' not in call.stdout


def test_an_unknown_algorithm_is_refused_before_anything_is_stored(
    store: Cli,
) -> None:
    refused = store("jwt", "rotate", "--alg", "HS256", ok=False)

    assert refused.code == 2
    assert "HS256" in refused.stderr
    assert keys(store) == []


def test_jwt_commands_need_an_initialised_store(cli: Cli) -> None:
    refused = cli("jwt", "keys", ok=False)

    assert "pxs init" in refused.stderr
