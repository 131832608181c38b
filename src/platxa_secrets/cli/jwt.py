"""`pxs jwt …`: JWT signing keys from the command line.

Only public material is ever printed: key ids, schedules and the JWKS.
A private key stays in the store; signing is the HTTP API's job.
"""

from __future__ import annotations

from dataclasses import asdict

import click

from platxa_secrets.cli.context import runtime
from platxa_secrets.cli.output import FORMAT_OPTION, emit_json, emit_table, info
from platxa_secrets.core.crypto.jwk import ALGORITHMS, RS256


@click.group()
def jwt() -> None:
    """JWT signing keys: rotate, list, publish, maintain."""


@jwt.command()
@click.option(
    "--alg",
    type=click.Choice(ALGORITHMS),
    default=RS256,
    show_default=True,
    help="RS256 (RSA 2048, verified everywhere) or EdDSA (Ed25519).",
)
@FORMAT_OPTION
def rotate(alg: str, fmt: str) -> None:
    """Create a key pair: published at once, signing after the grace period.

    The first key ever signs at once. A later key signs after
    jwt_publish_grace, so every replica and relying party has it in the
    JWKS first; the key it replaces stays published for
    jwt_max_lifetime, until every token it signed has expired.
    """
    from platxa_secrets.services.jwt_keys import JwtService

    key = JwtService(runtime()).rotate(alg)
    if fmt == "json":
        emit_json(asdict(key))
        return
    if key.state == "signing":
        info(f"JWT key {key.kid} ({key.alg}) signs now")
    else:
        info(
            f"JWT key {key.kid} ({key.alg}) is published and signs from "
            f"{key.signs_from}"
        )


@jwt.command()
@FORMAT_OPTION
def keys(fmt: str) -> None:
    """JWT keys with their state and schedule, in signing order."""
    from platxa_secrets.services.jwt_keys import JwtService

    found = JwtService(runtime()).keys()
    if fmt == "json":
        emit_json([asdict(k) for k in found])
        return
    emit_table(
        None,
        ["KID", "ALG", "STATE", "CREATED", "SIGNS FROM", "RETIRED", "UNPUBLISH AT"],
        [
            (
                k.kid,
                k.alg,
                k.state,
                k.created_at,
                k.signs_from,
                k.retired_at,
                k.unpublish_at,
            )
            for k in found
        ],
    )


@jwt.command()
def jwks() -> None:
    """Print the JWK Set: the public keys relying parties verify with."""
    from platxa_secrets.services.jwt_keys import JwtService

    emit_json(JwtService(runtime()).jwks())


@jwt.command()
@FORMAT_OPTION
def maintain(fmt: str) -> None:
    """Record retirements; destroy private keys that are no longer published.

    Idempotent and safe from cron on several replicas at once; signing
    does the same work lazily, so this only tidies up sooner.
    """
    from platxa_secrets.services.jwt_keys import JwtService

    report = JwtService(runtime()).maintain()
    if fmt == "json":
        emit_json(asdict(report))
        return
    info(
        f"retired: {', '.join(report.retired) or 'none'}; "
        f"destroyed: {', '.join(report.destroyed) or 'none'}"
    )
