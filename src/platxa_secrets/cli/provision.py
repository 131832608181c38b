"""`pxs provision NS`: create a tenant's secret from a template."""

from __future__ import annotations

from pathlib import Path

import click

from platxa_secrets.cli.context import runtime
from platxa_secrets.cli.output import FORMAT_OPTION, emit_json, info
from platxa_secrets.cli.refs import read_file, read_stdin
from platxa_secrets.errors import ValidationError


@click.command()
@click.argument("namespace")
@click.option(
    "--template",
    "-t",
    default="odoo",
    show_default=True,
    help="A built-in template name or a template YAML file.",
)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="A template parameter. Secret parameters take NAME=@PATH or NAME=-.",
)
@FORMAT_OPTION
def provision(
    namespace: str, template: str, settings: tuple[str, ...], fmt: str
) -> None:
    """Create or complete a tenant's secret from a template (idempotent).

    Generated values that already exist are kept; only what changed is
    written, as a new version.
    """
    from platxa_secrets.services.provisioning import ProvisioningService
    from platxa_secrets.services.templates import get_template

    chosen = get_template(template)
    params = _parameters(settings, set(chosen.secret_parameters))
    result = ProvisioningService(runtime()).provision(namespace, chosen, params)
    written = result.written

    if fmt == "json":
        emit_json(
            {
                "namespace": written.namespace,
                "name": written.name,
                "version": written.version,
                "changed": written.changed,
                "keys": list(written.keys),
                "generated": result.generated,
                "kept": result.kept,
                "kids": list(written.kids),
            }
        )
        return
    state = "provisioned" if written.changed else "unchanged"
    info(
        f"{state} {written.namespace}/{written.name} version {written.version} "
        f"from template {chosen.name}"
    )
    if result.generated:
        info(f"  generated: {', '.join(result.generated)}")
    if result.kept:
        info(f"  kept: {', '.join(result.kept)}")


def _text(content: bytes, name: str) -> str:
    """Template parameters are text; a trailing newline is dropped."""
    try:
        return content.decode("utf-8").rstrip("\n")
    except UnicodeDecodeError:
        pass
    raise ValidationError(f"parameter {name} is not UTF-8 text", field=name)


def _parameters(settings: tuple[str, ...], secret: set[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    stdin_used = False
    for position, setting in enumerate(settings, start=1):
        name, sep, value = setting.partition("=")
        if not sep or not name:
            raise ValidationError(
                f"--set number {position} must be NAME=VALUE", field="set"
            )
        if name in params:
            raise ValidationError(f"parameter {name!r} is set twice", field=name)

        if value == "-" and name in secret:
            if stdin_used:
                raise ValidationError("only one parameter can read stdin", field=name)
            stdin_used = True
            params[name] = _text(read_stdin(f"parameter {name}"), name)
        elif value.startswith("@") and name in secret:
            content = read_file(Path(value[1:]), f"parameter {name}")
            params[name] = _text(content, name)
        elif name in secret:
            raise ValidationError(
                f"parameter {name!r} is secret and cannot be given on the command "
                f"line (argv is visible to every user); use --set {name}=@FILE or "
                f"--set {name}=-",
                field=name,
            )
        else:
            params[name] = value
    return params
