"""Shared steps of the reliability tests: fill a store, dump it, snapshot it.

Everything here reads the database directly or through the keyring, so
a check does not depend on the code path it is checking.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from platxa_secrets.core.store import value_rows
from platxa_secrets.services.rotation import RotationService
from platxa_secrets.services.runtime import Runtime
from platxa_secrets.services.secrets import (
    SecretService,
    WriteRequest,
    value_context,
)

PXS = Path(sys.executable).with_name("pxs")
Ident = tuple[str, str, int, str]  # namespace, name, version, key
NAMESPACES = ("tenant-a", "tenant-b", "tenant-c", "tenant-d")


@dataclass
class Filled:
    """What `fill` wrote: every live ciphertext's identity and plaintext."""

    values: dict[Ident, bytes]
    secrets: list[tuple[str, str]]
    deleted: set[tuple[str, str, int]]


def fill(runtime: Runtime, rng: random.Random, secrets: int = 300) -> Filled:
    """Write ~5 values per secret over several versions, in few transactions.

    Secret i gets 2 + i % 5 versions; every fourth secret has a second,
    binary key. A few versions are then soft-deleted (their ciphertext
    stays and must be re-encrypted) and a few destroyed (no ciphertext).
    """
    service = SecretService(runtime)
    names = [(NAMESPACES[i % len(NAMESPACES)], f"app-{i:04d}") for i in range(secrets)]
    values: dict[Ident, bytes] = {}
    for round_ in range(6):
        requests = []
        for i, (namespace, name) in enumerate(names):
            if round_ >= 2 + i % 5:
                continue
            data = {"password": f"pw-{i}-{round_}-{rng.random()}".encode()}
            if i % 4 == 0:
                data["blob"] = rng.randbytes(rng.randrange(0, 300))
            requests.append(WriteRequest(namespace, name, data))
        for request, written in zip(requests, service.put_many(requests), strict=True):
            for key, value in request.data.items():
                values[(written.namespace, written.name, written.version, key)] = value

    deleted = set()
    for namespace, name in names[::37]:
        service.delete(namespace, name, [1])
        deleted.add((namespace, name, 1))
    for namespace, name in names[5::41]:
        service.destroy(namespace, name, [1])
        for ident in [k for k in values if k[:3] == (namespace, name, 1)]:
            del values[ident]
    return Filled(values, names, deleted)


def dump(runtime: Runtime) -> dict[Ident, bytes]:
    """Decrypt every stored ciphertext with a freshly loaded keyring.

    Also checks that the `kid` column agrees with the key id that the
    ciphertext itself names: both are written by one statement.
    """
    runtime.forget_keyring()
    keyring = runtime.keyring()
    with runtime.database.read() as tx:
        rows = tx.all(
            "SELECT s.namespace, s.name, v.version, v.key, v.kid, v.ciphertext "
            "FROM secret_values v JOIN secrets s ON s.id = v.secret_id "
            "WHERE v.ciphertext IS NOT NULL"
        )
    out: dict[Ident, bytes] = {}
    for namespace, name, version, key, kid, ciphertext in rows:
        ident = (namespace, name, int(version), key)
        assert ciphertext.startswith(f"pxs1:{kid}:"), f"kid column disagrees: {ident}"
        context = value_context(namespace, name, int(version), key)
        out[ident] = keyring.decrypt(ciphertext, context).value
    return out


def differences(expected: Mapping[Ident, bytes], got: Mapping[Ident, bytes]) -> str:
    """A short description of how two dumps differ, naming no value."""
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    changed = sorted(k for k in set(expected) & set(got) if expected[k] != got[k])
    if not (missing or extra or changed):
        return ""
    return (
        f"{len(missing)} missing {missing[:3]}, {len(extra)} unexpected "
        f"{extra[:3]}, {len(changed)} changed {changed[:3]}"
    )


def census(runtime: Runtime) -> dict[str | None, int]:
    with runtime.database.read() as tx:
        rows = tx.all(
            "SELECT kid, COUNT(*) FROM secret_values WHERE ciphertext IS NOT NULL "
            "GROUP BY kid"
        )
    return {kid: int(count) for kid, count in rows}


def stale_count(runtime: Runtime, active: str) -> int:
    with runtime.database.read() as tx:
        return value_rows.count_stale(tx, active)


def snapshot(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of `data_keys` and `secret_values`, in a stable order."""
    with runtime.database.read() as tx:
        return {
            "data_keys": tx.all("SELECT * FROM data_keys ORDER BY kid"),
            "secret_values": tx.all(
                "SELECT * FROM secret_values ORDER BY secret_id, version, key"
            ),
        }


def key_states(runtime: Runtime) -> dict[str, str]:
    with runtime.database.read() as tx:
        return dict(tx.all("SELECT kid, state FROM data_keys"))


def rotate_now(runtime: Runtime) -> tuple[str, str]:
    """Rotate and activate at once; return (previous active kid, new kid)."""
    runtime.forget_keyring()
    previous = runtime.keyring().active_kid
    assert previous is not None
    rotation = RotationService(runtime)
    record = rotation.rotate(timedelta(0))
    rotation.activate(record.kid)
    runtime.forget_keyring()
    assert runtime.keyring().active_kid == record.kid
    return previous, record.kid


def subprocess_env(
    home: Path, database_url: str, master_key: str, **extra: str
) -> dict[str, str]:
    """The environment of a `pxs` subprocess: nothing but what it needs."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(home.parent),
        "PLATXA_SECRETS_HOME": str(home),
        "PLATXA_SECRETS_DATABASE_URL": database_url,
        "PLATXA_SECRETS_MASTER_KEY": master_key,
        **extra,
    }


def spawn_pxs(env: Mapping[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(PXS), *args],
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def run_pxs(
    env: Mapping[str, str], *args: str, stdin: bytes = b"", timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(PXS), *args],
        env=dict(env),
        input=stdin,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def wait_until_unlocked(runtime: Runtime, timeout: float = 10.0) -> None:
    """On PostgreSQL, wait until no other session holds a lock in our schema.

    A killed client's backend ends its transaction when it notices the
    closed socket; until then `SKIP LOCKED` would pass over its rows.
    """
    if runtime.database.dialect != "postgresql":
        return
    deadline = time.monotonic() + timeout
    while True:
        with runtime.database.read() as tx:
            held = tx.scalar(
                "SELECT COUNT(*) FROM pg_locks l JOIN pg_class c ON c.oid = "
                "l.relation JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND l.pid <> pg_backend_pid()"
            )
        if not held:
            return
        assert time.monotonic() < deadline, f"{held} foreign lock(s) still held"
        time.sleep(0.01)
