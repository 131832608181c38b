"""The writes of the JWT key lifecycle: create, retire, destroy.

Each is one transaction with its audit events. A new key's private half
and its `jwt_keys` row are written together, so a failed rotation leaves
neither; destroying a key erases its private key and marks its row in
one step too. Retire and destroy are compare-and-set on the row, so
replicas running them at once change each row once.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

from platxa_secrets.clock import to_text
from platxa_secrets.core.crypto.jwk import KeyPair
from platxa_secrets.core.names import SYSTEM_NAMESPACE
from platxa_secrets.core.store import jwt_rows, secret_rows
from platxa_secrets.core.store.db import Tx
from platxa_secrets.core.store.jwt_rows import JwtKeyRow
from platxa_secrets.errors import ConflictError
from platxa_secrets.services._jwt_schedule import PENDING, PlannedKey, plan, signer
from platxa_secrets.services.audit import AuditLog, Outcome
from platxa_secrets.services.runtime import Runtime
from platxa_secrets.services.secret_models import OPAQUE, WriteRequest
from platxa_secrets.services.secrets import SecretService

PRIVATE_KEY = "private.pem"


@dataclass(frozen=True)
class JwtMaintenance:
    """What one `maintain` run changed."""

    retired: list[str] = field(default_factory=list)
    destroyed: list[str] = field(default_factory=list)


def secret_name(kid: str) -> str:
    """The secret holding `kid`'s private key.

    A kid (base64url) has capitals and `_`, which a secret name may not;
    its hex form is a valid name and maps back to exactly one kid.
    """
    raw = base64.urlsafe_b64decode(kid + "=" * (-len(kid) % 4))
    return f"jwt-{raw.hex()}"


class JwtLifecycle:
    """Writes JWT key rows and their private keys, audited."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._audit = AuditLog(runtime)
        self._secrets = SecretService(runtime)

    def create(self, pair: KeyPair) -> JwtKeyRow:
        """Store `pair`: signing at once if no key signs, else after the grace.

        Refused while another key is pending, so keys sign in the order
        they were made.
        """
        keyring = self._runtime.keyring()
        name = secret_name(pair.kid)
        request = WriteRequest(
            SYSTEM_NAMESPACE, name, {PRIVATE_KEY: pair.private_pem}, OPAQUE
        )
        config = self._runtime.config

        def work(tx: Tx, outcome: Outcome) -> JwtKeyRow:
            jwt_rows.lock_keys(tx)
            now = self._runtime.clock.now()
            planned = plan(jwt_rows.load_keys(tx), now, config.jwt_max_lifetime)
            pending = [p.row for p in planned if p.state == PENDING]
            if pending:
                raise ConflictError(
                    f"JWT key {pending[0].kid} is pending until "
                    f"{pending[0].signs_from}; rotate again once it signs",
                    kid=pending[0].kid,
                )

            signs_from = (
                now if signer(planned) is None else now + config.jwt_publish_grace
            )
            row = JwtKeyRow(
                pair.kid,
                pair.alg,
                json.dumps(pair.public_jwk, sort_keys=True),
                to_text(now),
                self._runtime.actor,
                to_text(signs_from),
            )
            child = Outcome(namespace=SYSTEM_NAMESPACE, name=name)
            self._secrets._write(tx, child, keyring, request, cas=0)
            outcome.children.append(child)
            jwt_rows.insert_key(tx, row)

            outcome.kid = pair.kid
            outcome.detail = f"{pair.alg}, signs from {row.signs_from}"
            return row

        return self._audit.run("jwt.rotate", None, None, work)

    def maintain(self, planned: list[PlannedKey]) -> JwtMaintenance:
        """Record due retirements, then destroy unpublished keys."""
        return JwtMaintenance(
            retired=[p.row.kid for p in planned if p.retire_due and self._retire(p)],
            destroyed=[
                p.row.kid for p in planned if p.destroy_due and self._destroy(p)
            ],
        )

    def _retire(self, key: PlannedKey) -> bool:
        assert key.retired_at is not None and key.unpublish_at is not None
        retired_at, unpublish_at = to_text(key.retired_at), to_text(key.unpublish_at)

        def work(tx: Tx, outcome: Outcome) -> bool:
            outcome.kid = key.row.kid
            if not jwt_rows.set_retired(tx, key.row.kid, retired_at, unpublish_at):
                outcome.detail = "already recorded by another process"
                return False
            outcome.detail = f"retired at {retired_at}, published until {unpublish_at}"
            return True

        return self._audit.run("jwt.retire", None, None, work)

    def _destroy(self, key: PlannedKey) -> bool:
        """Erase the private key of an unpublished JWT key, and mark its row."""
        kid, name = key.row.kid, secret_name(key.row.kid)

        def work(tx: Tx, outcome: Outcome) -> bool:
            outcome.kid = kid
            now = self._runtime.now()
            if not jwt_rows.set_destroyed(tx, kid, now):
                outcome.detail = "already destroyed by another process"
                return False

            secret = secret_rows.find_secret(tx, SYSTEM_NAMESPACE, name, lock=True)
            if secret is not None:
                versions = [
                    v.version
                    for v in secret_rows.list_versions(tx, secret.id)
                    if v.state != "destroyed"
                ]
                secret_rows.destroy(tx, secret.id, versions, now)
                outcome.children.append(
                    Outcome(
                        namespace=SYSTEM_NAMESPACE,
                        name=name,
                        key_names=(PRIVATE_KEY,),
                        detail=f"versions {','.join(map(str, versions))} destroyed",
                    )
                )
            outcome.detail = "unpublished; private key destroyed"
            return True

        return self._audit.run("jwt.destroy", None, None, work)
