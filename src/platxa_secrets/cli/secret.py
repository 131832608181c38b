"""`pxs secret …`: read, write, list and version secrets."""

from __future__ import annotations

import base64
import re
import sys
from pathlib import Path

import click

from platxa_secrets.cli.context import runtime
from platxa_secrets.cli.output import FORMAT_OPTION, emit_json, emit_table, info
from platxa_secrets.cli.refs import (
    prompt_values,
    read_assignments,
    read_file,
    ref_argument,
)
from platxa_secrets.core.text import decode_or_none
from platxa_secrets.errors import NotFoundError, ValidationError
from platxa_secrets.services.secrets import SecretService, SecretVersion, VersionInfo

GET_FORMAT = click.Choice(["table", "json", "yaml", "env", "raw"])
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _ref(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, str]:
    return ref_argument(value)


REF = click.argument("ref", metavar="NS/NAME", callback=_ref)


@click.group()
def secret() -> None:
    """Read, write, list and version secrets."""


@secret.command("get")
@REF
@click.option("--key", "-k", "key", help="Only this key.")
@click.option("--version", "version", type=click.IntRange(min=1), help="A version.")
@click.option(
    "-o",
    "--output",
    "fmt",
    type=GET_FORMAT,
    help="table: keys and text values; json/yaml: base64 data (exact bytes); "
    "env: KEY='value' lines; raw: the bytes of one key. Default: raw with "
    "--key, table otherwise.",
)
def get(
    ref: tuple[str, str], key: str | None, version: int | None, fmt: str | None
) -> None:
    """Print the values of a secret (decrypted)."""
    emit_secret(SecretService(runtime()).get(*ref, version=version), key, fmt)


def emit_secret(result: SecretVersion, key: str | None, fmt: str | None) -> None:
    """Print a secret's values in the chosen format (shared with `k8s get`)."""
    data = result.data
    if key is not None:
        if key not in data:
            raise NotFoundError(
                f"{result.namespace}/{result.name} v{result.version} has no key "
                f"{key!r} (keys: {', '.join(sorted(data)) or 'none'})",
                field="key",
            )
        data = {key: data[key]}

    fmt = fmt or ("raw" if key is not None else "table")
    if fmt == "table":
        _emit_values_table(result, data)
    elif fmt == "raw":
        _emit_raw(result, data)
    elif fmt == "env":
        _emit_env(result, data)
    else:
        document = {
            "namespace": result.namespace,
            "name": result.name,
            "type": result.type,
            "version": result.version,
            "data": {
                k: base64.b64encode(v).decode("ascii") for k, v in sorted(data.items())
            },
        }
        if fmt == "json":
            emit_json(document)
        else:
            import yaml

            click.echo(yaml.safe_dump(document, sort_keys=False), nl=False)


def _emit_values_table(result: SecretVersion, data: dict[str, bytes]) -> None:
    """Keys and values for a person; binary values are described, not shown."""
    rows = []
    for key, value in sorted(data.items()):
        text = decode_or_none(value)
        shown = text if text is not None and text.isprintable() else None
        rows.append((key, shown if shown is not None else _binary(value)))
    title = f"{result.namespace}/{result.name} v{result.version} ({result.type})"
    emit_table(title, ["KEY", "VALUE"], rows)


def _binary(value: bytes) -> str:
    return f"<{len(value)} bytes, not printable text: use -o json or --key>"


def _emit_raw(result: SecretVersion, data: dict[str, bytes]) -> None:
    if len(data) != 1:
        raise ValidationError(
            f"-o raw prints one value; {result.namespace}/{result.name} has "
            f"{len(data)} keys: choose one with --key",
            field="output",
        )
    sys.stdout.buffer.write(next(iter(data.values())))
    sys.stdout.buffer.flush()


def _shell_quote(text: str) -> str:
    import shlex  # only for -o env: the raw read path starts without it

    return shlex.quote(text)


def _emit_env(result: SecretVersion, data: dict[str, bytes]) -> None:
    lines = []
    for key, value in sorted(data.items()):
        if not _ENV_NAME.fullmatch(key):
            raise ValidationError(
                f"key {key!r} of {result.namespace}/{result.name} is not a shell "
                "variable name; use -o json or --key with -o raw",
                field="output",
            )
        text = decode_or_none(value)
        if text is None:
            raise ValidationError(
                f"value of {key!r} in {result.namespace}/{result.name} is binary; "
                "use -o json (base64) or --key with -o raw",
                field="output",
            )
        lines.append(f"{key}={_shell_quote(text)}")
    click.echo("\n".join(lines))


