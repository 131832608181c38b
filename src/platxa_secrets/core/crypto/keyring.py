"""The keyring: data keys by key id, one writes, the others read.

Modelled on `MultiFernet` (the active key encrypts, older keys still
decrypt) with one difference that matters at scale: a `pxs1` ciphertext
names its key, so decryption is one dictionary lookup whatever the
number of keys, instead of trying each key in turn.

Data keys are stored wrapped by a master key and are unwrapped lazily,
the first time a ciphertext needs them, so a process that reads one
secret unwraps one key.

Key states and what they may do (DESIGN §4):

| state     | encrypts | decrypts |
|-----------|----------|----------|
| pending   | no       | yes      |
| active    | yes      | yes      |
| retired   | no       | yes      |
| destroyed | no       | no       |

Legacy keys (imported from older code) are `retired` from birth: they
only ever decrypt bare Fernet tokens.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken

from platxa_secrets.core.crypto.ciphertext import (
    format_ciphertext,
    frame,
    parse_unverified,
    unframe,
)
from platxa_secrets.core.crypto.master import MasterKeys
from platxa_secrets.errors import CryptoError

PENDING, ACTIVE, RETIRED, DESTROYED = "pending", "active", "retired", "destroyed"
DECRYPT_STATES = frozenset({PENDING, ACTIVE, RETIRED})
ORIGIN_GENERATED, ORIGIN_LEGACY = "generated", "legacy"


@dataclass(frozen=True)
class KeyRecord:
    """One data key as stored: wrapped, with its lifecycle facts."""

    kid: str
    state: str
    origin: str
    master_kid: str
    wrapped_key: str = field(repr=False)
    created_at: str = ""
    created_by: str = ""
    activates_at: str | None = None
    activated_at: str | None = None
    retired_at: str | None = None
    destroyed_at: str | None = None
    activated_by: str | None = None
    retired_by: str | None = None
    destroyed_by: str | None = None


@dataclass(frozen=True)
class Decrypted:
    """A decrypted value with where it came from; the value stays out of repr."""

    value: bytes = field(repr=False)
    kid: str
    legacy: bool


class Keyring:
    """Encrypts with the active data key; decrypts by key id."""

    def __init__(self, records: Iterable[KeyRecord], master: MasterKeys) -> None:
        self._records = {record.kid: record for record in records}
        self._master = master
        self._fernets: dict[str, Fernet] = {}
        active = [r.kid for r in self._records.values() if r.state == ACTIVE]
        if len(active) > 1:
            raise CryptoError(
                f"keyring has {len(active)} active keys ({', '.join(active)}); "
                "exactly one may be active",
            )
        self.active_kid: str | None = active[0] if active else None

    def __repr__(self) -> str:
        return f"Keyring(active={self.active_kid!r}, keys={sorted(self._records)})"

    @property
    def records(self) -> list[KeyRecord]:
        return list(self._records.values())

    def encrypt(self, value: bytes, context: str) -> str:
        """Encrypt `value` bound to `context` under the active key."""
        if self.active_kid is None:
            raise CryptoError(
                "keyring has no active data key; run `pxs init` (or `pxs keys "
                "maintain` if a pending key is due)"
            )

        token = self._fernet(self.active_kid).encrypt(frame(context, value))
        return format_ciphertext(self.active_kid, token)

    def decrypt(
        self, ciphertext: str | bytes, context: str, target: str | None = None
    ) -> Decrypted:
        """Decrypt and check the binding; bare legacy tokens are flagged.

        `target` names the object for messages (defaults to `context`).
        """
        target = target or context
        parsed = parse_unverified(ciphertext, target)
        if parsed.kid is None:
            return self._decrypt_legacy(parsed.token, context, target)

        plaintext = self._open(parsed.kid, parsed.token, target)
        return Decrypted(unframe(plaintext, context, target), parsed.kid, False)

    def check_unwraps(self, kid: str) -> None:
        """Raise unless the master keys can unwrap data key `kid`."""
        self._fernet(kid)

    def rewrap(self, ciphertext: str | bytes, context: str, target: str) -> str:
        """Decrypt and encrypt under the active key, for re-encryption.

        The same checks as `decrypt`; the authenticated frame, once its
        binding is checked, is encrypted again as it is.
        """
        parsed = parse_unverified(ciphertext, target)
        if parsed.kid is None or self.active_kid is None:
            value = self.decrypt(ciphertext, context, target).value
            return self.encrypt(value, context)

        plaintext = self._open(parsed.kid, parsed.token, target)
        unframe(plaintext, context, target)  # raises unless bound to `context`
        token = self._fernet(self.active_kid).encrypt(plaintext)
        return format_ciphertext(self.active_kid, token)

    def knows(self, kid: str) -> bool:
        return kid in self._records

    def kid_of(self, ciphertext: str | bytes, target: str) -> str | None:
        """The key id a ciphertext names (None for legacy), shape-checked."""
        return parse_unverified(ciphertext, target).kid

    def _open(self, kid: str, token: bytes, target: str) -> bytes:
        """Authenticate and decrypt a token under key `kid`."""
        fernet = self._fernet_for_decrypt(kid, target)
        try:
            return fernet.decrypt(token)
        except InvalidToken:
            raise CryptoError(
                f"ciphertext of {target} fails authentication under key "
                f"{kid}: it was altered or encrypted elsewhere",
                target=target,
                kid=kid,
            ) from None

    def _decrypt_legacy(self, token: bytes, context: str, target: str) -> Decrypted:
        """Try every key that may decrypt, legacy keys first.

        A legacy key holds the bare value. A generated key can only have
        made this token if someone stripped the `pxs1:` prefix, so its
        plaintext must still carry the right binding.
        """
        candidates = sorted(
            (r for r in self._records.values() if r.state in DECRYPT_STATES),
            key=lambda r: r.origin != ORIGIN_LEGACY,
        )
        for record in candidates:
            try:
                value = self._fernet(record.kid).decrypt(token)
            except InvalidToken:
                continue
            if record.origin != ORIGIN_LEGACY:
                value = unframe(value, context, target)
            return Decrypted(value, record.kid, True)

        raise CryptoError(
            f"legacy ciphertext of {target} decrypts under none of the "
            f"{len(candidates)} usable keys; import the old key with "
            "`pxs keys import-legacy`",
            target=target,
        )

    def _fernet_for_decrypt(self, kid: str, target: str) -> Fernet:
        record = self._records.get(kid)
        if record is None:
            raise CryptoError(
                f"ciphertext of {target} names key {kid}, which this keyring does "
                "not know",
                target=target,
                kid=kid,
            )
        if record.state not in DECRYPT_STATES:
            raise CryptoError(
                f"ciphertext of {target} names key {kid}, which is {record.state}",
                target=target,
                kid=kid,
            )
        return self._fernet(kid)

    def _fernet(self, kid: str) -> Fernet:
        fernet = self._fernets.get(kid)
        if fernet is None:
            record = self._records[kid]
            key = self._master.unwrap(record.master_kid, record.wrapped_key, kid)
            fernet = self._fernets[kid] = Fernet(key)
        return fernet
