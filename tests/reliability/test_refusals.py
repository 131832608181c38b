"""Key lifecycle refusals: each one clear, and each one changes nothing.

DESIGN §4: exactly one active key; only a pending key is activated; only
a retired key no ciphertext uses is destroyed, unless the operator names
it for crypto-shredding. Every refusal below is checked three ways: the
error's family, a message that names the key and the rule, and a
snapshot of `data_keys` and `secret_values` that is identical before
and after. Races are forced, not hoped for: two runtimes on two threads
meet at a barrier inside their transactions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.fernet import Fernet

from platxa_secrets.core.config import Config
from platxa_secrets.core.crypto.keyring import (
    ACTIVE,
    DESTROYED,
    ORIGIN_GENERATED,
    PENDING,
    RETIRED,
    KeyRecord,
)
from platxa_secrets.core.store import key_rows
from platxa_secrets.core.store.db import Database, Tx
from platxa_secrets.errors import (
    ConflictError,
    CryptoError,
    NotFoundError,
    PlatxaSecretsError,
    StoreError,
)
from platxa_secrets.services import rotation as rotation_module
from platxa_secrets.services.reencrypt import reencrypt
from platxa_secrets.services.rotation import RotationService
from platxa_secrets.services.runtime import Runtime
from platxa_secrets.services.secrets import SecretService
from tests.reliability.helpers import (
    census,
    key_states,
    rotate_now,
    run_pxs,
    snapshot,
)

NS = "tenant-keys"
BARRIER_WAIT = 1.0


@dataclass
class Keys:
    """A store with a key in each state that can be refused something."""

    runtime: Runtime
    destroyed: str
    retired: str  # still encrypts the two versions of NS/old
    active: str  # encrypts NS/new


@pytest.fixture
def keys(runtime: Runtime) -> Keys:
    first = runtime.keyring().active_kid
    assert first is not None
    _first, second = rotate_now(runtime)
    RotationService(runtime).destroy(first)  # retired and unused

    service = SecretService(runtime)
    service.put(NS, "old", {"a": b"old-1", "b": b"old-2"})
    service.put(NS, "old", {"a": b"old-3"})
    _second, third = rotate_now(runtime)
    service.put(NS, "new", {"a": b"new-1"})

    states = key_states(runtime)
    assert states == {first: DESTROYED, second: RETIRED, third: ACTIVE}
    assert census(runtime) == {second: 4, third: 1}
    return Keys(runtime, first, second, third)


@pytest.fixture
def unchanged(keys: Keys) -> Iterator[None]:
    """Fail the test if data_keys or secret_values changed at all."""
    before = snapshot(keys.runtime)
    yield
    assert snapshot(keys.runtime) == before


def _refused(
    call: Callable[[], object], family: type[PlatxaSecretsError], *phrases: str
) -> PlatxaSecretsError:
    with pytest.raises(family) as caught:
        call()
    for phrase in phrases:
        assert phrase in caught.value.message, caught.value.message
    return caught.value


# -- destroy --------------------------------------------------------------


@pytest.mark.usefixtures("unchanged")
def test_destroying_a_key_in_use_is_refused(keys: Keys) -> None:
    error = _refused(
        lambda: RotationService(keys.runtime).destroy(keys.retired),
        ConflictError,
        f"key {keys.retired} still encrypts 4 ciphertext(s)",
        "pxs keys reencrypt",
        f"--shred {keys.retired}",
    )
    assert error.kid == keys.retired


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("shred", [False, True])
def test_destroying_the_active_key_is_refused(keys: Keys, shred: bool) -> None:
    _refused(
        lambda: RotationService(keys.runtime).destroy(keys.active, shred=shred),
        ConflictError,
        f"key {keys.active} is active",
        "only a retired key can be destroyed",
    )


@pytest.mark.usefixtures("unchanged")
def test_destroying_a_destroyed_or_unknown_key_is_refused(keys: Keys) -> None:
    rotation = RotationService(keys.runtime)
    _refused(
        lambda: rotation.destroy(keys.destroyed, shred=True),
        ConflictError,
        f"key {keys.destroyed} is already destroyed",
    )
    _refused(lambda: rotation.destroy("0badc0de"), NotFoundError, "'0badc0de'")


def test_destroying_a_pending_key_is_refused(keys: Keys) -> None:
    pending = RotationService(keys.runtime).rotate().kid
    before = snapshot(keys.runtime)
    _refused(
        lambda: RotationService(keys.runtime).destroy(pending, shred=True),
        ConflictError,
        f"key {pending} is pending",
    )
    assert snapshot(keys.runtime) == before


# -- activate -------------------------------------------------------------


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("which", ["destroyed", "retired", "active"])
def test_activating_a_key_that_is_not_pending_is_refused(
    keys: Keys, which: str
) -> None:
    kid = getattr(keys, which)
    _refused(
        lambda: RotationService(keys.runtime).activate(kid),
        ConflictError,
        f"key {kid} is {which}",
        "only a pending key can be activated",
    )


@pytest.mark.usefixtures("unchanged")
def test_activating_an_unknown_key_is_refused(keys: Keys) -> None:
    _refused(
        lambda: RotationService(keys.runtime).activate("feedf00d"),
        NotFoundError,
        "no data key with id 'feedf00d'",
    )


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE data_keys SET state = 'active' WHERE kid = ?",
        "INSERT INTO data_keys (kid, state, origin, master_kid, wrapped_key, "
        "created_at, created_by) SELECT 'ffff0000', 'active', origin, master_kid, "
        "wrapped_key, created_at, created_by FROM data_keys WHERE kid = ?",
    ],
    ids=["update", "insert"],
)
def test_the_database_refuses_a_second_active_key(
    keys: Keys, rel_config: Config, statement: str
) -> None:
    """Whatever the code does, the unique index keeps one active key."""
    database = Database(rel_config.database_url)
    connection = database.connect()
    cursor = connection.cursor()
    try:
        if database.dialect == "sqlite":
            cursor.execute("BEGIN")
        with pytest.raises(Exception) as caught:
            Tx(cursor, database.dialect).execute(statement, (keys.retired,))
        connection.rollback()
    finally:
        database.close()
    assert type(caught.value).__name__ in ("IntegrityError", "UniqueViolation")
    assert "uq_data_keys_one_active" in str(caught.value) or (
        "UNIQUE constraint failed: data_keys.state" in str(caught.value)
    )


# -- races, forced with a barrier -----------------------------------------


class Meeting:
    """Make two threads meet inside their transactions before they write.

    Wraps one function of `key_rows` as the rotation service sees it: on
    its first call in each thread, the thread waits for the other one.
    Where the database serialises writers (SQLite's write lock) the
    other thread cannot arrive; the wait then times out and both go on
    one after the other.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, function: str) -> None:
        self.barrier = threading.Barrier(2)
        self.met = False
        local = threading.local()
        original = getattr(key_rows, function)

        def waiting(*args: Any, **kwargs: Any) -> Any:
            if not getattr(local, "waited", False):
                local.waited = True
                try:
                    self.barrier.wait(BARRIER_WAIT)
                    self.met = True
                except threading.BrokenBarrierError:
                    pass
            return original(*args, **kwargs)

        proxy = SimpleNamespace(
            **{name: getattr(key_rows, name) for name in dir(key_rows)}
        )
        setattr(proxy, function, waiting)
        monkeypatch.setattr(rotation_module, "key_rows", proxy)


