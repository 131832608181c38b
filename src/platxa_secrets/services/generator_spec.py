"""The generator spec language: how templates and the CLI name a generator.

A spec is a call written with keyword arguments only:

    password()
    password(length=24, classes="lower,upper,digits", exclude="O0Il1")
    hex(bytes=32)             urlsafe(bytes=16)
    dns-token(prefix="x")     fernet-key()

A value is an integer, a "double" or 'single' quoted string (no
escapes), or a bare word; `true` and `false` are the booleans that
`require_each` takes. Specs are parsed by hand and checked in full when
parsed, so a template with a bad spec fails when it is loaded, not on
the first provisioning. Error messages quote the spec and the broken
rule, never a generated value. The values themselves are drawn by the
functions of `generators`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from platxa_secrets.errors import ValidationError
from platxa_secrets.services.generators import (
    DEFAULT_CLASSES,
    DEFAULT_SYMBOLS,
    MAX_TOKEN_BYTES,
    _check_dns_token,
    _check_int,
    _draw_password,
    _password_policy,
    generate_dns_token,
    generate_fernet_key,
    generate_hex,
    generate_urlsafe,
)

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
