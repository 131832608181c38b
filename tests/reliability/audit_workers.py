"""An appender process for the audit chain race (spawned, so importable).

Each appender opens its own runtime, signals that it is ready, waits for
the start signal so all of them append at once, then writes events both
ways a service does: `AuditLog.run` (a secret write and its event in one
transaction) and `AuditLog.record` (an event alone).
"""

from __future__ import annotations

import time
from pathlib import Path

NAMESPACE = "tenant-race"


def append_events(env: dict[str, str], index: int, folder: str, count: int) -> int:
    """Append `count` events as `test:appender-<index>`; return how many."""
    from platxa_secrets.core.config import load_config
    from platxa_secrets.services.audit import AuditLog
    from platxa_secrets.services.runtime import Runtime
    from platxa_secrets.services.secrets import SecretService

    runtime = Runtime(load_config(env=env, actor=f"test:appender-{index}"))
    audit = AuditLog(runtime)
    secrets = SecretService(runtime)
    audit.list(limit=1)  # connect and load the chain key before the start
    (Path(folder) / f"ready-{index}").touch()

    start = Path(folder) / "start"
    deadline = time.monotonic() + 60
    while not start.exists() and time.monotonic() < deadline:
        time.sleep(0.005)

    for i in range(count):
        if i % 4 == 0:
            secrets.put(NAMESPACE, f"app-{index}", {"n": str(i).encode()})
        else:
            audit.record("test.append", "ok", NAMESPACE, f"app-{index}", f"i={i}")
    runtime.close()
    return count
