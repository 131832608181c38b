"""`pxs generate …`: passwords, tokens and keys, printed or written 0600."""

from __future__ import annotations

from pathlib import Path

import click

from platxa_secrets.cli.output import info

_FILE = click.option(
    "--file",
    "path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file (mode 0600) instead of stdout.",
)


def _deliver(value: str, path: Path | None, what: str) -> None:
    if path is None:
        click.echo(value)
        return
    from platxa_secrets.cli.files import write_private

    write_private(path, (value + "\n").encode("utf-8"))
    info(f"wrote a new {what} to {path} (mode 0600)")


@click.group()
def generate() -> None:
    """Generate credentials from the operating system's CSPRNG."""


@generate.command()
@click.option("--length", "-l", default=32, show_default=True, type=int)
@click.option(
    "--classes",
    default="lower,upper,digits,symbols",
    show_default=True,
    help="Character classes, comma-separated.",
)
@click.option("--no-symbols", is_flag=True, help="Letters and digits only.")
@click.option("--exclude", default="", help="Characters never to use (e.g. 'O0Il1').")
@click.option(
    "--no-require-each",
    is_flag=True,
    help="Do not force at least one character of each class.",
)
@_FILE
def password(
    length: int,
    classes: str,
    no_symbols: bool,
    exclude: str,
    no_require_each: bool,
    path: Path | None,
) -> None:
    """A random password with every chosen character class present."""
    from platxa_secrets.services.generators import generate_password

    chosen = [c.strip() for c in classes.split(",") if c.strip()]
    if no_symbols:
        chosen = [c for c in chosen if c != "symbols"]
    value = generate_password(
        length, chosen, require_each=not no_require_each, exclude=exclude
    )
    _deliver(value, path, "password")


@generate.command()
@click.option(
    "--bytes",
    "nbytes",
    default=32,
    show_default=True,
    type=int,
    help="Entropy in bytes.",
)
@click.option(
    "--format",
    "encoding",
    type=click.Choice(["hex", "urlsafe"]),
    default="urlsafe",
    show_default=True,
)
@_FILE
def token(nbytes: int, encoding: str, path: Path | None) -> None:
    """A random token sized in bytes of entropy."""
    from platxa_secrets.services.generators import generate_hex, generate_urlsafe

    value = generate_hex(nbytes) if encoding == "hex" else generate_urlsafe(nbytes)
    _deliver(value, path, "token")


@generate.command("dns-token")
@click.option("--prefix", default="platxa-verification", show_default=True)
@click.option("--bytes", "nbytes", default=20, show_default=True, type=int)
def dns_token(prefix: str, nbytes: int) -> None:
    """A DNS TXT verification token (`prefix=<base32>`)."""
    from platxa_secrets.services.generators import generate_dns_token

    click.echo(generate_dns_token(prefix, nbytes))


@generate.command("fernet-key")
@_FILE
@click.option("--force", is_flag=True, help="Replace an existing key file.")
def fernet_key(path: Path | None, force: bool) -> None:
    """A new Fernet key, e.g. for PLATXA_SECRETS_MASTER_KEY_FILE.

    An existing file is never replaced without --force: replacing a
    master key file makes every data key it wrapped unreadable.
    """
    from platxa_secrets.errors import ConflictError
    from platxa_secrets.services.generators import generate_fernet_key

    if path is not None and path.exists() and not force:
        raise ConflictError(
            f"{path} already exists; a replaced master key cannot unwrap the data "
            "keys it wrapped. Choose another file, or pass --force",
            field="file",
        )
    _deliver(generate_fernet_key(), path, "Fernet key")
