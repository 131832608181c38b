"""The data key lifecycle and re-encryption, with a clock the test moves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet

from platxa_secrets.api import Platxa
from platxa_secrets.clock import FrozenClock
from platxa_secrets.core.config import load_config
from platxa_secrets.errors import ConflictError, CryptoError, NotFoundError
from platxa_secrets.services.initialise import initialise
from platxa_secrets.services.keys import KeyService
from platxa_secrets.services.maintenance import maintain
from platxa_secrets.services.reencrypt import reencrypt
from platxa_secrets.services.rotation import RotationService
from platxa_secrets.services.runtime import Runtime
from tests.conftest import make_env

DAY = timedelta(days=1)


def states(pxs: Platxa) -> dict[str, str]:
    return {k.kid: k.state for k in pxs.keys.list()}


def fill(pxs: Platxa, count: int = 12) -> dict[tuple[str, int], bytes]:
    written = {}
    for number in range(count):
        name = f"app-{number % 4}"
        value = f"value-{number}".encode()
        info = pxs.secrets.put("tenant-a", name, {"K": value})
        written[(name, info.version)] = value
    return written


def assert_all_readable(pxs: Platxa, written: dict[tuple[str, int], bytes]) -> None:
    for (name, version), value in written.items():
        got = pxs.secrets.get("tenant-a", name, version=version)
        assert got.data == {"K": value}


def test_a_new_key_is_pending_until_the_grace_period_is_over(
    world: Platxa, clock: FrozenClock
) -> None:
    first = world.runtime.keyring().active_kid
    rotation = RotationService(world.runtime)

    pending = rotation.rotate()
    clock.advance(timedelta(hours=23))
    assert rotation.activate_due() == ([], [])
    assert states(world) == {first: "active", pending.kid: "pending"}

    clock.advance(timedelta(hours=1))
    assert rotation.activate_due() == ([pending.kid], [first])

    assert states(world) == {first: "retired", pending.kid: "active"}
    listed = {k.kid: k for k in world.keys.list()}
    assert listed[pending.kid].activated_at is not None
    assert listed[first].retired_at == listed[pending.kid].activated_at


def test_writes_use_the_active_key_and_old_keys_still_read(
    world: Platxa, clock: FrozenClock
) -> None:
    written = fill(world, 4)
    rotation = RotationService(world.runtime)
    new = rotation.rotate().kid
    clock.advance(DAY)
    rotation.activate_due()

    world.secrets.put("tenant-a", "fresh", {"K": b"new"})

    assert world.secrets.get("tenant-a", "fresh").kids == {"K": new}
    assert_all_readable(world, written)


def test_reencrypt_moves_everything_and_is_idempotent(
    world: Platxa, clock: FrozenClock
) -> None:
    written = fill(world)
    old = world.runtime.keyring().active_kid
    rotation = RotationService(world.runtime)
    new = rotation.rotate(timedelta(0)).kid
    rotation.activate(new)

    first = reencrypt(world.runtime, batch=5)
    second = reencrypt(world.runtime, batch=5)

    assert (first.total, first.rewritten, first.failed) == (12, 12, 0)
    assert (second.total, second.rewritten, second.current) == (0, 0, 12)
    assert world.keys.census() == {new: 12}
    assert old in states(world)
    assert_all_readable(world, written)


def test_maintain_runs_the_whole_lifecycle(world: Platxa, clock: FrozenClock) -> None:
    written = fill(world)
    old = world.runtime.keyring().active_kid
    new = RotationService(world.runtime).rotate().kid

    clock.advance(DAY)
    report = maintain(world.runtime, batch=4)
    assert (report.activated, report.retired, report.reencrypted) == ([new], [old], 12)
    assert report.destroyed == []

    clock.advance(timedelta(days=7))
    report = maintain(world.runtime)
    assert report.destroyed == [old]
    assert states(world) == {old: "destroyed", new: "active"}

    again = maintain(world.runtime)
    assert (again.activated, again.destroyed, again.reencrypted) == ([], [], 0)
    assert_all_readable(world, written)


def test_retired_key_in_use_is_kept_past_retention(
    world: Platxa, clock: FrozenClock
) -> None:
    fill(world, 3)
    old = world.runtime.keyring().active_kid
    rotation = RotationService(world.runtime)
    rotation.activate(rotation.rotate(timedelta(0)).kid)

    clock.advance(timedelta(days=8))
    destroyed, waiting = rotation.destroy_due()

    assert (destroyed, waiting) == ([], [old])
    assert states(world)[old] == "retired"


def test_refusals_change_nothing(world: Platxa, clock: FrozenClock) -> None:
    fill(world, 2)
    rotation = RotationService(world.runtime)
    old = world.runtime.keyring().active_kid
    pending = rotation.rotate().kid
    before = states(world)

    with pytest.raises(ConflictError, match="still pending"):
        rotation.rotate()
    with pytest.raises(ConflictError, match="only a retired key can be destroyed"):
        rotation.destroy(old)
    with pytest.raises(NotFoundError, match="no data key"):
        rotation.destroy("feedbeef")
    assert states(world) == before

    rotation.activate(pending)
    with pytest.raises(ConflictError, match="still encrypts 2 ciphertext"):
        rotation.destroy(old)
    with pytest.raises(ConflictError, match="only a pending key can be activated"):
        rotation.activate(old)
    assert states(world) == {old: "retired", pending: "active"}


def test_crypto_shredding_by_name(world: Platxa) -> None:
    world.secrets.put("tenant-a", "doomed", {"K": b"gone"})
    rotation = RotationService(world.runtime)
    old = world.runtime.keyring().active_kid
    assert old is not None
    rotation.activate(rotation.rotate(timedelta(0)).kid)
    world.secrets.put("tenant-a", "kept", {"K": b"stays"})

    rotation.destroy(old, shred=True)

    with pytest.raises(CryptoError, match=f"names key {old}, which is destroyed"):
        world.secrets.get("tenant-a", "doomed")
    assert world.secrets.get("tenant-a", "kept").data == {"K": b"stays"}
    with pytest.raises(ConflictError, match="only a pending key"):
        rotation.activate(old)


def test_grace_shorter_than_refresh_is_refused(world: Platxa) -> None:
    from platxa_secrets.errors import ValidationError

    with pytest.raises(ValidationError, match="keyring refresh interval"):
        RotationService(world.runtime).rotate(timedelta(seconds=5))
    assert len(states(world)) == 1


def test_master_rotation_rewraps_every_data_key(
    tmp_path, database_url: str, clock: FrozenClock
) -> None:  # type: ignore[no-untyped-def]
    old_master = Fernet.generate_key().decode()
    new_master = Fernet.generate_key().decode()
    env = make_env(tmp_path / "home", database_url, old_master)
    runtime = Runtime(load_config(env=env), clock=clock)
    initialise(runtime)
    Platxa(runtime).secrets.put("tenant-a", "app", {"K": b"v"})
    RotationService(runtime).rotate()
    runtime.close()

    both = Runtime(
        load_config(
            env={**env, "PLATXA_SECRETS_MASTER_KEY": f"{new_master},{old_master}"}
        )
    )
    moved = KeyService(both).rewrap_under_primary()
    both.close()
    only_new = Runtime(
        load_config(env={**env, "PLATXA_SECRETS_MASTER_KEY": new_master})
    )

    assert len(moved) == 2
    assert Platxa(only_new).secrets.get("tenant-a", "app").data == {"K": b"v"}
    assert {k.master_kid for k in KeyService(only_new).list()} == {
        only_new.master_keys.primary_id
    }
    only_new.close()


def test_transitions_are_audited_with_the_actor(
    world: Platxa, clock: FrozenClock
) -> None:
    rotation = RotationService(world.runtime)
    rotation.rotate()
    clock.advance(DAY)
    maintain(world.runtime)

    actions = [(e.action, e.actor) for e in reversed(world.audit.list())]

    assert ("keys.rotate", "test:operator") in actions
    assert ("keys.activate", "test:operator") in actions
    assert ("keys.reencrypt", "test:operator") in actions