def _race(
    config: Config, *calls: Callable[[Runtime], object]
) -> list[object | BaseException]:
    """Run each call on its own thread with its own runtime; collect results."""
    results: list[object | BaseException] = [None] * len(calls)

    def run(index: int) -> None:
        runtime = Runtime(config, actor=f"test:racer-{index}")
        try:
            results[index] = calls[index](runtime)
        except BaseException as exc:
            results[index] = exc
        finally:
            runtime.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()
    return results


def _met_where_possible(runtime: Runtime, meeting: Meeting) -> None:
    """On PostgreSQL both transactions must really have been open at once."""
    if runtime.database.dialect == "postgresql":
        assert meeting.met, "the race was not forced"


def _insert_pending(runtime: Runtime) -> str:
    """A second pending key, as a racing rotation could leave behind."""
    master_kid, wrapped = runtime.master_keys.wrap(Fernet.generate_key())
    record = KeyRecord(
        kid=Fernet.generate_key().hex()[:8],
        state=PENDING,
        origin=ORIGIN_GENERATED,
        master_kid=master_kid,
        wrapped_key=wrapped,
        created_at=runtime.now(),
        created_by="test",
        activates_at=runtime.now(),
    )
    runtime.database.write(lambda tx: key_rows.insert_key(tx, record))
    return record.kid


