"""`pxs import` and `pxs export`: Kubernetes Secret manifests in and out."""

from __future__ import annotations

from pathlib import Path

import click

from platxa_secrets.cli.context import runtime
from platxa_secrets.cli.output import emit_json, info
from platxa_secrets.cli.refs import read_file, ref_argument
from platxa_secrets.errors import ValidationError
from platxa_secrets.services.secrets import SecretService, WriteRequest


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-n", "--namespace", help="Namespace for manifests that name none.")
@click.option("--dry-run", is_flag=True, help="Check everything, write nothing.")
@click.option(
    "-o", "--output", "fmt", type=click.Choice(["table", "json"]), default="table"
)
def import_(
    files: tuple[Path, ...], namespace: str | None, dry_run: bool, fmt: str
) -> None:
    """Import Secrets from YAML or JSON manifests (multi-document; `-` is stdin).

    Every file is checked before anything is written, and all secrets are
    written in one transaction: one bad document and nothing changes.
    A secret whose type and values are unchanged gets no new version.
    """
    from platxa_secrets.services.manifests import parse_manifests

    if namespace is not None:
        from platxa_secrets.core.names import check_namespace

        check_namespace(namespace, "--namespace")

    requests: list[WriteRequest] = []
    skipped: list[dict[str, str]] = []
    seen: dict[tuple[str, str], str] = {}
    for path in files:
        batch = parse_manifests(read_file(path, "manifest"), str(path), namespace)
        for manifest in batch.secrets:
            identity = (manifest.namespace, manifest.name)
            if identity in seen:
                raise ValidationError(
                    f"{manifest.source}: secret {'/'.join(identity)} is also "
                    f"defined in {seen[identity]}",
                    field="metadata.name",
                )
            seen[identity] = manifest.source
            requests.append(
                WriteRequest(
                    manifest.namespace, manifest.name, manifest.data, manifest.type
                )
            )
        skipped.extend(
            {
                "source": s.source,
                "kind": s.kind,
                "name": s.name or "",
                "reason": s.reason,
            }
            for s in batch.skipped
        )

    if dry_run:
        written = []
    else:
        written = SecretService(runtime()).put_many(requests) if requests else []

    if fmt == "json":
        emit_json(
            {
                "dry_run": dry_run,
                "secrets": [
                    {"namespace": r.namespace, "name": r.name, "keys": sorted(r.data)}
                    for r in requests
                ],
                "written": [
                    {
                        "namespace": w.namespace,
                        "name": w.name,
                        "version": w.version,
                        "changed": w.changed,
                    }
                    for w in written
                ],
                "skipped": skipped,
            }
        )
        return

    for request in requests if dry_run else []:
        info(
            f"would import {request.namespace}/{request.name} "
            f"({_keys(len(request.data))})"
        )
    for w in written:
        verb = "imported" if w.changed else "unchanged"
        info(
            f"{verb} {w.namespace}/{w.name} version {w.version} ({_keys(len(w.keys))})"
        )
    for s in skipped:
        info(f"skipped {s['kind']}/{s['name']} in {s['source']}: {s['reason']}")


@click.command()
@click.argument("ref", metavar="NS/NAME")
@click.option(
    "--version", type=click.IntRange(min=1), help="A version (default: newest)."
)
@click.option(
    "-o", "--output", "fmt", type=click.Choice(["yaml", "json"]), default="yaml"
)
@click.option(
    "--file",
    "path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file (mode 0600) instead of stdout.",
)
def export(ref: str, version: int | None, fmt: str, path: Path | None) -> None:
    """Print a secret as a Kubernetes Secret manifest, values in `data`."""
    from platxa_secrets.cli.files import write_private
    from platxa_secrets.services.manifests import render_manifest

    namespace, name = ref_argument(ref)
    result = SecretService(runtime()).get(namespace, name, version=version)
    text = render_manifest(
        result.namespace,
        result.name,
        result.type,
        result.data,
        labels={"app.kubernetes.io/managed-by": "platxa-secrets"},
        annotations={"platxa.io/source-version": str(result.version)},
        fmt="json" if fmt == "json" else "yaml",
    )
    if path is None or str(path) == "-":
        click.echo(text, nl=not text.endswith("\n"))
        return
    write_private(path, text.encode("utf-8"))
    info(
        f"wrote {result.namespace}/{result.name} v{result.version} to {path} "
        "(mode 0600)"
    )


def _keys(count: int) -> str:
    return f"{count} key" if count == 1 else f"{count} keys"
