"""What an API token may do: scopes and the principal that holds them.

A scope is `<namespace-pattern>:<level>`:

    tenant-*:read        read secrets in every namespace starting "tenant-"
    tenant-acme:write    read and write secrets in tenant-acme
    *:admin              everything, including keys, tokens and JWT keys
    jwt:sign             sign JWTs (verification needs no scope)
    webhook:alertmanager post to the webhook receiver "alertmanager"

Levels nest: admin covers write, write covers read. A pattern is a
namespace name in which `*` stands for any run of characters; `*`
alone matches every namespace. Operations on the whole store (keys,
census, rotation) need the `*` pattern at admin level. No scope, not
even `*:admin`, reaches the reserved namespace `platxa-system`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass

from platxa_secrets.core.names import RESERVED_NAMESPACES
from platxa_secrets.errors import PermissionDeniedError, ValidationError

LEVELS = ("read", "write", "admin")
_RANK = {level: rank for rank, level in enumerate(LEVELS)}
_PATTERN_RE = re.compile(r"[a-z0-9*]([a-z0-9*-]{0,61}[a-z0-9*])?")
_RECEIVER_RE = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_SHOWABLE_RE = re.compile(r"[a-z0-9*:-]{1,80}")
JWT_SIGN = "jwt:sign"
WEBHOOK = "webhook"


@dataclass(frozen=True)
class Scope:
    """One grant: a namespace pattern at a level, or a named capability."""

    pattern: str
    level: str

    def __str__(self) -> str:
        return f"{self.pattern}:{self.level}"

    def covers(self, namespace: str, level: str) -> bool:
        if namespace in RESERVED_NAMESPACES:
            return False  # the service's own keys: no token reaches them
        if self.level not in _RANK:
            return False
        if _RANK[self.level] < _RANK[level]:
            return False
        return fnmatch.fnmatchcase(namespace, self.pattern)

    @property
    def is_global_admin(self) -> bool:
        return self.pattern == "*" and self.level == "admin"


def _shown(text: str) -> str:
    """The scope for a message, only if it is made of scope characters.

    Anything else is likely a value pasted in the wrong place, so it is
    described, not echoed.
    """
    if _SHOWABLE_RE.fullmatch(text):
        return repr(text)
    return f"of {len(text)} characters"


def parse_scope(text: str) -> Scope:
    """Parse `pattern:level`, `jwt:sign` or `webhook:<receiver>`."""
    pattern, colon, level = text.strip().partition(":")
    if not colon or not pattern or not level:
        raise ValidationError(
            f"scope {_shown(text)} must look like 'tenant-*:read' "
            "(namespace pattern ':' read, write or admin), 'jwt:sign' or "
            "'webhook:<receiver>'",
            field="scope",
        )

    if f"{pattern}:{level}" == JWT_SIGN:
        return Scope(pattern, level)

    if pattern == WEBHOOK and level not in _RANK:
        if not _RECEIVER_RE.fullmatch(level):
            raise ValidationError(
                f"webhook receiver {_shown(level)} must be an RFC 1123 label",
                field="scope",
            )
        return Scope(pattern, level)

    if level not in _RANK:
        raise ValidationError(
            f"scope {_shown(text)} has level {_shown(level)}; the levels are "
            "read, write and admin",
            field="scope",
        )
    if pattern in RESERVED_NAMESPACES:
        raise ValidationError(
            f"scope {_shown(text)} names the reserved namespace {pattern}, "
            "which no token can reach",
            field="scope",
        )
    if not _PATTERN_RE.fullmatch(pattern):
        raise ValidationError(
            f"scope {_shown(text)}: the namespace pattern may hold lower-case "
            "letters, digits, '-' and '*', at most 63 characters",
            field="scope",
        )
    return Scope(pattern, level)


def parse_scopes(texts: Iterable[str]) -> tuple[Scope, ...]:
    """Parse and de-duplicate; at least one scope is required."""
    scopes = tuple(dict.fromkeys(parse_scope(text) for text in texts))
    if not scopes:
        raise ValidationError("a token needs at least one --scope", field="scope")
    return scopes


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a token id (the audit actor) and scopes."""

    token_id: str
    name: str
    scopes: tuple[Scope, ...]

    @property
    def actor(self) -> str:
        return f"token:{self.token_id}"

    def allows(self, namespace: str, level: str) -> bool:
        return any(scope.covers(namespace, level) for scope in self.scopes)

    def require(self, namespace: str, level: str) -> None:
        """Raise PermissionDeniedError unless a scope covers `namespace`."""
        if not self.allows(namespace, level):
            raise PermissionDeniedError(
                f"token {self.token_id} has no scope allowing {level} on "
                f"namespace {namespace}",
                token_id=self.token_id,
            )

    def require_admin(self) -> None:
        """Whole-store operations: keys, census, rotation, tokens."""
        if not any(scope.is_global_admin for scope in self.scopes):
            raise PermissionDeniedError(
                f"token {self.token_id} needs scope '*:admin'",
                token_id=self.token_id,
            )

    def require_capability(self, capability: str) -> None:
        """`jwt:sign` or `webhook:<receiver>`; `*:admin` covers jwt:sign."""
        granted = any(str(scope) == capability for scope in self.scopes)
        admin = capability == JWT_SIGN and any(
            scope.is_global_admin for scope in self.scopes
        )
        if not (granted or admin):
            raise PermissionDeniedError(
                f"token {self.token_id} needs scope {capability!r}",
                token_id=self.token_id,
            )
