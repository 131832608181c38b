"""Credential generators: passwords, tokens, DNS tokens, Fernet keys.

Every value comes from the `secrets` module, so it is drawn from the
operating system's CSPRNG; nothing here seeds or reuses a generator.
Each function checks its arguments before drawing and raises a
`ValidationError` naming the argument, never a generated value.

Templates and the CLI name a generator by a spec such as
`password(length=32)`; that language lives in `generator_spec`, and
its `Generator` and `parse_generator` are re-exported here.
"""

from __future__ import annotations

import base64
import re
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from platxa_secrets.errors import ValidationError

if TYPE_CHECKING:
    from platxa_secrets.services.generator_spec import Generator as Generator
    from platxa_secrets.services.generator_spec import Value as Value
    from platxa_secrets.services.generator_spec import (
        parse_generator as parse_generator,
    )

MAX_PASSWORD_LENGTH = 4096
MAX_TOKEN_BYTES = 1024
MAX_TXT_STRING = 255

# Unreserved in URLs (RFC 3986), allowed in a DSN's userinfo, and inert
# in a POSIX shell word: no quoting, expansion or globbing is triggered.
DEFAULT_SYMBOLS = "-_.+=,"

CLASSES: dict[str, str] = {
    "lower": string.ascii_lowercase,
    "upper": string.ascii_uppercase,
    "digits": string.digits,
    "symbols": DEFAULT_SYMBOLS,
}
DEFAULT_CLASSES = ("lower", "upper", "digits", "symbols")

_DNS_PREFIX_RE = re.compile(r"[a-z0-9_]([-a-z0-9_]*[a-z0-9])?")
_MAX_DNS_PREFIX = 63

_SPEC_NAMES = frozenset({"Generator", "Value", "parse_generator"})


@dataclass(frozen=True)
class _PasswordPolicy:
    """A checked password request: one pool of characters per class."""

    length: int
    pools: tuple[str, ...]
    require_each: bool


