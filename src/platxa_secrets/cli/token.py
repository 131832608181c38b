"""`pxs token …`: create, list, revoke and rotate API tokens.

A new token is printed once, alone on stdout, so it can be piped into a
secret store (`pxs token create … | kubectl create secret …`); the
note that it cannot be shown again goes to stderr. No command takes a
token as an argument: tokens are named by their id, the public part
after `pxs_`.
"""

from __future__ import annotations

from dataclasses import asdict

import click

from platxa_secrets.cli.context import runtime
from platxa_secrets.cli.output import FORMAT_OPTION, emit_json, emit_table, info


@click.group()
def token() -> None:
    """API tokens for the HTTP API and webhook senders."""


@token.command()
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    metavar="SCOPE",
    help="What the token may do, repeatable: 'tenant-*:read', "
    "'tenant-acme:write', '*:admin', 'jwt:sign', 'webhook:<receiver>'.",
)
@click.option(
    "--expires",
    metavar="DURATION",
    default="90d",
    show_default=True,
    help="Lifetime such as 30d or 12h, at most 10 years; 'never' for a token "
    "that does not expire (`pxs doctor` warns about those).",
)
@click.option("--name", help="What the token is for (default: its scopes).")
def create(scopes: tuple[str, ...], expires: str, name: str | None) -> None:
    """Create a token and print it once on stdout."""
    from platxa_secrets.core.durations import parse_duration
    from platxa_secrets.services.tokens import MAX_NAME, TokenService

    never = expires.strip().lower() == "never"
    lifetime = None if never else parse_duration(expires, "--expires")
    label = name if name is not None else " ".join(scopes)[:MAX_NAME]
    text, created = TokenService(runtime()).create(label, scopes, lifetime)
    click.echo(text)
    info(
        f"token {created.id} created (scopes {' '.join(created.scopes)}; expires "
        f"{created.expires_at or 'never'}); it is shown only this once"
    )


@token.command("list")
@click.option("--all", "everything", is_flag=True, help="Include revoked tokens.")
@FORMAT_OPTION
def list_(everything: bool, fmt: str) -> None:
    """Tokens with scopes, state, expiry and last use; never a secret."""
    from platxa_secrets.services.tokens import TokenService

    found = TokenService(runtime()).list(include_revoked=everything)
    if fmt == "json":
        emit_json([asdict(t) for t in found])
        return
    emit_table(
        None,
        ["ID", "NAME", "SCOPES", "STATE", "EXPIRES", "LAST USED", "ROTATED FROM"],
        [
            (
                t.id,
                t.name,
                " ".join(t.scopes),
                t.state,
                t.expires_at or "never",
                t.last_used_at or "never",
                t.rotated_from,
            )
            for t in found
        ],
    )


@token.command()
@click.argument("token_id", metavar="ID")
def revoke(token_id: str) -> None:
    """Revoke a token by id; it stops working at once."""
    from platxa_secrets.services.tokens import TokenService

    revoked = TokenService(runtime()).revoke(token_id)
    info(f"token {revoked.id} ({revoked.name}) revoked")


@token.command()
@click.argument("token_id", metavar="ID")
@click.option(
    "--grace",
    default="1h",
    show_default=True,
    metavar="DURATION",
    help="How long the old token keeps working (never past its own expiry).",
)
def rotate(token_id: str, grace: str) -> None:
    """Replace a token; print the new one once on stdout.

    The new token has the old one's name, scopes and lifetime. Both work
    until the grace period is over: reconfigure the sender meanwhile.
    """
    from platxa_secrets.core.durations import parse_duration
    from platxa_secrets.services.tokens import TokenService

    overlap = parse_duration(grace, "--grace")
    service = TokenService(runtime())
    text, created = service.rotate(token_id, overlap)
    click.echo(text)
    old = service.get(token_id)
    info(
        f"token {created.id} replaces {old.id}, which works until {old.expires_at}; "
        "the new token is shown only this once"
    )
