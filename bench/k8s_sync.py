"""API calls and seconds of `sync` for many tenants, against the emulator.

Why: `pxs k8s sync` runs from cron or the server loop over every tenant;
a sync with nothing to do must cost no write and as few reads as the
API allows, or a fleet of clusters pays for it every few minutes.

What is measured (DESIGN §9), 1,000 tenants x 3 secrets by default, the
store on SQLite in a temporary home, the API server the project's own
emulator on 127.0.0.1 driven through the official client:

1. first sync: every Secret created (one server-side apply each);
2. second sync, nothing changed: goal 0 writes and 1 labelled list;
3. second sync when RBAC forbids the cluster-wide list: 1 list per
   namespace, still 0 writes;
4. sync after 10 changes in the store: goal 10 writes.

    .venv/bin/python bench/k8s_sync.py [--tenants N] [--json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from platxa_secrets.api import Platxa
from platxa_secrets.core.config import load_config
from platxa_secrets.kube.connection import connect
from platxa_secrets.kube.reconcile import KubeSecrets
from platxa_secrets.services.initialise import initialise
from platxa_secrets.services.runtime import Runtime
from platxa_secrets.services.secrets import WriteRequest
from platxa_secrets.testing import KubeEmulator, Policy, Rule

WRITE_VERBS = ("create", "update", "patch", "delete")


def measure(kube: KubeEmulator, label: str, run: Any) -> dict[str, Any]:
    """Run one sync and count what it cost."""
    kube.reset_calls()
    started = time.perf_counter()
    report = run()
    seconds = time.perf_counter() - started
    return {
        "case": label,
        "seconds": round(seconds, 2),
        "calls": len(kube.calls),
        "writes": sum(kube.count(verb=v) for v in WRITE_VERBS),
        "lists": kube.count(verb="list"),
        "created": len(report.created),
        "repaired": len(report.repaired),
        "unchanged": len(report.unchanged),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    tenants = [f"tenant-{n:04d}" for n in range(args.tenants)]

    with (
        tempfile.TemporaryDirectory() as home,
        KubeEmulator(namespaces=tenants) as kube,
    ):
        env = {
            "PLATXA_SECRETS_HOME": home,
            "PLATXA_SECRETS_MASTER_KEY": Fernet.generate_key().decode(),
            "KUBECONFIG": str(kube.write_kubeconfig(Path(home) / "kubeconfig")),
        }
        runtime = Runtime(load_config(env=env, actor="bench"))
        initialise(runtime)
        store = Platxa(runtime)
        store.secrets.put_many(
            [
                WriteRequest(t, name, {"KEY": f"{t}-{name}".encode()})
                for t in tenants
                for name in ("odoo", "smtp", "api")
            ]
        )
        cluster = KubeSecrets(runtime, connect(runtime.config, context="emulator"))

        rows = [measure(kube, "first sync", cluster.sync)]
        rows.append(measure(kube, "second sync, nothing changed", cluster.sync))
        kube.policy = Policy.of(Rule.of("*", "secrets", tenants))
        rows.append(measure(kube, "second sync, no cluster-wide list", cluster.sync))
        kube.policy = Policy.allow_all()
        for tenant in tenants[:10]:
            store.secrets.put(tenant, "odoo", {"KEY": b"changed"})
        rows.append(measure(kube, "sync after 10 changes", cluster.sync))
        runtime.close()

    if args.json:
        print(json.dumps({"tenants": args.tenants, "results": rows}, indent=2))
        return
    print(f"k8s sync, {args.tenants} tenants x 3 secrets, emulator on 127.0.0.1")
    print(f"  {'case':36} {'seconds':>8} {'calls':>6} {'writes':>6} {'lists':>6}")
    for row in rows:
        print(
            f"  {row['case']:36} {row['seconds']:>8} {row['calls']:>6} "
            f"{row['writes']:>6} {row['lists']:>6}"
        )


if __name__ == "__main__":
    main()
