"""A writer process for the concurrency tests (spawned, so importable).

Each writer opens its own runtime from the same environment as `pxs`,
then loops: a new version of one of its own secrets, a merge into a
secret shared by every writer, and a check-and-set write to another
shared secret (re-read and retried when another writer got there
first). It keeps going until the parent drops a stop file, and returns
what it wrote, with the version each write got, and any error it saw.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from pathlib import Path

NAMESPACE = "tenant-race"
SHARED_MERGE = "shared-merge"
SHARED_CAS = "shared-cas"
OWN_SECRETS = 3
CAS_ATTEMPTS = 200


@dataclass
class Written:
    """One write: where it went, the keys it set, and when."""

    name: str
    version: int
    data: dict[str, bytes] = field(repr=False)
    replace: bool
    at: float


@dataclass
class WriterResult:
    index: int
    writes: list[Written] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cas_conflicts: int = 0


def writer(
    env: dict[str, str],
    index: int,
    ready_file: str,
    stop_file: str,
    least: int,
    most: int,
    seconds: float,
) -> WriterResult:
    """Write until `stop_file` exists (and `least` rounds are done)."""
    from platxa_secrets.core.config import load_config
    from platxa_secrets.errors import ConflictError, NotFoundError
    from platxa_secrets.services.runtime import Runtime
    from platxa_secrets.services.secrets import SecretService

    result = WriterResult(index)
    rng = random.Random(index)
    runtime = Runtime(load_config(env=env, actor=f"test:writer-{index}"))
    service = SecretService(runtime)
    deadline = time.monotonic() + seconds
    stop = Path(stop_file)

    def put(name: str, data: dict[str, bytes], replace: bool, cas: int | None) -> None:
        info = service.put(NAMESPACE, name, data, replace=replace, cas=cas)
        result.writes.append(Written(name, info.version, data, replace, time.time()))

    try:
        for round_ in range(most):
            if round_ == 5:
                Path(ready_file).touch()
            if round_ >= least and stop.exists():
                break
            if time.monotonic() > deadline:
                result.errors.append(f"writer {index}: time limit at round {round_}")
                break
            tag = f"w{index}-r{round_}-{rng.random()}".encode()

            put(f"own-{index}-{round_ % OWN_SECRETS}", {"v": tag}, True, None)
            put(SHARED_MERGE, {f"w{index}": tag}, False, None)

            for _attempt in range(CAS_ATTEMPTS):
                try:
                    current = service.history(NAMESPACE, SHARED_CAS)[-1].version
                except NotFoundError:
                    current = 0
                try:
                    put(SHARED_CAS, {"owner": tag}, True, current)
                    break
                except ConflictError:
                    result.cas_conflicts += 1
                    time.sleep(rng.uniform(0, 0.005))
            else:
                result.errors.append(f"writer {index}: cas never won")
    except Exception as exc:  # every error is a finding: report, do not hide
        result.errors.append(f"writer {index}: {type(exc).__name__}: {exc}")
    finally:
        Path(ready_file).touch()
        runtime.close()
    return result
