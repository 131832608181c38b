"""The `pxs` / `platxa-secrets` command line.

Subcommands are imported only when called, so `pxs secret get` loads
neither Alembic nor SQLAlchemy nor Rich: a command costs what it uses.
Every failure is printed as one line naming the object and the rule,
with an exit code per error family (see `platxa_secrets.errors`), and
never as a traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from platxa_secrets import logs
from platxa_secrets.errors import PlatxaSecretsError

_COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("init", "init", "Create or migrate the store and its first data key."),
    "import": ("transfer", "import_", "Import Kubernetes Secret manifests."),
    "export": ("transfer", "export", "Print a secret as a Kubernetes manifest."),
    "secret": ("secret", "secret", "Read, write and version secrets."),
    "provision": (
        "provision",
        "provision",
        "Create a tenant's secret from a template.",
    ),
    "generate": ("generate", "generate", "Generate passwords, tokens and keys."),
    "keys": ("keys", "keys", "Rotate, maintain, re-encrypt and inspect data keys."),
    "master": ("keys", "master", "Re-wrap data keys under a new master key."),
    "k8s": ("k8s", "k8s", "Apply, diff and sync secrets with Kubernetes."),
    "legacy": ("legacy", "legacy", "Migrate credentials written by older code."),
    "audit": ("audit", "audit", "Read, verify and export the audit trail."),
    "token": ("token", "token", "Create, list, rotate and revoke API tokens."),
    "jwt": ("jwt", "jwt", "Rotate and list JWT signing keys."),
    "serve": ("serve", "serve", "Run the HTTP API."),
    "doctor": ("doctor", "doctor", "Check a deployment against the rules."),
    "scan": ("scan", "scan", "Find leaked keys, tokens and stored values."),
}


class _PipeClosed(Exception):
    """stdout's reader went away (`pxs … | head`); not an error."""


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def invoke(self, ctx: click.Context) -> Any:
        # Click turns a broken pipe into a silent exit 1; the shell's own
        # convention (141, SIGPIPE) tells a script what really happened.
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise _PipeClosed() from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = _COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(f"platxa_secrets.cli.{entry[0]}")
        command = getattr(module, entry[1])
        assert isinstance(command, click.Command)
        return command

    def format_commands(
        self, ctx: click.Context, formatter: click.HelpFormatter
    ) -> None:
        rows = [(name, _COMMANDS[name][2]) for name in sorted(_COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="Log progress (-v) or details (-vv).")
@click.option(
    "--debug", is_flag=True, help="Show a traceback for unexpected internal errors."
)
@click.version_option(package_name="platxa-secrets")
@click.pass_context
def cli(ctx: click.Context, verbose: int, debug: bool) -> None:
    """Platxa Secrets: encrypted, versioned secrets for per-tenant Odoo.

    Configuration comes from PLATXA_SECRETS_* environment variables
    (HOME, DATABASE_URL, MASTER_KEY, MASTER_KEY_FILE, ENV) and the config
    file; see the README. Values are never taken from the command line.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    logs.log_to_stderr(logs.WARNING - 10 * min(verbose, 2), "pxs")


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI, turning every failure into one line."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        return cli.main(args=argv, prog_name="pxs", standalone_mode=False)
    except PlatxaSecretsError as exc:
        click.echo(f"pxs: error: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("pxs: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except (BrokenPipeError, _PipeClosed):
        _quiet_stdout()
        sys.exit(141)
    except OSError as exc:
        # Output that cannot be written (a full disk, a closed terminal):
        # the OS reason is safe to show; it never holds a value.
        click.echo(f"pxs: error: {exc.strerror or type(exc).__name__}", err=True)
        sys.exit(74)  # EX_IOERR
    except Exception as exc:
        if debug:
            raise
        # The message of an unexpected error could quote input; only its
        # type is shown. --debug shows everything on the operator's request.
        click.echo(
            f"pxs: internal error ({type(exc).__name__}); rerun with --debug "
            "for a traceback",
            err=True,
        )
        sys.exit(70)


def _quiet_stdout() -> None:
    """After a broken pipe, let the interpreter's final flush go nowhere."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    main()
