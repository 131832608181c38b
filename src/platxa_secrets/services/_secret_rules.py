"""The secret service's rules: input checks, state checks, row lookups.

Kept apart from `secrets.py` so the service reads as the steps of each
operation; every function here either returns what was asked or raises
an error that names the object and the rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from platxa_secrets.core import names
from platxa_secrets.core.crypto.compare import secret_equal
from platxa_secrets.core.store import secret_rows
from platxa_secrets.core.store.db import Tx
from platxa_secrets.core.store.secret_rows import SecretRow, VersionRow
from platxa_secrets.errors import ConflictError, NotFoundError, ValidationError
from platxa_secrets.services.secret_models import (
    MAX_VERSION,
    SecretVersion,
    VersionInfo,
    WriteRequest,
)


def check_identity(namespace: str, name: str) -> None:
    names.check_namespace(namespace)
    names.check_name(name)


def check_request(request: WriteRequest) -> None:
    """Names, keys, value types and the type name, before any work."""
    check_identity(request.namespace, request.name)
    if request.type is not None:
        names.check_type(request.type)
    for key, value in request.data.items():
        names.check_key(key)
        if not isinstance(value, bytes):
            raise ValidationError(
                f"value of {key!r} must be bytes, not {type(value).__name__} "
                "(encode text first)",
                field=key,
            )


def check_versions(versions: Sequence[int]) -> list[int]:
    if isinstance(versions, (str, bytes)) or any(
        not_int(v) or not 1 <= v <= MAX_VERSION for v in versions
    ):
        raise ValidationError(
            "versions must be whole numbers from 1 upwards", field="version"
        )
    return sorted(set(versions))


def check_version(version: int | None) -> None:
    if version is not None and (not_int(version) or not 1 <= version <= MAX_VERSION):
        raise ValidationError(
            "version must be a whole number from 1 upwards", field="version"
        )


def not_int(value: object) -> bool:
    return not isinstance(value, int) or isinstance(value, bool)


def check_cas(cas: int | None, current: int, target: str) -> None:
    if cas is None or cas == current:
        return
    if cas == 0:
        raise ConflictError(
            f"check-and-set failed for {target}: cas=0 requires that the secret "
            f"does not exist, and its newest version is {current}",
            target=target,
        )
    raise ConflictError(
        f"check-and-set failed for {target}: expected newest version {cas}, "
        f"found {current}",
        target=target,
    )


def existing(tx: Tx, namespace: str, name: str, lock: bool = False) -> SecretRow:
    secret = secret_rows.find_secret(tx, namespace, name, lock=lock)
    if secret is None:
        raise NotFoundError(
            f"secret {namespace}/{name} does not exist",
            namespace=namespace,
            name=name,
        )
    return secret


def version_row(tx: Tx, secret: SecretRow, version: int) -> VersionRow:
    row = secret_rows.get_version(tx, secret.id, version)
    if row is None:
        raise NotFoundError(
            f"version {version} of {secret.namespace}/{secret.name} does not exist "
            f"(newest is {secret.current_version}; older versions may be pruned)",
            namespace=secret.namespace,
            name=secret.name,
            version=version,
        )
    return row


def readable(
    tx: Tx, namespace: str, name: str, version: int | None
) -> tuple[SecretRow, VersionRow]:
    secret = existing(tx, namespace, name)
    row = version_row(tx, secret, version or secret.current_version)
    target = f"version {row.version} of {namespace}/{name}"
    if row.state == "destroyed":
        raise NotFoundError(
            f"{target} was destroyed at {row.destroyed_at}",
            namespace=namespace,
            name=name,
            version=row.version,
        )
    if row.state == "deleted":
        raise NotFoundError(
            f"{target} is deleted; restore it with `pxs secret undelete "
            f"{namespace}/{name} --version {row.version}`",
            namespace=namespace,
            name=name,
            version=row.version,
        )
    return secret, row


def apply_mark(
    tx: Tx, action: str, secret: SecretRow, rows: list[VersionRow], now: str, actor: str
) -> list[int]:
    """Change the state of versions; refuse what cannot be done."""
    target = f"{secret.namespace}/{secret.name}"
    destroyed = [r.version for r in rows if r.state == "destroyed"]
    if destroyed and action != "secret.destroy":
        raise ConflictError(
            f"version(s) {', '.join(map(str, destroyed))} of {target} are destroyed "
            "and cannot be deleted or restored",
            target=target,
        )

    if action == "secret.delete":
        chosen = [r.version for r in rows if r.state == "live"]
        secret_rows.set_deleted(tx, secret.id, chosen, now, actor)
    elif action == "secret.undelete":
        chosen = [r.version for r in rows if r.state == "deleted"]
        secret_rows.set_deleted(tx, secret.id, chosen, None, None)
    else:
        chosen = [r.version for r in rows if r.state != "destroyed"]
        secret_rows.destroy(tx, secret.id, chosen, now)
    return chosen


def same(previous: SecretVersion, data: Mapping[str, bytes], secret_type: str) -> bool:
    if previous.type != secret_type or set(previous.data) != set(data):
        return False
    return all(secret_equal(previous.data[k], data[k]) for k in data)


def info(
    namespace: str, name: str, row: VersionRow, keys: list[tuple[str, str]]
) -> VersionInfo:
    return VersionInfo(
        namespace,
        name,
        row.version,
        row.type,
        row.state,
        row.created_at,
        row.created_by,
        tuple(k for k, _ in keys),
        tuple(sorted({kid for _, kid in keys if kid})),
        row.deleted_at,
        row.destroyed_at,
    )


def info_of(version: SecretVersion, changed: bool) -> VersionInfo:
    return VersionInfo(
        version.namespace,
        version.name,
        version.version,
        version.type,
        "live",
        version.created_at,
        version.created_by,
        tuple(sorted(version.data)),
        tuple(sorted(set(version.kids.values()))),
        changed=changed,
    )
