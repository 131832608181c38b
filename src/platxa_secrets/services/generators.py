"""Credential generators and the small language that names them.

Every value comes from the `secrets` module, so it is drawn from the
operating system's CSPRNG; nothing here seeds or reuses a generator.

Templates and the CLI name a generator by a *spec*, a call written with
keyword arguments only:

    password()
    password(length=24, classes="lower,upper,digits", exclude="O0Il1")
    hex(bytes=32)             urlsafe(bytes=16)
    dns-token(prefix="x")     fernet-key()

A value is an integer, a "double" or 'single' quoted string (no
escapes), or a bare word; `true` and `false` are the booleans that
`require_each` takes. Specs are parsed by hand and checked in full when
parsed, so a template with a bad spec fails when it is loaded, not on
the first provisioning. Error messages quote the spec and the broken
rule, never a generated value.
"""

from __future__ import annotations

import base64
import re
import secrets
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from platxa_secrets.errors import ValidationError

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


# --- the spec language ---------------------------------------------------

Value = int | str | bool

# Argument name -> type, in the order a normalised spec lists them.
_SIGNATURES: dict[str, dict[str, type]] = {
    "password": {
        "length": int,
        "classes": str,
        "require_each": bool,
        "exclude": str,
        "symbols": str,
    },
    "hex": {"bytes": int},
    "urlsafe": {"bytes": int},
    "dns-token": {"prefix": str, "bytes": int},
    "fernet-key": {},
}

_CALL_RE = re.compile(r"\s*([a-z][a-z0-9-]*)\s*\(\s*")
_ARG_RE = re.compile(
    r"""([a-z_][a-z0-9_]*)\s*=\s*
        (?: (-?[0-9]+) | "([^"]*)" | '([^']*)' | ([A-Za-z_][-A-Za-z0-9_.]*) )
        \s*""",
    re.VERBOSE,
)
_SEPARATOR_RE = re.compile(r"([,)])\s*")


@dataclass(frozen=True)
class Generator:
    """A parsed, checked generator spec; `generate()` draws a new value.

    `spec` is the normalised text, so two spellings of one request
    compare equal and a spec can be written back to a template.
    """

    spec: str
    kind: str
    draw: Callable[[], str] = field(repr=False, compare=False)

    def generate(self) -> str:
        """Return a fresh value; each call draws anew."""
        return self.draw()


def _shown(spec: str) -> str:
    """Quote a spec for a message, cut short if it is long."""
    return repr(spec) if len(spec) <= 80 else repr(spec[:40] + "…")


def _spec_error(spec: str, rule: str) -> ValidationError:
    """Build the one error shape for every spec problem."""
    return ValidationError(f"generator {_shown(spec)}: {rule}", field="generator")


def _convert(spec: str, name: str, match: re.Match[str], kind: type) -> Value:
    """Turn a matched argument value into the type the argument takes."""
    number, double, single, word = match.group(2, 3, 4, 5)
    if kind is int:
        if number is None:
            raise _spec_error(spec, f"argument {name} takes an integer")
        if len(number.lstrip("-+")) > 9:
            raise _spec_error(spec, f"argument {name} is far too large")
        return int(number)

    if kind is bool:
        if word not in ("true", "false"):
            raise _spec_error(spec, f"argument {name} takes true or false")
        return word == "true"

    return next(part for part in (number, double, single, word) if part is not None)


def _parse_args(spec: str, kind: str, pos: int) -> tuple[dict[str, Value], int]:
    """Read `name=value` pairs up to ')'; return them and where they end."""
    signature = _SIGNATURES[kind]
    args: dict[str, Value] = {}
    if spec.startswith(")", pos):
        return args, pos + 1

    while True:
        match = _ARG_RE.match(spec, pos)
        if match is None:
            raise _spec_error(spec, f"expected name=value at column {pos + 1}")

        name = match.group(1)
        if name not in signature:
            known = ", ".join(signature) or "none"
            raise _spec_error(
                spec, f"{kind} has no argument {name!r} (arguments: {known})"
            )
        if name in args:
            raise _spec_error(spec, f"argument {name} is given twice")
        args[name] = _convert(spec, name, match, signature[name])

        separator = _SEPARATOR_RE.match(spec, match.end())
        if separator is None:
            raise _spec_error(spec, f"expected ',' or ')' at column {match.end() + 1}")
        pos = separator.end()
        if separator.group(1) == ")":
            return args, pos


def _quote(value: Value) -> str:
    """Write a value back in the spec language."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return f"'{value}'" if '"' in value else f'"{value}"'


def _normalise(kind: str, args: dict[str, Value]) -> str:
    """Render a spec in canonical order, spacing and quoting."""
    ordered = [name for name in _SIGNATURES[kind] if name in args]
    inner = ", ".join(f"{name}={_quote(args[name])}" for name in ordered)
    return f"{kind}({inner})"


def _int(args: dict[str, Value], name: str, default: int) -> int:
    """Fetch an argument that `_convert` has already made an int."""
    value = args.get(name, default)
    assert isinstance(value, int)
    return value


def _str(args: dict[str, Value], name: str, default: str) -> str:
    """Fetch an argument that `_convert` has already made a str."""
    value = args.get(name, default)
    assert isinstance(value, str)
    return value


def _bind(kind: str, args: dict[str, Value]) -> Callable[[], str]:
    """Check the arguments now and return the drawing function."""
    if kind == "password":
        policy = _password_policy(
            _int(args, "length", 32),
            _str(args, "classes", ",".join(DEFAULT_CLASSES)),
            bool(args.get("require_each", True)),
            _str(args, "exclude", ""),
            _str(args, "symbols", DEFAULT_SYMBOLS),
        )
        return partial(_draw_password, policy)

    if kind in ("hex", "urlsafe"):
        nbytes = _int(args, "bytes", 32)
        _check_int(nbytes, f"{kind} bytes", 1, MAX_TOKEN_BYTES)
        return partial(generate_hex if kind == "hex" else generate_urlsafe, nbytes)

    if kind == "dns-token":
        prefix = _str(args, "prefix", "platxa-verification")
        nbytes = _int(args, "bytes", 20)
        _check_dns_token(prefix, nbytes)
        return partial(generate_dns_token, prefix, nbytes)

    return generate_fernet_key


def parse_generator(spec: str) -> Generator:
    """Parse and check a generator spec such as `password(length=32)`.

    Nothing is evaluated: the text is matched against a fixed grammar and
    a fixed table of generators, so a template file cannot run code.
    """
    call = _CALL_RE.match(spec)
    if call is None:
        raise _spec_error(spec, "expected a call such as password(length=32)")

    kind = call.group(1)
    if kind not in _SIGNATURES:
        raise _spec_error(
            spec, f"unknown generator {kind!r}; known: {', '.join(_SIGNATURES)}"
        )

    args, end = _parse_args(spec, kind, call.end())
    rest = spec[end:].lstrip()
    if rest:
        column = len(spec) - len(rest) + 1
        raise _spec_error(spec, f"unexpected text after ')' at column {column}")

    try:
        draw = _bind(kind, args)
    except ValidationError as error:
        raise _spec_error(spec, error.message) from None
    return Generator(_normalise(kind, args), kind, draw)
