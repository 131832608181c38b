"""Two replicas on one PostgreSQL schema, each with its own cached keyring.

DESIGN §4: a new key is pending for the grace period, and every replica
reloads its keyring more often than that, so by the time any replica
encrypts with the key every other replica can decrypt under it. And a
replica that meets a key id its cached keyring has never heard of (a
key activated at once, inside the refresh interval) reloads once instead
of failing. Each replica here has its own `FrozenClock`, so the test
decides exactly when each one considers its keyring stale.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from platxa_secrets.clock import FrozenClock
from platxa_secrets.core.config import Config, load_config
from platxa_secrets.core.crypto.keyring import ACTIVE, PENDING, RETIRED
from platxa_secrets.errors import ConflictError
from platxa_secrets.services.initialise import initialise
from platxa_secrets.services.reencrypt import reencrypt
from platxa_secrets.services.rotation import RotationService
from platxa_secrets.services.runtime import Runtime
from platxa_secrets.services.secrets import SecretService
from tests.reliability.helpers import key_states, subprocess_env

pytestmark = pytest.mark.postgres
GRACE = timedelta(hours=24)
REFRESH = timedelta(seconds=60)
NS = "tenant-replica"


@pytest.fixture
def replica_config(tmp_path: Path, pg_schema_url: str, master_key: str) -> Config:
    env = subprocess_env(
        tmp_path / "home",
        pg_schema_url,
        master_key,
        PLATXA_SECRETS_GRACE_PERIOD="24h",
        PLATXA_SECRETS_KEYRING_REFRESH="60s",
    )
    config = load_config(env=env, actor="test:replica")
    assert (config.grace_period, config.keyring_refresh) == (GRACE, REFRESH)
    return config


@pytest.fixture
def replicas(replica_config: Config) -> Iterator[tuple[Runtime, Runtime]]:
    """Replicas A and B; their clocks start together and move separately."""
    a = Runtime(replica_config, clock=FrozenClock(), actor="replica-a")
    b = Runtime(replica_config, clock=FrozenClock(), actor="replica-b")
    initialise(a)
    yield a, b
    a.close()
    b.close()


def _clock(runtime: Runtime) -> FrozenClock:
    assert isinstance(runtime.clock, FrozenClock)
    return runtime.clock


def _cached_state(runtime: Runtime, kid: str) -> str | None:
    """The state of `kid` in the runtime's keyring, without reloading it."""
    keyring = runtime.keyring()
    return next((r.state for r in keyring.records if r.kid == kid), None)


def test_a_key_is_known_everywhere_before_anyone_encrypts_with_it(
    replicas: tuple[Runtime, Runtime],
) -> None:
    a, b = replicas
    reader_a, reader_b = SecretService(a), SecretService(b)
    SecretService(b).put(NS, "before", {"k": b"old key"})
    old = b.keyring().active_kid
    cached_before = b.keyring()

    record = RotationService(a).rotate()
    assert record.state == PENDING
    assert b.keyring() is cached_before  # inside the refresh interval
    assert not b.keyring().knows(record.kid)

    _clock(b).advance(REFRESH + timedelta(seconds=1))
    assert b.keyring() is not cached_before  # B reloaded on its own
    assert _cached_state(b, record.kid) == PENDING
    learned = b.keyring()

    _clock(a).advance(GRACE + timedelta(seconds=1))
    activated, retired = RotationService(a).activate_due()
    assert (activated, retired) == ([record.kid], [old])
    written = SecretService(a).put(NS, "after", {"k": b"new key"})
    assert written.kids == (record.kid,)

    # B has not refreshed since: it reads with the key it knows as pending.
    got = reader_b.get(NS, "after")
    assert got.data == {"k": b"new key"}
    assert got.kids == {"k": record.kid}
    assert b.keyring() is learned
    assert _cached_state(b, record.kid) == PENDING

    # B's cached keyring still names the old key as active, but a write
    # confirms the active key inside its transaction and reloads first:
    # nothing new is ever written under a retired key.
    late = reader_b.put(NS, "late", {"k": b"written by B"})
    assert late.kids == (record.kid,)
    assert reader_a.get(NS, "late").data == {"k": b"written by B"}
    assert key_states(a)[old] == RETIRED

    _clock(b).advance(REFRESH)
    assert reader_b.put(NS, "late", {"k": b"refreshed"}).kids == (record.kid,)
    assert reader_a.get(NS, "before").data == {"k": b"old key"}


