"""The one exception hierarchy of Platxa Secrets.

Every failure the project raises on purpose derives from
`PlatxaSecretsError`. A message names the setting, field or object and
the rule that was broken; it never contains a secret value, token, key
or ciphertext. Context travels as attributes (`namespace`, `name`,
`version`, `kid`, `field`) so callers can react without parsing text.

Code that catches a third-party exception whose text could hold a value
(a YAML snippet, a decoding error) raises one of these `from None`, so
no chained exception carries the value either.

The CLI maps each family to an exit code (`exit_code`); the HTTP API
maps it to a status.
"""

from __future__ import annotations

from typing import Any


class PlatxaSecretsError(Exception):
    """Base of every deliberate Platxa Secrets failure."""

    exit_code = 1

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context
        for attribute, value in context.items():
            setattr(self, attribute, value)

    def __str__(self) -> str:
        return self.message


class ConfigError(PlatxaSecretsError):
    """A setting is missing, malformed or unsafe (master key, paths)."""

    exit_code = 78  # EX_CONFIG


class ValidationError(PlatxaSecretsError):
    """Caller input breaks a rule: a name, a key, a size, a manifest."""

    exit_code = 2


class NotFoundError(PlatxaSecretsError):
    """A secret, version or key does not exist (or is not visible)."""

    exit_code = 3


class ConflictError(PlatxaSecretsError):
    """The operation lost a race or contradicts the current state."""

    exit_code = 4


class CryptoError(PlatxaSecretsError):
    """A ciphertext cannot be decrypted: damaged, foreign or unkeyed."""

    exit_code = 5


class StoreError(PlatxaSecretsError):
    """The database is unreachable, uninitialised or at a wrong schema."""

    exit_code = 6


class UnsupportedError(PlatxaSecretsError):
    """A feature that this version does not have yet was asked for."""

    exit_code = 7


class AuthenticationError(PlatxaSecretsError):
    """A credential is missing, malformed, unknown, expired or revoked.

    Toward the caller the message stays "invalid token" whatever the
    cause, so nobody learns which check failed; `reason` (an attribute,
    for logs and the audit trail) says which one did.
    """

    exit_code = 77  # EX_NOPERM


class PermissionDeniedError(PlatxaSecretsError):
    """A valid credential whose scopes do not cover the operation."""

    exit_code = 77
