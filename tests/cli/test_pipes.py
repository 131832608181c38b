"""`pxs … | head`: a reader that goes away is exit 141, quietly."""

from __future__ import annotations

import subprocess

from platxa_secrets.core.config import load_config
from platxa_secrets.services.audit import AuditLog
from platxa_secrets.services.runtime import Runtime
from tests.harness import PXS, Cli


def test_a_closed_pipe_is_exit_141_without_a_message(store: Cli) -> None:
    runtime = Runtime(load_config(env=store.env))
    audit = AuditLog(runtime)
    for number in range(1000):  # far more than a pipe buffer holds
        audit.record("test.event", "ok", "tenant-a", f"app-{number}")
    runtime.close()

    reader = subprocess.Popen(
        [str(PXS), "audit", "export", "--format", "jsonl"],
        env=store.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None and reader.stderr is not None
    first = reader.stdout.readline()
    reader.stdout.close()
    code = reader.wait(timeout=60)
    stderr = reader.stderr.read()

    assert first.startswith(b"{")
    assert code == 141
    assert stderr == b""
