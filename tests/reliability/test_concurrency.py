"""Concurrent writers and re-encryption workers lose nothing and wait, not fail.

Four processes write new versions — each of its own secrets, a merge
into one shared secret, a check-and-set write to another — while the
real `pxs keys reencrypt` moves ~1,500 older values onto a new key.
Afterwards every version written is stored exactly once with the value
written, nothing was lost or renumbered, no process saw an error (on
SQLite: no "database is locked"), and the re-encryption rewrote each
stale row once. Then two re-encryptions at once (worker processes of one
run, and two runs side by side) must share the rows without redoing any.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest

from platxa_secrets.services.reencrypt import reencrypt
from platxa_secrets.services.runtime import Runtime
from platxa_secrets.services.secrets import SecretService
from tests.reliability.helpers import (
    census,
    differences,
    dump,
    fill,
    rotate_now,
    run_pxs,
    spawn_pxs,
    stale_count,
)
from tests.reliability.workers import (
    NAMESPACE,
    SHARED_CAS,
    SHARED_MERGE,
    WriterResult,
    Written,
    writer,
)

T = TypeVar("T")
WRITERS = 4
LEAST_ROUNDS, MOST_ROUNDS = 12, 400
WAIT = 90.0
ROTATIONS = 5


def _with_writers(
    env: dict[str, str], tmp_path: Path, during: Callable[[], T]
) -> tuple[list[WriterResult], T, float, float]:
    """Run `during` while four writer processes are busy writing."""
    stop = tmp_path / "stop"
    ready = [tmp_path / f"ready-{i}" for i in range(WRITERS)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(WRITERS, mp_context=context) as pool:
        futures = [
            pool.submit(
                writer,
                env,
                index,
                str(ready[index]),
                str(stop),
                LEAST_ROUNDS,
                MOST_ROUNDS,
                WAIT,
            )
            for index in range(WRITERS)
        ]
        try:
            deadline = time.monotonic() + WAIT
            while not all(path.exists() for path in ready):
                assert time.monotonic() < deadline, "writers never got going"
                time.sleep(0.01)
            started = time.time()
            outcome = during()
            ended = time.time()
        finally:
            stop.touch()
        results = [future.result(timeout=WAIT) for future in futures]
    return results, outcome, started, ended


def _check_writes(runtime: Runtime, writes: list[Written], active: str) -> None:
    """Every write is its own version, stored with what was written."""
    service = SecretService(runtime)
    by_name: dict[str, list[Written]] = defaultdict(list)
    for write in writes:
        by_name[write.name].append(write)

    for name, done in by_name.items():
        versions = sorted(w.version for w in done)
        stored = [v.version for v in service.history(NAMESPACE, name)]
        assert versions == list(range(1, len(done) + 1)), f"{name}: {versions}"
        assert stored == versions, f"{name}: stored {stored}, written {versions}"
        for info in service.history(NAMESPACE, name):
            assert info.kids == (active,), f"{name} v{info.version}: {info.kids}"

    for write in writes:
        got = service.get(NAMESPACE, write.name, write.version).data
        if write.replace:
            assert got == write.data, f"{write.name} v{write.version}"
        else:
            assert {k: got.get(k) for k in write.data} == write.data, (
                f"{write.name} v{write.version}"
            )


def _check_shared_merge(runtime: Runtime, results: list[WriterResult]) -> None:
    """The newest merged version holds every writer's last value."""
    newest = SecretService(runtime).get(NAMESPACE, SHARED_MERGE).data
    last = {
        f"w{r.index}": [w for w in r.writes if w.name == SHARED_MERGE][-1].data[
            f"w{r.index}"
        ]
        for r in results
    }
    assert newest == last


def _errors(results: list[WriterResult]) -> list[str]:
    return [error for result in results for error in result.errors]


@pytest.mark.slow
def test_writers_during_reencryption_lose_no_version(
    runtime: Runtime, env: dict[str, str], tmp_path: Path
) -> None:
    filled = fill(runtime, random.Random(7))
    _previous, active = rotate_now(runtime)
    stale = stale_count(runtime, active)
    assert stale == len(filled.values)

    def reencrypt_cli() -> subprocess.CompletedProcess[bytes]:
        return run_pxs(env, "keys", "reencrypt", "--batch", "25", "-o", "json")

    results, done, started, ended = _with_writers(env, tmp_path, reencrypt_cli)

    errors = _errors(results)
    assert not errors, errors
    stderr = done.stderr.decode()
    assert done.returncode == 0, stderr
    assert "locked" not in stderr.lower(), stderr
    report = json.loads(done.stdout)
    assert (report["rewritten"], report["failed"], report["changed"]) == (stale, 0, 0)

    writes = [w for r in results for w in r.writes]
    overlapping = [w for w in writes if started <= w.at <= ended]
    assert overlapping, "no write happened while the re-encryption ran"
    _check_writes(runtime, writes, active)
    _check_shared_merge(runtime, results)
    assert [w for w in writes if w.name == SHARED_CAS], "no cas write succeeded"

    written_values = sum(len(w.data) for w in writes if w.replace)
    merged = SecretService(runtime).history(NAMESPACE, SHARED_MERGE)
    written_values += sum(len(v.keys) for v in merged)
    assert census(runtime) == {active: len(filled.values) + written_values}
    problem = differences(
        filled.values,
        {k: v for k, v in dump(runtime).items() if k[0] != NAMESPACE},
    )
    assert not problem, problem
    print(
        f"{len(writes)} writes ({len(overlapping)} during the re-encryption of "
        f"{stale} values), {sum(r.cas_conflicts for r in results)} cas retries"
    )