def _check_int(value: int, what: str, low: int, high: int) -> int:
    """Return `value` if it is an int within [low, high], else raise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{what} must be an integer", field=what)

    if not low <= value <= high:
        raise ValidationError(
            f"{what} must be {low} to {high}, got {value}", field=what
        )
    return value


def _class_names(classes: Sequence[str] | str) -> tuple[str, ...]:
    """Read the class list, accepting "lower,upper" as well as a list.

    A plain string is a sequence of characters too; splitting it on
    commas keeps `classes="lower"` from becoming five unknown classes.
    """
    parts = classes.split(",") if isinstance(classes, str) else list(classes)
    names = tuple(dict.fromkeys(part.strip() for part in parts if part.strip()))
    if not names:
        raise ValidationError(
            "password classes must name at least one class", field="password classes"
        )

    unknown = [name for name in names if name not in CLASSES]
    if unknown:
        raise ValidationError(
            f"password classes {', '.join(map(repr, unknown))} unknown; "
            f"known classes are {', '.join(CLASSES)}",
            field="password classes",
        )
    return names


def _check_symbols(symbols: str) -> str:
    """Return the symbol alphabet without repeats, or raise.

    Letters, digits or spaces in the alphabet would bias the draw toward
    them or produce values that break unquoted, so only ASCII
    punctuation is accepted.
    """
    stray = [char for char in symbols if char not in string.punctuation]
    if stray:
        raise ValidationError(
            "password symbols may contain only ASCII punctuation",
            field="password symbols",
        )
    return "".join(dict.fromkeys(symbols))


def _password_policy(
    length: int,
    classes: Sequence[str] | str,
    require_each: bool,
    exclude: str,
    symbols: str,
) -> _PasswordPolicy:
    """Check a password request and build the pools it draws from."""
    _check_int(length, "password length", 1, MAX_PASSWORD_LENGTH)

    names = _class_names(classes)
    alphabets = {**CLASSES, "symbols": _check_symbols(symbols)}

    pools = []
    for name in names:
        if not alphabets[name]:
            raise ValidationError(
                "password symbols is empty but class 'symbols' is requested",
                field="password symbols",
            )

        pool = "".join(char for char in alphabets[name] if char not in exclude)
        if not pool:
            raise ValidationError(
                f"password exclude leaves no character of class {name!r}",
                field="password exclude",
            )
        pools.append(pool)

    if require_each and length < len(pools):
        raise ValidationError(
            f"password length {length} is shorter than the {len(pools)} "
            "classes that must each appear",
            field="password length",
        )
    return _PasswordPolicy(length, tuple(pools), bool(require_each))


def _draw_password(policy: _PasswordPolicy) -> str:
    """Draw a password: one character per class if required, then fill."""
    chars: list[str] = []
    if policy.require_each:
        chars = [secrets.choice(pool) for pool in policy.pools]

    union = "".join(policy.pools)
    chars += [secrets.choice(union) for _ in range(policy.length - len(chars))]

    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def generate_password(
    length: int = 32,
    classes: Sequence[str] = DEFAULT_CLASSES,
    require_each: bool = True,
    exclude: str = "",
    symbols: str = DEFAULT_SYMBOLS,
) -> str:
    """Return a random password built from the requested character classes.

    With `require_each`, every class appears at least once, which is what
    most password policies demand; the required characters are shuffled
    into the rest so their positions carry no pattern. `exclude` removes
    look-alikes (O0Il1) or characters a consumer cannot take.
    """
    policy = _password_policy(length, classes, require_each, exclude, symbols)
    return _draw_password(policy)


def generate_hex(nbytes: int = 32) -> str:
    """Return `nbytes` of entropy as lower-case hex (2 characters a byte)."""
    return secrets.token_hex(_check_int(nbytes, "hex bytes", 1, MAX_TOKEN_BYTES))


def generate_urlsafe(nbytes: int = 32) -> str:
    """Return `nbytes` of entropy as unpadded URL-safe base64."""
    nbytes = _check_int(nbytes, "urlsafe bytes", 1, MAX_TOKEN_BYTES)
    return secrets.token_urlsafe(nbytes)


def _check_dns_token(prefix: str, nbytes: int) -> None:
    """Raise unless `prefix=<token>` fits one DNS TXT character-string."""
    if len(prefix) > _MAX_DNS_PREFIX or not _DNS_PREFIX_RE.fullmatch(prefix):
        raise ValidationError(
            "dns-token prefix must be a DNS label of at most 63 characters: "
            "lower-case letters, digits, '-' and '_', ending with a letter or digit",
            field="dns-token prefix",
        )

    _check_int(nbytes, "dns-token bytes", 1, MAX_TOKEN_BYTES)
    size = len(prefix) + 1 + -(-nbytes * 8 // 5)
    if size > MAX_TXT_STRING:
        raise ValidationError(
            f"dns-token would be {size} characters; a DNS TXT string holds "
            f"at most {MAX_TXT_STRING}",
            field="dns-token bytes",
        )


def generate_dns_token(prefix: str = "platxa-verification", nbytes: int = 20) -> str:
    """Return `prefix=<token>` for a DNS TXT ownership check.

    The token is lower-case base32 without padding: DNS names and many
    resolvers fold case, and '=' padding would blur the separator.
    """
    _check_dns_token(prefix, nbytes)

    raw = base64.b32encode(secrets.token_bytes(nbytes)).decode("ascii")
    return f"{prefix}={raw.rstrip('=').lower()}"


def generate_fernet_key() -> str:
    """Return a new Fernet key (32 random bytes, URL-safe base64)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def __getattr__(name: str) -> object:
    """Serve the spec language's names, importing it on first use.

    `generator_spec` builds on this module, so it cannot be imported
    at the top; resolving its names lazily keeps older imports of
    `parse_generator` and `Generator` from here working.
    """
    if name in _SPEC_NAMES:
        from platxa_secrets.services import generator_spec

        return getattr(generator_spec, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