def test_two_concurrent_activations_of_one_key(
    keys: Keys, rel_config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    pending = RotationService(keys.runtime).rotate(timedelta(0)).kid
    meeting = Meeting(monkeypatch, "update_key")

    results = _race(
        rel_config,
        lambda rt: RotationService(rt).activate(pending),
        lambda rt: RotationService(rt).activate(pending),
    )

    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 1, results
    assert isinstance(failures[0], ConflictError), failures
    _met_where_possible(keys.runtime, meeting)
    states = key_states(keys.runtime)
    assert states[pending] == ACTIVE
    assert states[keys.active] == RETIRED
    assert list(states.values()).count(ACTIVE) == 1


def test_a_second_pending_key_is_refused_by_the_database(keys: Keys) -> None:
    """Two racing rotations cannot both leave a pending key: the unique index
    on pending keys refuses the second, whatever the code above it does."""
    RotationService(keys.runtime).rotate()
    before = snapshot(keys.runtime)

    with pytest.raises(StoreError, match="failed a write"):
        _insert_pending(keys.runtime)

    assert snapshot(keys.runtime) == before


# -- rotate ---------------------------------------------------------------


def test_rotating_while_a_rotation_is_pending_is_refused(keys: Keys) -> None:
    pending = RotationService(keys.runtime).rotate().kid
    before = snapshot(keys.runtime)

    error = _refused(
        lambda: RotationService(keys.runtime).rotate(timedelta(0)),
        ConflictError,
        f"key {pending} is still pending",
        "pxs keys maintain",
    )

    assert error.kid == pending
    assert snapshot(keys.runtime) == before


def test_two_concurrent_rotations_leave_one_pending_key(
    keys: Keys,
    rel_config: Config,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    """Two `pxs keys rotate` at once: one wins, the other is refused."""
    meeting = Meeting(monkeypatch, "insert_key")

    results = _race(
        rel_config,
        lambda rt: RotationService(rt).rotate().kid,
        lambda rt: RotationService(rt).rotate().kid,
    )
    _met_where_possible(keys.runtime, meeting)

    states = key_states(keys.runtime)
    pending = [kid for kid, state in states.items() if state == PENDING]
    assert len(pending) == 1, f"{pending} (threads met: {meeting.met})"
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 1 and isinstance(failures[0], ConflictError), results


# -- the command line -----------------------------------------------------


@pytest.mark.usefixtures("unchanged")
def test_cli_refuses_a_shred_that_names_another_key(
    keys: Keys, env: dict[str, str]
) -> None:
    done = run_pxs(env, "keys", "destroy", keys.retired, "--shred", keys.active)

    assert done.returncode == 2, done.stderr
    assert done.stderr.decode().strip() == (
        "pxs: error: --shred must repeat the key id being destroyed"
    )


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("args", "code", "phrase"),
    [
        (("destroy", "{retired}"), 4, "key {retired} still encrypts 4 ciphertext(s)"),
        (("destroy", "{active}", "--shred", "{active}"), 4, "key {active} is active"),
        (("activate", "{destroyed}"), 4, "key {destroyed} is destroyed"),
        (("activate", "{retired}"), 4, "key {retired} is retired"),
    ],
    ids=["in-use", "shred-active", "activate-destroyed", "activate-retired"],
)
def test_cli_refusals_exit_non_zero_with_one_line(
    keys: Keys, env: dict[str, str], args: tuple[str, ...], code: int, phrase: str
) -> None:
    names = {"retired": keys.retired, "active": keys.active}
    names["destroyed"] = keys.destroyed
    done = run_pxs(env, "keys", *(a.format(**names) for a in args))

    stderr = done.stderr.decode()
    assert done.returncode == code, stderr
    assert phrase.format(**names) in stderr
    assert stderr.startswith("pxs: error: ") and stderr.count("\n") == 1
    assert "Traceback" not in stderr


# -- crypto-shredding -----------------------------------------------------


def test_crypto_shredding_by_name(keys: Keys, env: dict[str, str]) -> None:
    RotationService(keys.runtime).destroy(keys.retired, shred=True)
    runtime = keys.runtime
    service = SecretService(runtime)

    states = key_states(runtime)
    assert states[keys.retired] == DESTROYED
    with runtime.database.read() as tx:
        wrapped = tx.scalar(
            "SELECT wrapped_key FROM data_keys WHERE kid = ?", (keys.retired,)
        )
    assert wrapped == ""
    for version in (1, 2):
        _refused(
            lambda v=version: service.get(NS, "old", v),
            CryptoError,
            f"{NS}/old v{version}",
            f"names key {keys.retired}, which is destroyed",
        )
    assert service.get(NS, "new").data == {"a": b"new-1"}

    done = run_pxs(env, "secret", "get", f"{NS}/old", "-o", "json")
    assert done.returncode == 5, done.stderr
    assert f"names key {keys.retired}, which is destroyed" in done.stderr.decode()
    assert run_pxs(env, "secret", "get", f"{NS}/new").returncode == 0

    # A shredded version can still be destroyed (its rows emptied) and the
    # secret written again; the new version is readable.
    service.destroy(NS, "old", [1, 2])
    service.put(NS, "old", {"a": b"after-shred"})
    assert service.get(NS, "old").data == {"a": b"after-shred"}


def test_reencryption_after_crypto_shredding_is_not_a_failure(keys: Keys) -> None:
    RotationService(keys.runtime).destroy(keys.retired, shred=True)

    report = reencrypt(keys.runtime)

    assert report.failed == 0, report.failures