@pytest.mark.slow
def test_cli_writers_during_reencryption_all_succeed(
    runtime: Runtime, env: dict[str, str]
) -> None:
    """The same race through `pxs secret set`: one process per write."""
    filled = fill(runtime, random.Random(11), secrets=100)
    _previous, active = rotate_now(runtime)
    stale = stale_count(runtime, active)
    rounds = 3
    outcomes: dict[int, list[tuple[str, bytes, subprocess.CompletedProcess[bytes]]]]
    outcomes = defaultdict(list)

    def shell(index: int) -> None:
        for round_ in range(rounds):
            for name, key in ((f"cli-own-{index}", "v"), ("cli-shared", f"w{index}")):
                value = f"{name}-{index}-{round_}".encode()
                done = run_pxs(
                    env,
                    "secret",
                    "set",
                    f"{NAMESPACE}/{name}",
                    f"{key}=-",
                    "-o",
                    "json",
                    stdin=value,
                )
                outcomes[index].append((name, value, done))

    threads = [threading.Thread(target=shell, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + WAIT
    while not all(len(outcomes[i]) >= 2 for i in range(WRITERS)):
        assert time.monotonic() < deadline, "the CLI writers never got going"
        time.sleep(0.01)
    reencryption = spawn_pxs(env, "keys", "reencrypt", "--batch", "25", "-o", "json")
    out, err = reencryption.communicate(timeout=WAIT)
    for thread in threads:
        thread.join(timeout=WAIT)
        assert not thread.is_alive()

    assert reencryption.returncode == 0, err.decode()
    report = json.loads(out)
    assert (report["rewritten"], report["failed"]) == (stale, 0)
    service = SecretService(runtime)
    versions: dict[str, list[int]] = defaultdict(list)
    for index in range(WRITERS):
        assert len(outcomes[index]) == 2 * rounds
        for name, value, done in outcomes[index]:
            stderr = done.stderr.decode()
            assert done.returncode == 0, stderr
            assert "locked" not in stderr.lower(), stderr
            version = json.loads(done.stdout)["version"]
            versions[name].append(version)
            key = "v" if name.startswith("cli-own") else f"w{index}"
            assert service.get(NAMESPACE, name, version).data[key] == value

    for name, got in versions.items():
        assert sorted(got) == list(range(1, len(got) + 1)), f"{name}: {got}"
        assert [v.version for v in service.history(NAMESPACE, name)] == sorted(got)
    assert stale_count(runtime, active) == 0
    assert not differences(
        filled.values, {k: v for k, v in dump(runtime).items() if k[0] != NAMESPACE}
    )


@pytest.mark.slow
def test_reencrypt_workers_rewrite_each_row_once(runtime: Runtime) -> None:
    filled = fill(runtime, random.Random(3))
    _previous, active = rotate_now(runtime)
    stale = stale_count(runtime, active)

    report = reencrypt(runtime, batch=25, workers=2)

    assert report.total == stale
    assert (report.rewritten, report.failed, report.changed) == (stale, 0, 0)
    assert census(runtime) == {active: len(filled.values)}
    assert not differences(filled.values, dump(runtime))


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_two_reencrypt_processes_rewrite_each_row_once(
    runtime: Runtime, env: dict[str, str], workers: str
) -> None:
    """Two runs side by side: together they rewrite each stale row once.

    The sum of `rewritten` equals the stale count, so no row was written
    twice and none was left; every value still reads back. On PostgreSQL
    `SKIP LOCKED` also keeps the two from even decrypting the same row
    (`changed` stays 0). On SQLite the runs read outside the one write
    lock, so both may decrypt a row; only one write lands (the other
    counts it as `changed`). The two runs must overlap (both found work
    and both rewrote some of it) in one of at most five rotations.
    """
    # SQLite re-encrypts ~1,500 values in a few hundredths of a second,
    # less than the jitter of two start-ups: give it enough to overlap.
    sqlite = runtime.database.dialect == "sqlite"
    filled = fill(runtime, random.Random(5), secrets=1200 if sqlite else 300)
    overlaps = 0
    for rotation in range(ROTATIONS):
        _previous, active = rotate_now(runtime)
        stale = stale_count(runtime, active)
        runs = [
            spawn_pxs(
                env,
                "keys",
                "reencrypt",
                "--batch",
                "25",
                "--workers",
                workers,
                "-o",
                "json",
            )
            for _ in range(2)
        ]
        reports = []
        for run in runs:
            out, err = run.communicate(timeout=WAIT)
            assert run.returncode == 0, err.decode()
            reports.append(json.loads(out))

        where = f"rotation {rotation}: {reports}"
        assert sum(r["rewritten"] for r in reports) == stale, where
        if not sqlite:
            assert sum(r["changed"] for r in reports) == 0, where
        assert sum(r["failed"] for r in reports) == 0, where
        assert census(runtime) == {active: len(filled.values)}, where
        assert not differences(filled.values, dump(runtime)), where
        overlaps += all(r["total"] and r["rewritten"] for r in reports)
        print(where)
        if overlaps:
            break
    assert overlaps, f"the two runs never overlapped in {ROTATIONS} rotations"
