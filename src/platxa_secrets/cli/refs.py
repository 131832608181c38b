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
            data[key] = read_stdin(f"value of {key}")
        elif source.startswith("@"):
            data[key] = read_file(Path(source[1:]), f"value of {key}")
        else:
            # The key is not echoed: a pasted base64 value contains '=' too.
            raise ValidationError(
                f"refusing key argument {position}: a value given on the command "
                "line is visible to every user of the host and kept in shell "
                "history; use KEY=@FILE, KEY=- (stdin), --prompt KEY or "
                "--from-env-file FILE",
                field="assignment",
            )
    return data


MAX_INPUT_BYTES = 16 * 1024 * 1024


def read_stdin(what: str, limit: int = MAX_INPUT_BYTES) -> bytes:
    """Read stdin for `what`, refusing a closed stdin or endless input."""
    if sys.stdin is None:
        raise ValidationError(f"{what}: stdin is closed", field="stdin")
    return _capped(sys.stdin.buffer.read(limit + 1), what, limit)


def read_file(path: Path, what: str, limit: int = MAX_INPUT_BYTES) -> bytes:
    """Read a file for `what`, with a message that names it on failure.

    Input is capped (a secret is at most 1 MiB; manifests and exports a
    few), so `/dev/zero` or a wrong path cannot exhaust memory.
    """
    if str(path) == "-":
        return read_stdin(what, limit)
    error: str | None = None
    try:
        with path.open("rb") as handle:
            return _capped(handle.read(limit + 1), what, limit)
    except FileNotFoundError:
        error = f"{what}: file {path} does not exist"
    except IsADirectoryError:
        error = f"{what}: {path} is a directory"
    except OSError as exc:
        error = f"{what}: cannot read {path}: {exc.strerror}"
    raise ValidationError(error, field="file")


def read_key_lines(path: Path) -> list[str]:
    """The lines of a keys file, warning first if others can read it."""
    warn_if_shared(path)
    return read_file(path, "--keys-file").decode("utf-8", "replace").splitlines()


def warn_if_shared(path: Path) -> None:
    """Warn when a file holding keys can be read by group or others."""
    if str(path) == "-" or not path.is_file():
        return
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        click.echo(
            f"pxs: warning: {path} holds keys and is readable by group or others "
            f"(mode {mode:04o}); chmod 600 it",
            err=True,
        )


def _capped(content: bytes, what: str, limit: int) -> bytes:
    if len(content) > limit:
        raise ValidationError(
            f"{what}: input is larger than {limit // (1024 * 1024)} MiB", field="file"
        )
    return content


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
