"""`pxs doctor`: check a deployment and say what to fix.

Exit code: 0 when every check passes, 1 when the worst is a warning,
2 when something fails (monitoring systems read this convention).
"""

from __future__ import annotations

import sys

import click

from platxa_secrets.cli.context import runtime
from platxa_secrets.cli.output import FORMAT_OPTION, emit_json, emit_table
from platxa_secrets.errors import ConfigError
from platxa_secrets.services.doctor import SKIP, Check, Finding, Report, run_checks
from platxa_secrets.services.doctor.checks import all_store_checks
from platxa_secrets.services.runtime import Runtime


@click.command()
@click.option(
    "--namespace",
    "namespaces",
    multiple=True,
    metavar="NS",
    help="Cluster namespaces to check (default: every namespace of the store).",
)
@click.option(
    "--context", help="kubeconfig context (default: in-cluster, then current)."
)
@click.option("--no-cluster", is_flag=True, help="Skip the Kubernetes checks.")
@FORMAT_OPTION
def doctor(
    namespaces: tuple[str, ...], context: str | None, no_cluster: bool, fmt: str
) -> None:
    """Check the master key, keyring, JWT keys, tokens, audit chain and cluster."""
    from platxa_secrets.core.names import check_namespace

    for namespace in namespaces:
        check_namespace(namespace)

    rt = runtime()
    checks = all_store_checks(rt)
    checks.extend(_cluster_checks(rt, namespaces, context, no_cluster))
    report = run_checks(checks)

    if fmt == "json":
        emit_json(
            {
                "status": report.worst,
                "counts": report.counts(),
                "findings": [f.as_dict() for f in report.findings],
            }
        )
    else:
        _print(report)
    sys.exit(report.exit_code)


def _cluster_checks(
    rt: Runtime, namespaces: tuple[str, ...], context: str | None, no_cluster: bool
) -> list[tuple[str, Check]]:
    """The cluster checks, or one skipped finding saying why not."""
    if no_cluster:
        return [_skipped("--no-cluster given")]

    from platxa_secrets.kube.connection import connect

    explicit = bool(namespaces or context)
    try:
        api = connect(rt.config, context)
    except ConfigError as exc:
        if explicit:
            raise
        return [_skipped(f"no cluster configured ({exc.message})")]

    from platxa_secrets.kube.doctor import cluster_checks

    return cluster_checks(rt, api, namespaces)


def _skipped(reason: str) -> tuple[str, Check]:
    finding = Finding("kube", SKIP, reason)
    return ("kube", lambda: [finding])


def _print(report: Report) -> None:
    emit_table(
        None,
        ["STATUS", "CHECK", "REASON", "FIX"],
        [(f.status, f.check, f.reason, f.fix) for f in report.findings],
    )
    counts = report.counts()
    click.echo(
        f"{report.worst}: {counts['pass']} passed, {counts['warn']} warnings, "
        f"{counts['fail']} failed, {counts['skip']} skipped",
        err=True,
    )
