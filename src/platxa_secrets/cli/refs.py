"""Parsing of `NS/NAME` and value sources from the command line.

Values never come from argv: `KEY=@PATH` reads a file, `KEY=-` reads
stdin. `KEY=VALUE` is refused without echoing the value.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from platxa_secrets.core.names import check_key, parse_ref
from platxa_secrets.errors import ValidationError


def ref_argument(value: str) -> tuple[str, str]:
    return parse_ref(value)


def read_assignments(assignments: tuple[str, ...]) -> dict[str, bytes]:
    """Turn `KEY=@PATH` / `KEY=-` arguments into key → bytes."""
    data: dict[str, bytes] = {}
    stdin_used = False
    for position, assignment in enumerate(assignments, start=1):
        key, sep, source = assignment.partition("=")
        if not sep:
            # Not echoed: a bare argument is often a value typed by mistake.
            raise ValidationError(
                f"key argument {position} must be KEY=@PATH or KEY=- (stdin)",
                field="assignment",
            )
        check_key(key)
        if key in data:
            raise ValidationError(f"key {key!r} is given twice", field=key)

        if source == "-":
            if stdin_used:
                raise ValidationError(
                    "only one key can read stdin (KEY=-)", field="assignment"
                )
            stdin_used = True
            data[key] = sys.stdin.buffer.read()
        elif source.startswith("@"):
            data[key] = read_file(Path(source[1:]), f"value of {key}")
        else:
            raise ValidationError(
                f"refusing a value for key {key!r} on the command line: argv is "
                "visible to every user of the host and kept in shell history; "
                f"use {key}=@FILE, {key}=- (stdin), --prompt {key} or "
                "--from-env-file FILE",
                field=key,
            )
    return data


def read_file(path: Path, what: str) -> bytes:
    """Read a file for `what`, with a message that names it on failure."""
    if str(path) == "-":
        return sys.stdin.buffer.read()
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ValidationError(f"{what}: file {path} does not exist") from None
    except IsADirectoryError:
        raise ValidationError(f"{what}: {path} is a directory") from None
    except OSError as exc:
        raise ValidationError(f"{what}: cannot read {path}: {exc.strerror}") from None


def prompt_values(keys: tuple[str, ...]) -> dict[str, bytes]:
    """Ask for each key's value without echo, twice to catch typos."""
    data: dict[str, bytes] = {}
    if keys and not sys.stdin.isatty():
        raise ValidationError(
            "--prompt needs a terminal; without one, pipe the value with KEY=- "
            "or read it from a file with KEY=@PATH",
            field="prompt",
        )
    for key in keys:
        check_key(key)
        text = click.prompt(
            f"Value for {key}", hide_input=True, confirmation_prompt=True, err=True
        )
        data[key] = str(text).encode("utf-8")
    return data
