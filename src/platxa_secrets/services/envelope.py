"""Encrypt single values for services that keep ciphertext in their own tables.

Platxa's Odoo models store credentials in their own columns. They use the
same keyring as the store through this facade:

    envelope = platxa_secrets.connect().envelope
    stored = envelope.encrypt(b"hunter2", "odoo/instance_credential/42/db_password")
    envelope.decrypt(stored, "odoo/instance_credential/42/db_password")  # b"hunter2"

The context names the row and column the value belongs to; decrypting
with another context fails, so a ciphertext copied to another row is
caught. A bare Fernet token written by older code still decrypts (if its
key was imported with `pxs keys import-legacy`); `needs_rewrap` tells the
caller to store the result of `rewrap` in its place.
"""

from __future__ import annotations

from platxa_secrets.core.crypto.keyring import Decrypted
from platxa_secrets.errors import ValidationError
from platxa_secrets.services.runtime import Runtime


class Envelope:
    """encrypt / decrypt / rewrap one value with a context."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def encrypt(self, value: bytes | str, context: str) -> str:
        """Encrypt under the active data key, bound to `context`."""
        return self._runtime.keyring().encrypt(_as_bytes(value), _check(context))

    def decrypt(self, ciphertext: str | bytes, context: str) -> bytes:
        """Decrypt a ciphertext written for `context` (or a legacy token)."""
        return self.open(ciphertext, context).value

    def open(self, ciphertext: str | bytes, context: str) -> Decrypted:
        """Decrypt and also say which key was used and whether it was legacy."""
        return self._runtime.keyring().decrypt(ciphertext, _check(context))

    def needs_rewrap(self, ciphertext: str | bytes, context: str) -> bool:
        """True when the value is legacy or not under the active key."""
        keyring = self._runtime.keyring()
        kid = keyring.kid_of(ciphertext, _check(context))
        return kid is None or kid != keyring.active_kid

    def rewrap(self, ciphertext: str | bytes, context: str) -> str:
        """Re-encrypt under the active key; legacy tokens gain the prefix."""
        return self.encrypt(self.decrypt(ciphertext, context), context)


def _as_bytes(value: bytes | str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise ValidationError(
        f"value must be bytes or str, not {type(value).__name__}", field="value"
    )


def _check(context: str) -> str:
    if not context or not context.isprintable():
        raise ValidationError(
            "context must be non-empty printable text naming what the value "
            "protects (for example 'odoo/instance_credential/42/db_password')",
            field="context",
        )
    return context
