"""Four processes append to the audit chain at once: one chain, no fork.

On PostgreSQL the appenders queue on the chain head row (`SELECT … FOR
UPDATE`); on SQLite on the write lock of `BEGIN IMMEDIATE`. Either way
the result must be one unbroken chain holding every event once, with
each appender's events in the order it wrote them.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from platxa_secrets.services.audit_verify import verify_store
from platxa_secrets.services.runtime import Runtime
from tests.reliability.audit_workers import NAMESPACE, append_events

APPENDERS = 4
EACH = 40


def test_concurrent_appenders_keep_one_unbroken_chain(
    env: dict[str, str], runtime: Runtime, tmp_path: Path
) -> None:
    before = verify_store(runtime).verified
    folder = tmp_path / "signals"
    folder.mkdir()

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(APPENDERS, mp_context=context) as pool:
        futures = [
            pool.submit(append_events, env, i, str(folder), EACH)
            for i in range(APPENDERS)
        ]
        deadline = time.monotonic() + 90
        while len(list(folder.glob("ready-*"))) < APPENDERS:
            assert time.monotonic() < deadline, "appenders did not start"
            assert not any(f.done() for f in futures), futures[0].result()
            time.sleep(0.01)
        (folder / "start").touch()
        assert [f.result(timeout=120) for f in futures] == [EACH] * APPENDERS

    report = verify_store(runtime)
    assert report.ok, report.problem
    assert report.verified == before + APPENDERS * EACH
    assert (report.first_seq, report.last_seq) == (1, report.verified)

    with runtime.database.read() as tx:
        rows = tx.all(
            "SELECT actor, action, detail FROM audit_events WHERE namespace = ? "
            "ORDER BY seq",
            (NAMESPACE,),
        )
    by_actor: dict[str, list[str]] = defaultdict(list)
    for actor, action, detail in rows:
        by_actor[actor].append(detail if action == "test.append" else action)
    assert sorted(by_actor) == [f"test:appender-{i}" for i in range(APPENDERS)]
    expected = ["secret.write" if i % 4 == 0 else f"i={i}" for i in range(EACH)]
    assert all(written == expected for written in by_actor.values())