def test_a_key_activated_at_once_is_reloaded_on_first_sight(
    replicas: tuple[Runtime, Runtime],
) -> None:
    a, b = replicas
    SecretService(a).put(NS, "seed", {"k": b"v1"})
    assert SecretService(b).get(NS, "seed").data == {"k": b"v1"}
    stale = b.keyring()

    rotation = RotationService(a)
    record = rotation.rotate(timedelta(0))
    rotation.activate(record.kid)
    assert key_states(a)[record.kid] == ACTIVE
    written = SecretService(a).put(NS, "fresh", {"k": b"under a brand-new key"})
    assert written.kids == (record.kid,)
    assert b.keyring() is stale and not stale.knows(record.kid)

    got = SecretService(b).get(NS, "fresh")

    assert got.data == {"k": b"under a brand-new key"}
    assert got.kids == {"k": record.kid}
    assert b.keyring() is not stale
    assert b.keyring().active_kid == record.kid
    assert SecretService(b).get(NS, "seed", 1).data == {"k": b"v1"}


def test_versions_under_two_keys_b_never_loaded(
    replicas: tuple[Runtime, Runtime],
) -> None:
    """Two immediate rotations inside B's refresh interval: B still reads."""
    a, b = replicas
    SecretService(b).put(NS, "warm", {"k": b"x"})  # B caches the first keyring
    stale = b.keyring()
    rotation = RotationService(a)
    first = rotation.rotate(timedelta(0))
    rotation.activate(first.kid)
    SecretService(a).put(NS, "two-keys", {"one": b"1"})
    second = rotation.rotate(timedelta(0))
    rotation.activate(second.kid)
    SecretService(a).put(NS, "two-keys", {"two": b"2"})  # merge: both re-encrypted

    old = SecretService(b).get(NS, "two-keys", 1)
    new = SecretService(b).get(NS, "two-keys")

    assert (old.data, old.kids) == ({"one": b"1"}, {"one": first.kid})
    assert new.data == {"one": b"1", "two": b"2"}
    assert set(new.kids.values()) == {second.kid}
    assert b.keyring() is not stale
    assert SecretService(b).get(NS, "warm").data == {"k": b"x"}


def test_a_write_acknowledged_by_a_replica_stays_readable_after_destroy(
    replicas: tuple[Runtime, Runtime],
) -> None:
    """The documented rotation, then an immediate `pxs keys destroy OLD`."""
    a, b = replicas
    old = a.keyring().active_kid
    assert old is not None
    record = RotationService(a).rotate()
    _clock(b).advance(REFRESH + timedelta(seconds=1))
    assert _cached_state(b, record.kid) == PENDING  # B learned the key in time

    _clock(a).advance(GRACE + timedelta(seconds=1))
    assert RotationService(a).activate_due() == ([record.kid], [old])
    assert reencrypt(a).failed == 0
    destroyed = True
    try:
        RotationService(a).destroy(old)  # nothing uses it: allowed today
    except ConflictError:
        destroyed = False  # refused while replicas may still encrypt with it

    # B is inside its refresh interval: its keyring still says `old` is active.
    written = SecretService(b).put(NS, "acknowledged", {"k": b"must survive"})

    a.forget_keyring()
    got = SecretService(a).get(NS, "acknowledged")
    assert got.data == {"k": b"must survive"}, (destroyed, written.kids)
