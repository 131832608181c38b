"""Checks on how the process is set up: master key and file modes."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from platxa_secrets.services.doctor._model import FAIL, PASS, SKIP, WARN, Finding
from platxa_secrets.services.runtime import Runtime

_SUPPLY = (
    "supply the key from outside: PLATXA_SECRETS_MASTER_KEY_FILE pointing at a "
    "mounted secret (mode 0400/0600), or PLATXA_SECRETS_MASTER_KEY from a "
    "secret manager"
)


def check_master_key(runtime: Runtime) -> Iterator[Finding]:
    """The master key comes from outside; the development key is not used
    in production, and a key in the config file is discouraged."""
    config = runtime.config
    keys = runtime.master_keys  # raises (a failed finding) when none is found
    fallback = keys.source == str(config.fallback_key_file)

    if fallback and config.production:
        yield Finding(
            "master-key.source",
            FAIL,
            f"production uses the development master key file {keys.source}",
            _SUPPLY,
        )
    elif fallback:
        yield Finding(
            "master-key.source",
            WARN,
            f"development mode with the development master key {keys.source}; "
            "fine on a workstation, never in production",
            _SUPPLY,
        )
    elif keys.source.startswith("master_key in "):
        yield Finding(
            "master-key.source",
            WARN,
            f"the master key is written in the config file {keys.source}",
            _SUPPLY,
        )
    else:
        count = len(keys.ids)
        yield Finding(
            "master-key.source",
            PASS,
            f"supplied from {keys.source} ({count} key{'s' * (count > 1)}, "
            f"primary {keys.primary_id})",
        )


def check_permissions(runtime: Runtime) -> Iterator[Finding]:
    """Key files are private to their owner; the SQLite file is too; and
    nobody else can write the folders that hold them (whoever can, can
    swap the key or the database)."""
    config = runtime.config
    yield from _folders(runtime)
    key_files = [config.master_key_file, config.fallback_key_file]
    for path in dict.fromkeys(p for p in key_files if p is not None):
        if path.exists():
            yield _private("permissions.master-key-file", path, FAIL)

    if config.config_file is not None and config.config_file.exists():
        yield _private("permissions.config-file", config.config_file, WARN)

    database = runtime.database.path
    if database is None:
        yield Finding("permissions.database-file", SKIP, "PostgreSQL store")
    elif database.exists():
        yield _private("permissions.database-file", database, WARN)


def check_leftover_key(runtime: Runtime) -> Iterator[Finding]:
    """In production the development key file should not exist at all."""
    config = runtime.config
    leftover = config.fallback_key_file
    if not config.production:
        return
    if leftover.exists() and runtime.master_keys.source != str(leftover):
        yield Finding(
            "master-key.leftover",
            WARN,
            f"a development master key is left in {leftover}; production uses "
            f"{runtime.master_keys.source}",
            f"make sure no data key is wrapped by it (`pxs keys list`), then "
            f"delete {leftover}",
        )
    else:
        yield Finding("master-key.leftover", PASS, "no development key file")


def _folders(runtime: Runtime) -> Iterator[Finding]:
    config = runtime.config
    folders = [config.home, runtime.database.path and runtime.database.path.parent]
    if config.master_key_file is not None:
        folders.append(config.master_key_file.parent)
    for folder in dict.fromkeys(f for f in folders if f is not None):
        if not folder.is_dir():
            continue
        mode = stat.S_IMODE(folder.stat().st_mode)
        if mode & 0o022 and not mode & stat.S_ISVTX:
            yield Finding(
                "permissions.folder",
                FAIL,
                f"{folder} has mode {mode:04o}: others can replace the files "
                "in it (the master key, the database)",
                f"chmod go-w {folder}",
            )
        else:
            yield Finding("permissions.folder", PASS, f"{folder} has mode {mode:04o}")


def _private(check: str, path: Path, severity: str) -> Finding:
    info = path.stat()
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        return Finding(
            check,
            severity,
            f"{path} has mode {mode:04o}: group or others can read it",
            f"chmod 600 {path}",
        )
    if info.st_uid != os.geteuid():
        return Finding(
            check,
            severity,
            f"{path} belongs to uid {info.st_uid}, not to this process "
            f"(uid {os.geteuid()})",
            f"chown {os.geteuid()} {path}",
        )
    return Finding(check, PASS, f"{path} has mode {mode:04o}")