@secret.command("set")
@REF
@click.argument("assignments", nargs=-1, metavar="[KEY=@PATH | KEY=-]...")
@click.option(
    "--from-env-file",
    "env_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Read KEY=VALUE lines from a .env file.",
)
@click.option(
    "--prompt", "prompts", multiple=True, metavar="KEY", help="Ask for KEY's value."
)
@click.option(
    "--generate",
    "generated",
    multiple=True,
    metavar="KEY=SPEC",
    help="Generate KEY, e.g. DB_PASSWORD='password(length=32)'.",
)
@click.option("--remove", "removed", multiple=True, metavar="KEY", help="Drop KEY.")
@click.option("--type", "secret_type", help="Secret type (default: kept, or Opaque).")
@click.option(
    "--cas",
    type=click.IntRange(min=0),
    help="Write only if the newest version is N (0: new).",
)
@click.option("--replace", is_flag=True, help="Drop keys that are not given.")
@FORMAT_OPTION
def set_(
    ref: tuple[str, str],
    assignments: tuple[str, ...],
    env_file: Path | None,
    prompts: tuple[str, ...],
    generated: tuple[str, ...],
    removed: tuple[str, ...],
    secret_type: str | None,
    cas: int | None,
    replace: bool,
    fmt: str,
) -> None:
    """Write a new version of a secret. Values come from files, stdin,
    a prompt, an env file or a generator — never from argv.

    Keys not given are kept from the newest version unless --replace.
    """
    data = read_assignments(assignments)
    sources = [data]
    if env_file is not None:
        from platxa_secrets.cli.envfile import parse_env_file

        sources.append(parse_env_file(read_file(env_file, "--from-env-file"), env_file))
    sources.append(_generate(generated))
    sources.append(prompt_values(prompts))

    merged: dict[str, bytes] = {}
    for source in sources:
        for key, value in source.items():
            if key in merged:
                raise ValidationError(f"key {key!r} is given twice", field=key)
            merged[key] = value
    if not merged and not removed:
        raise ValidationError(
            "nothing to write: give KEY=@PATH, KEY=-, --from-env-file, --prompt "
            "or --generate",
            field="assignments",
        )

    written = SecretService(runtime()).put(
        *ref,
        merged,
        secret_type=secret_type,
        cas=cas,
        replace=replace,
        remove=removed,
        skip_unchanged=True,
    )
    _report_write(written, fmt)


def _generate(specs: tuple[str, ...]) -> dict[str, bytes]:
    if not specs:
        return {}
    from platxa_secrets.services.generators import parse_generator

    data: dict[str, bytes] = {}
    for spec in specs:
        key, sep, expression = spec.partition("=")
        if not sep:
            raise ValidationError("--generate takes KEY=SPEC", field="generate")
        data[key] = parse_generator(expression).generate().encode("utf-8")
    return data


def _report_write(written: VersionInfo, fmt: str) -> None:
    if fmt == "json":
        emit_json(_info_json(written))
        return
    if not written.changed:
        info(
            f"{written.namespace}/{written.name}: unchanged, still version "
            f"{written.version} (no new version written)"
        )
        return
    info(
        f"{written.namespace}/{written.name}: version {written.version} "
        f"({', '.join(written.keys) or 'no keys'}) under key {', '.join(written.kids)}"
    )


@secret.command("list")
@click.argument("namespace", required=False)
@FORMAT_OPTION
def list_(namespace: str | None, fmt: str) -> None:
    """List secrets with their key names, versions and key ids (no values)."""
    secrets = SecretService(runtime()).list(namespace)
    if fmt == "json":
        emit_json([_info_json(s) for s in secrets])
        return
    emit_table(
        None,
        ["NAMESPACE", "NAME", "TYPE", "VERSION", "STATE", "KEYS", "KID", "UPDATED"],
        [
            (
                s.namespace,
                s.name,
                s.type,
                s.version,
                s.state,
                " ".join(s.keys),
                " ".join(s.kids),
                s.created_at,
            )
            for s in secrets
        ],
    )


@secret.command("history")
@REF
@FORMAT_OPTION
def history(ref: tuple[str, str], fmt: str) -> None:
    """Show every kept version of a secret (no values)."""
    versions = SecretService(runtime()).history(*ref)
    if fmt == "json":
        emit_json([_info_json(v) for v in versions])
        return
    emit_table(
        f"{ref[0]}/{ref[1]}",
        ["VERSION", "STATE", "TYPE", "CREATED", "BY", "KEYS", "KID"],
        [
            (
                v.version,
                v.state,
                v.type,
                v.created_at,
                v.created_by,
                " ".join(v.keys),
                " ".join(v.kids),
            )
            for v in versions
        ],
    )


_PAST = {"delete": "deleted", "undelete": "restored", "destroy": "destroyed"}


def _lifecycle(action: str, help_text: str) -> click.Command:
    @click.command(action, help=help_text)
    @REF
    @click.option(
        "--version",
        "versions",
        multiple=True,
        type=click.IntRange(min=1),
        help="Version(s) to change (default: the newest).",
    )
    def command(ref: tuple[str, str], versions: tuple[int, ...]) -> None:
        service = SecretService(runtime())
        changed = getattr(service, action)(*ref, versions)
        done = ", ".join(map(str, changed)) or "none (already in that state)"
        info(f"{ref[0]}/{ref[1]}: {_PAST[action]} version(s) {done}")

    return command


secret.add_command(_lifecycle("delete", "Soft-delete versions; `undelete` restores."))
secret.add_command(_lifecycle("undelete", "Restore soft-deleted versions."))
secret.add_command(
    _lifecycle("destroy", "Erase the ciphertext of versions. Irreversible.")
)


def _info_json(v: VersionInfo) -> dict[str, object]:
    return {
        "namespace": v.namespace,
        "name": v.name,
        "version": v.version,
        "type": v.type,
        "state": v.state,
        "keys": list(v.keys),
        "kids": list(v.kids),
        "created_at": v.created_at,
        "created_by": v.created_by,
        "deleted_at": v.deleted_at,
        "destroyed_at": v.destroyed_at,
        "changed": v.changed,
    }
