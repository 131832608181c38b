"""kill -9 during re-encryption loses nothing; a rerun finishes the job.

One store of ~1,500 values (300 secrets, several versions each, some
soft-deleted or destroyed) is rotated onto a new key again and again.
Each time the real `pxs keys reencrypt --batch 25` is started and killed
with SIGKILL: before its first batch, while batches commit (triggered
by a random delay, or by watching the rows move), or after the last
batch. After every kill every ciphertext must still decrypt to the value
that was written; then a rerun must move what is left, fail nothing,
and leave the old key unused, so that destroying it is allowed.

The random choices come from one seed, printed at the start and named
in every failure; set PXS_RELIABILITY_SEED to replay a run.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import signal
import time
from collections import Counter
from typing import Any

import pytest

from platxa_secrets.core.store import value_rows
from platxa_secrets.services.reencrypt import reencrypt
from platxa_secrets.services.rotation import RotationService
from platxa_secrets.services.runtime import Runtime
from platxa_secrets.services.secrets import SecretService
from tests.reliability.helpers import (
    Filled,
    census,
    differences,
    dump,
    fill,
    key_states,
    rotate_now,
    run_pxs,
    spawn_pxs,
    stale_count,
    wait_until_unlocked,
)

SEED_ENV = "PXS_RELIABILITY_SEED"
MIN_KILLS = 24
MIN_PHASES = {"before": 1, "during": 6, "after": 1}
MAX_ITERATIONS = 45
TIME_LIMIT = 150.0
BATCH = "25"


def _layout(runtime: Runtime) -> dict[str, Any]:
    """Which rows exist and in which state, without their ciphertexts."""
    with runtime.database.read() as tx:
        return {
            "values": tx.all(
                "SELECT secret_id, version, key, ciphertext IS NULL FROM "
                "secret_values ORDER BY secret_id, version, key"
            ),
            "versions": tx.all(
                "SELECT secret_id, version, deleted_at, destroyed_at FROM "
                "secret_versions ORDER BY secret_id, version"
            ),
        }


def _under(runtime: Runtime, kid: str) -> int:
    with runtime.database.read() as tx:
        return value_rows.count_under(tx, kid)


class KillRun:
    """The store, what it must hold, and the statistics of the kills."""

    def __init__(self, runtime: Runtime, env: dict[str, str], seed: int) -> None:
        self.runtime = runtime
        self.env = env
        self.seed = seed
        self.rng = random.Random(seed)
        self.filled: Filled = fill(runtime, self.rng)
        self.expected = self.filled.values
        self.layout = _layout(runtime)
        self.phases: Counter[str] = Counter()
        self.modes: Counter[str] = Counter()
        self.kills = 0
        self.noop = self.full = 0.0

    def where(self, iteration: int, detail: str = "") -> str:
        return f"[seed={self.seed} iteration={iteration} {detail}]"

    def calibrate(self) -> None:
        """Time one whole run and one run with nothing to do, from spawn."""
        previous, active = rotate_now(self.runtime)

        started = time.monotonic()
        done = run_pxs(self.env, "keys", "reencrypt", "--batch", BATCH, "-o", "json")
        self.full = time.monotonic() - started
        assert done.returncode == 0, done.stderr.decode()
        report = json.loads(done.stdout)
        assert (report["rewritten"], report["failed"]) == (len(self.expected), 0)

        started = time.monotonic()
        idle = run_pxs(self.env, "keys", "reencrypt", "--batch", BATCH, "-o", "json")
        self.noop = time.monotonic() - started
        assert idle.returncode == 0, idle.stderr.decode()
        report = json.loads(idle.stdout)
        assert (report["rewritten"], report["current"]) == (0, len(self.expected))

        assert census(self.runtime) == {active: len(self.expected)}
        RotationService(self.runtime).destroy(previous)

    def kill_once(self, active: str, total: int, where: str) -> str:
        """Start a re-encryption, SIGKILL it, return where it was hit."""
        draw = self.rng.random()
        threshold = self.rng.randrange(1, total)
        if draw < 0.2:
            mode, delay = "early", self.rng.uniform(0, self.noop * 0.6)
        elif draw < 0.6:
            mode, delay = "on-progress", 0.0
        elif draw < 0.85:
            mode, delay = "timed", self.rng.uniform(self.noop * 0.6, self.full * 1.1)
        else:
            mode, delay = "late", self.rng.uniform(self.full * 1.3, self.full * 1.7)
        self.modes[mode] += 1

        process = spawn_pxs(self.env, "keys", "reencrypt", "--batch", BATCH)
        if mode == "on-progress":
            deadline = time.monotonic() + 30
            while process.poll() is None and time.monotonic() < deadline:
                if _under(self.runtime, active) >= threshold:
                    break
                time.sleep(0.001)
        else:
            time.sleep(delay)
        finished = process.poll() is not None
        process.send_signal(signal.SIGKILL)  # a no-op once it has been reaped
        _out, err = process.communicate(timeout=30)
        self.kills += 1
        detail = f"{where} mode={mode} delay={delay:.3f}s threshold={threshold}"
        # It may also finish between the poll and the signal: exit status 0.
        if finished or process.returncode == 0:
            assert process.returncode == 0, f"{detail}: {err.decode()}"
        else:
            assert process.returncode == -signal.SIGKILL, detail
        assert b"Traceback" not in err, detail

        wait_until_unlocked(self.runtime)
        left = stale_count(self.runtime, active)
        assert 0 <= left <= total, detail
        phase = "before" if left == total else "during" if left else "after"
        self.phases[phase] += 1
        return detail

    def check_intact(self, detail: str) -> None:
        """Every value decrypts to what was written; no row appeared or went."""
        assert _layout(self.runtime) == self.layout, f"rows changed {detail}"
        problem = differences(self.expected, dump(self.runtime))
        assert not problem, f"{problem} {detail}"

        service = SecretService(self.runtime)
        live = sorted({ident[:3] for ident in self.expected} - self.filled.deleted)
        for namespace, name, version in self.rng.sample(live, 5):
            got = service.get(namespace, name, version).data
            want = {
                key: value
                for (ns, n, v, key), value in self.expected.items()
                if (ns, n, v) == (namespace, name, version)
            }
            assert got == want, f"{namespace}/{name} v{version} {detail}"

    def finish(self, active: str, previous: str, where: str) -> None:
        """A rerun moves exactly what is left; the old key is then unused."""
        left = stale_count(self.runtime, active)
        report = reencrypt(self.runtime, batch=int(BATCH))
        assert report.active_kid == active, where
        assert (report.rewritten, report.failed, report.changed) == (left, 0, 0), (
            f"{report.failures} {where}"
        )
        assert census(self.runtime) == {active: len(self.expected)}, where
        RotationService(self.runtime).destroy(previous)

    def enough(self) -> bool:
        return self.kills >= MIN_KILLS and all(
            self.phases[phase] >= least for phase, least in MIN_PHASES.items()
        )


@pytest.mark.slow
def test_kill9_during_reencryption_loses_nothing(
    runtime: Runtime, env: dict[str, str]
) -> None:
    seed = int(os.environ.get(SEED_ENV) or secrets.randbits(32))
    print(f"kill -9 seed {seed}; replay with {SEED_ENV}={seed}")
    run = KillRun(runtime, env, seed)
    assert 1400 <= len(run.expected) <= 1700
    run.check_intact(run.where(0, "before any rotation"))
    run.calibrate()

    started = time.monotonic()
    iteration = 0
    while not run.enough():
        iteration += 1
        where = run.where(iteration)
        assert iteration <= MAX_ITERATIONS, f"{where} {run.phases} {run.modes}"
        assert time.monotonic() - started < TIME_LIMIT, f"{where} too slow"

        previous, active = rotate_now(runtime)
        total = stale_count(runtime, active)
        assert total == len(run.expected), where
        for _ in range(1 if run.rng.random() < 0.7 else 2):
            detail = run.kill_once(active, total, where)
            run.check_intact(detail)
        run.finish(active, previous, where)

    took = time.monotonic() - started
    print(
        f"{run.kills} kills in {iteration} rotations, {took:.1f}s "
        f"(one run {run.full:.2f}s, idle run {run.noop:.2f}s): "
        f"phases {dict(run.phases)}, modes {dict(run.modes)}"
    )
    states = Counter(key_states(runtime).values())
    assert states == {"active": 1, "destroyed": iteration + 1}, states
