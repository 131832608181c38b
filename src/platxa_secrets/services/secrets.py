"""Secrets: versioned maps of key → bytes, encrypted under the keyring.

Every write makes a new version; reads take a version (default: the
newest). A write may carry check-and-set (`cas`): 0 means "only if the
secret does not exist", N means "only if the newest version is N".
Delete is soft and reversible; destroy clears the ciphertexts of the
versions it names for good. Versions beyond `max_versions` are pruned.

Each value is encrypted bound to `namespace/name/version/key`, so a
ciphertext moved to another row no longer decrypts.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping, Sequence

from platxa_secrets.core import names
from platxa_secrets.core.crypto.keyring import ACTIVE, Keyring
from platxa_secrets.core.secret_types import check_type_rules
from platxa_secrets.core.store import key_rows, secret_rows
from platxa_secrets.core.store.db import Tx
from platxa_secrets.core.store.secret_rows import SecretRow, ValueRow, VersionRow
from platxa_secrets.errors import NotFoundError, ValidationError
from platxa_secrets.services import _secret_rules as rules
from platxa_secrets.services.audit import AuditLog, Outcome
from platxa_secrets.services.runtime import Runtime
from platxa_secrets.services.secret_models import (
    MAX_VERSION,
    OPAQUE,
    SecretVersion,
    VersionInfo,
    WriteRequest,
    value_context,
)

__all__ = [
    "OPAQUE",
    "SecretService",
    "SecretVersion",
    "VersionInfo",
    "WriteRequest",
    "value_context",
]


class SecretService:
    """Create, read, version, delete and destroy secrets."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._audit = AuditLog(runtime)

    # -- writes ------------------------------------------------------------

    def put(
        self,
        namespace: str,
        name: str,
        data: Mapping[str, bytes],
        *,
        secret_type: str | None = None,
        cas: int | None = None,
        replace: bool = False,
        remove: Iterable[str] = (),
        skip_unchanged: bool = False,
    ) -> VersionInfo:
        """Write a new version of `namespace/name`.

        Without `replace` the given keys are merged onto the newest live
        version; `remove` drops keys. With `skip_unchanged`, a write that
        would store the same type and values is not made (import and
        provisioning are then idempotent).
        """
        rules.check_request(WriteRequest(namespace, name, data, secret_type))
        names.refuse_reserved(namespace)
        for key in remove:
            names.check_key(key)
        if cas is not None and (rules.not_int(cas) or not 0 <= cas <= MAX_VERSION):
            raise ValidationError("cas must be 0 or a version number", field="cas")

        keyring = self._runtime.keyring()

        def work(tx: Tx, outcome: Outcome) -> VersionInfo:
            return self._write(
                tx,
                outcome,
                keyring,
                WriteRequest(namespace, name, dict(data), secret_type, replace),
                cas=cas,
                remove=tuple(remove),
                skip_unchanged=skip_unchanged,
            )

        return self._audit.run("secret.write", namespace, name, work)

    def put_many(
        self, requests: Sequence[WriteRequest], action: str = "secret.import"
    ) -> builtins.list[VersionInfo]:
        """Write several secrets in one transaction: all or nothing."""
        for request in requests:
            rules.check_request(request)
            names.refuse_reserved(request.namespace)
        keyring = self._runtime.keyring()

        def work(tx: Tx, outcome: Outcome) -> builtins.list[VersionInfo]:
            written = []
            for request in requests:
                child = Outcome(namespace=request.namespace, name=request.name)
                written.append(
                    self._write(tx, child, keyring, request, skip_unchanged=True)
                )
                outcome.children.append(child)
            outcome.detail = (
                f"{sum(w.changed for w in written)} of {len(written)} secrets written"
            )
            outcome.key_names = sorted({k for w in written for k in w.keys})
            return written

        namespaces = {r.namespace for r in requests}
        namespace = namespaces.pop() if len(namespaces) == 1 else None
        return self._audit.run(action, namespace, None, work)

    def update(
        self,
        namespace: str,
        name: str,
        change: Callable[[SecretVersion | None], WriteRequest],
        action: str = "secret.write",
    ) -> VersionInfo:
        """Read the newest live version, let `change` compute the next, write.

        Read and write happen in one transaction, so nothing can slip in
        between; an unchanged result writes no version.
        """
        rules.check_identity(namespace, name)
        names.refuse_reserved(namespace)
        keyring = self._runtime.keyring()

        def work(tx: Tx, outcome: Outcome) -> VersionInfo:
            secret = secret_rows.find_secret(tx, namespace, name, lock=True)
            request = change(self._previous(tx, keyring, secret))
            return self._write(tx, outcome, keyring, request, skip_unchanged=True)

        return self._audit.run(action, namespace, name, work)

    def _write(
        self,
        tx: Tx,
        outcome: Outcome,
        keyring: Keyring,
        request: WriteRequest,
        *,
        cas: int | None = None,
        remove: tuple[str, ...] = (),
        skip_unchanged: bool = False,
    ) -> VersionInfo:
        namespace, name = request.namespace, request.name
        target = f"{namespace}/{name}"
        secret = secret_rows.find_secret(tx, namespace, name, lock=True)
        current = secret.current_version if secret else 0
        rules.check_cas(cas, current, target)

        previous = self._previous(tx, keyring, secret)
        data = {} if request.replace or previous is None else dict(previous.data)
        data.update(request.data)
        for key in remove:
            if key not in data:
                raise NotFoundError(f"{target} has no key {key!r} to remove", key=key)
            del data[key]

        secret_type = request.type or (previous.type if previous else OPAQUE)
        names.check_size(data, target)
        check_type_rules(secret_type, data, target)
        outcome.key_names = sorted(data)

        if (
            skip_unchanged
            and previous is not None
            and previous.version == current  # else the newest is deleted
            and rules.same(previous, data, secret_type)
        ):
            outcome.version = current
            outcome.detail = "unchanged"
            return rules.info_of(previous, changed=False)

        if secret is None:
            secret = secret_rows.create_secret(tx, namespace, name, self._runtime.now())
        keyring = self._writing_keyring(tx, keyring)
        version = current + 1
        values = [
            ValueRow(
                key,
                keyring.active_kid,
                keyring.encrypt(value, value_context(namespace, name, version, key)),
            )
            for key, value in sorted(data.items())
        ]
        now = self._runtime.now()
        secret_rows.add_version(
            tx, secret, version, secret_type, values, now, self._runtime.actor
        )
        secret_rows.prune(
            tx, secret.id, version - self._runtime.config.max_versions + 1
        )

        outcome.version, outcome.kid = version, keyring.active_kid
        return VersionInfo(
            namespace,
            name,
            version,
            secret_type,
            "live",
            now,
            self._runtime.actor,
            tuple(sorted(data)),
            (keyring.active_kid or "",),
        )

    def _writing_keyring(self, tx: Tx, keyring: Keyring) -> Keyring:
        """The keyring to encrypt with, its active key confirmed in this write.

        A replica's cached keyring may be up to `keyring_refresh` old; if
        its active key has meanwhile been retired (or destroyed), the
        keyring is reloaded inside the transaction, so a write is never
        stored under a key that is no longer active.
        """
        kid = keyring.active_kid
        if kid is not None and key_rows.active_state(tx, kid) == ACTIVE:
            return keyring
        return self._runtime.keyring_in(tx)

    def _previous(
        self, tx: Tx, keyring: Keyring, secret: SecretRow | None
    ) -> SecretVersion | None:
        """The newest live version, decrypted; None if there is none.

        Soft-deleting the newest version must not make the next write (or a
        re-provisioning) forget the values of the live version below it.
        """
        if secret is None:
            return None
        live = [
            r for r in secret_rows.list_versions(tx, secret.id) if r.state == "live"
        ]
        if not live:
            return None
        return self._decrypt(tx, keyring, secret, live[-1])

    # -- reads -------------------------------------------------------------

    def get(
        self, namespace: str, name: str, version: int | None = None
    ) -> SecretVersion:
        """Decrypt one version (default: the newest); the read is audited."""
        rules.check_identity(namespace, name)
        rules.check_version(version)
        keyring = self._runtime.keyring()

        def work(tx: Tx, outcome: Outcome) -> SecretVersion:
            secret, row = rules.readable(tx, namespace, name, version)
            outcome.version = row.version
            result = self._decrypt(tx, keyring, secret, row)
            outcome.key_names = sorted(result.data)
            outcome.kid = ",".join(sorted(set(result.kids.values()))) or None
            return result

        return self._audit.run("secret.read", namespace, name, work)

    def history(self, namespace: str, name: str) -> builtins.list[VersionInfo]:
        """Every kept version, oldest first, without values."""
        rules.check_identity(namespace, name)
        self._runtime.ready()
        with self._runtime.database.read() as tx:
            secret = rules.existing(tx, namespace, name)
            keys = secret_rows.key_names_by_version(tx, secret.id)
            return [
                rules.info(namespace, name, row, keys.get(row.version, []))
                for row in secret_rows.list_versions(tx, secret.id)
            ]

    def list(self, namespace: str | None = None) -> builtins.list[VersionInfo]:
        """The newest version of every secret (in one namespace)."""
        if namespace is not None:
            names.check_namespace(namespace)
        self._runtime.ready()
        with self._runtime.database.read() as tx:
            keys = secret_rows.current_keys(tx, namespace)
            return [
                rules.info(secret.namespace, secret.name, row, keys.get(secret.id, []))
                for secret, row in secret_rows.list_secrets(tx, namespace)
            ]

    # -- lifecycle ---------------------------------------------------------

    def delete(
        self, namespace: str, name: str, versions: Sequence[int] = ()
    ) -> builtins.list[int]:
        """Soft-delete versions (default: the newest); undo with `undelete`."""
        return self._mark("secret.delete", namespace, name, versions)

    def undelete(
        self, namespace: str, name: str, versions: Sequence[int] = ()
    ) -> builtins.list[int]:
        """Restore soft-deleted versions (default: the newest)."""
        return self._mark("secret.undelete", namespace, name, versions)

    def destroy(
        self, namespace: str, name: str, versions: Sequence[int] = ()
    ) -> builtins.list[int]:
        """Erase the ciphertexts of versions (default: the newest) for good."""
        return self._mark("secret.destroy", namespace, name, versions)

    def _mark(
        self, action: str, namespace: str, name: str, versions: Sequence[int]
    ) -> builtins.list[int]:
        rules.check_identity(namespace, name)
        names.refuse_reserved(namespace)
        self._runtime.ready()

        def work(tx: Tx, outcome: Outcome) -> builtins.list[int]:
            secret = rules.existing(tx, namespace, name, lock=True)
            chosen = rules.check_versions(versions) or [secret.current_version]
            rows = [rules.version_row(tx, secret, v) for v in chosen]
            now, actor = self._runtime.now(), self._runtime.actor
            changed = rules.apply_mark(tx, action, secret, rows, now, actor)
            outcome.version = chosen[-1]
            outcome.detail = f"versions {','.join(map(str, chosen))}"
            return changed

        return self._audit.run(action, namespace, name, work)

    # -- decryption ----------------------------------------------------------

    def _decrypt(
        self, tx: Tx, keyring: Keyring, secret: SecretRow, row: VersionRow
    ) -> SecretVersion:
        data: dict[str, bytes] = {}
        kids: dict[str, str] = {}
        legacy: list[str] = []
        for value in secret_rows.get_values(tx, secret.id, row.version):
            if value.kid is not None and not keyring.knows(value.kid):
                keyring = self._runtime.keyring_for(value.kid)
            context = value_context(
                secret.namespace, secret.name, row.version, value.key
            )
            target = f"{secret.namespace}/{secret.name} v{row.version} key {value.key}"
            decrypted = keyring.decrypt(value.ciphertext or "", context, target)
            data[value.key] = decrypted.value
            kids[value.key] = decrypted.kid
            if decrypted.legacy:
                legacy.append(value.key)
        return SecretVersion(
            secret.namespace,
            secret.name,
            row.version,
            row.type,
            row.created_at,
            row.created_by,
            data,
            kids,
            tuple(legacy),
        )
