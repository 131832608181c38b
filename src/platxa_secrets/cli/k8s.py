"""`pxs k8s …`: put secrets into clusters and keep them in step."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from platxa_secrets.cli.context import runtime
from platxa_secrets.cli.output import FORMAT_OPTION, emit_json, emit_table, info
from platxa_secrets.cli.refs import read_file, ref_argument
from platxa_secrets.cli.secret import GET_FORMAT, emit_secret
from platxa_secrets.errors import ValidationError

if TYPE_CHECKING:
    from platxa_secrets.kube.reconcile import Drift, KubeSecrets

CONTEXT = click.option(
    "--context", help="kubeconfig context (default: in-cluster, then current)."
)


def _cluster(context: str | None) -> KubeSecrets:
    from platxa_secrets.kube.connection import connect
    from platxa_secrets.kube.reconcile import KubeSecrets

    rt = runtime()
    return KubeSecrets(rt, connect(rt.config, context))


def _labels(values: tuple[str, ...]) -> dict[str, str]:
    labels = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise ValidationError("--label takes KEY=VALUE", field="label")
        labels[key] = text
    return labels


@click.group()
def k8s() -> None:
    """Apply, compare and sync secrets with Kubernetes clusters."""


@k8s.command()
@click.argument("ref", metavar="NS/NAME")
@click.option("--to-namespace", help="Cluster namespace (default: the store's).")
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE")
@CONTEXT
@FORMAT_OPTION
def apply(
    ref: str,
    to_namespace: str | None,
    labels: tuple[str, ...],
    context: str | None,
    fmt: str,
) -> None:
    """Server-side apply a secret's newest version (field manager platxa-secrets)."""
    namespace, name = ref_argument(ref)
    cluster = _cluster(context)
    action, version = cluster.apply(namespace, name, to_namespace, _labels(labels))
    target = f"{to_namespace or namespace}/{name}"
    if fmt == "json":
        emit_json({"secret": target, "version": version, "action": action})
        return
    info(f"{target}: {action} (store version {version})")


@k8s.command()
@click.argument("ref", metavar="NS/NAME")
@click.option("--cert", "cert", required=True, type=click.Path(path_type=Path))
@click.option("--key", "key", required=True, type=click.Path(path_type=Path))
@click.option("--store-only", is_flag=True, help="Check and store, do not apply.")
@CONTEXT
def tls(ref: str, cert: Path, key: Path, store_only: bool, context: str | None) -> None:
    """Check a certificate and key, store them as kubernetes.io/tls, apply."""
    from platxa_secrets.kube.tls import check_tls
    from platxa_secrets.services.secrets import SecretService

    namespace, name = ref_argument(ref)
    rt = runtime()
    cert_pem, key_pem = read_file(cert, "--cert"), read_file(key, "--key")
    checked = check_tls(cert_pem, key_pem, rt.clock.now())
    for warning in checked.warnings:
        info(f"warning: {warning}")
    written = SecretService(rt).put(
        namespace,
        name,
        {"tls.crt": cert_pem, "tls.key": key_pem},
        secret_type="kubernetes.io/tls",
        replace=True,
        skip_unchanged=True,
    )
    info(
        f"stored {namespace}/{name} v{written.version}: {checked.subject}, "
        f"{checked.days_left} days left"
    )
    if store_only:
        return
    cluster = _cluster(context)
    action, _ = cluster.apply(namespace, name)
    info(f"{namespace}/{name}: {action} in the cluster")


@k8s.command()
@click.argument("ref", metavar="NS/NAME")
@click.option("--key", "-k", "key", help="Only this key.")
@click.option("-o", "--output", "fmt", type=GET_FORMAT, help="As `pxs secret get`.")
@CONTEXT
def get(ref: str, key: str | None, fmt: str | None, context: str | None) -> None:
    """Print a Secret as it is in the cluster (decoded)."""
    from platxa_secrets.services.secret_models import SecretVersion

    namespace, name = ref_argument(ref)
    cluster = _cluster(context)
    secret_type, data, version = cluster.get(namespace, name)
    shown = SecretVersion(namespace, name, version, secret_type, "", "", data)
    emit_secret(shown, key, fmt)


@k8s.command()
@click.argument("namespaces", nargs=-1)
@CONTEXT
@FORMAT_OPTION
def diff(namespaces: tuple[str, ...], context: str | None, fmt: str) -> None:
    """Which secrets differ between store and cluster (key names, never values).

    ADDED: keys the store has and the cluster lacks; REMOVED: keys only the
    cluster has; CHANGED: keys whose values differ. Exit status 1 when
    anything differs (as `kubectl diff`), 0 when all is in step.
    """
    from dataclasses import asdict

    cluster = _cluster(context)
    drifts = cluster.diff(namespaces)
    differs = any(x.state != "in-step" or x.last_applied for x in drifts)
    if fmt == "json":
        emit_json([asdict(x) for x in drifts])
    else:
        _diff_table(drifts)
    if differs:
        sys.exit(1)


def _diff_table(drifts: list[Drift]) -> None:
    emit_table(
        None,
        ["NAMESPACE", "NAME", "STATE", "ADDED", "REMOVED", "CHANGED", "LAST-APPLIED"],
        [
            (
                x.namespace,
                x.name,
                x.state,
                " ".join(x.added),
                " ".join(x.removed),
                " ".join(x.changed),
                "yes" if x.last_applied else "",
            )
            for x in drifts
        ],
    )


@k8s.command()
@click.argument("namespaces", nargs=-1)
@click.option(
    "--prune", is_flag=True, help="Delete managed Secrets gone from the store."
)
@click.option(
    "--dry-run", is_flag=True, help="Report what would change; change nothing."
)
@CONTEXT
@FORMAT_OPTION
def sync(
    namespaces: tuple[str, ...],
    prune: bool,
    dry_run: bool,
    context: str | None,
    fmt: str,
) -> None:
    """Reconcile clusters onto the store: create, repair drift, prune if asked."""
    from dataclasses import asdict

    cluster = _cluster(context)
    report = cluster.sync(namespaces, prune=prune, dry_run=dry_run)
    if fmt == "json":
        emit_json(asdict(report))
        return
    would = "would be " if dry_run else ""
    for label, items in (
        ("created", report.created),
        ("repaired", report.repaired),
        ("pruned", report.pruned),
    ):
        for item in items:
            info(f"{item}: {would}{label}")
    for item in report.last_applied_removed:
        info(f"{item}: last-applied-configuration annotation {would}removed")
    for item in report.orphans:
        info(f"{item}: managed but gone from the store (use --prune to delete)")
    for failure in report.failed:
        info(f"failed: {failure}")
    info(
        f"{len(report.created)} {would}created, {len(report.repaired)} {would}"
        f"repaired, {len(report.unchanged)} unchanged, {len(report.pruned)} "
        f"{would}pruned, {len(report.failed)} failed"
    )
    if report.failed:
        sys.exit(8)


@k8s.command("check-access")
@click.argument("namespace")
@CONTEXT
def check_access(namespace: str, context: str | None) -> None:
    """Check RBAC for every verb sync needs; print the Role that is missing."""
    import sys

    from platxa_secrets.core.names import check_namespace
    from platxa_secrets.kube.errors import role_snippet

    check_namespace(namespace)
    cluster = _cluster(context)
    missing = cluster.check_access(namespace)
    if not missing:
        info(f"all needed verbs on secrets in {namespace} are allowed")
        return
    info(f"missing on secrets in {namespace}: {', '.join(missing)}")
    click.echo(role_snippet(namespace, missing), nl=False)
    sys.exit(8)
