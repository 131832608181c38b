"""Apply, read, compare and reconcile the store's secrets in a cluster.

`sync` is the reconciler: one labelled list of managed Secrets
(cluster-wide where RBAC allows, else one list per namespace), then for
each store secret: in step → nothing (no decrypt, no write); missing or
drifted → decrypt and server-side apply; managed Secrets whose source is
gone → pruned only when asked. A `last-applied-configuration` annotation
on an existing Secret is reported and removed when sync takes ownership.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from platxa_secrets.core.names import RESERVED_NAMESPACES, refuse_reserved
from platxa_secrets.errors import PlatxaSecretsError
from platxa_secrets.kube import desired as d
from platxa_secrets.kube.connection import KubeApi
from platxa_secrets.kube.errors import (
    KubeError,
    KubeForbidden,
    KubeUnauthorized,
    KubeUnavailable,
    status_body,
    translate,
)
from platxa_secrets.logs import get_logger
from platxa_secrets.services.runtime import Runtime
from platxa_secrets.services.secrets import SecretService, SecretVersion, VersionInfo

log = get_logger(__name__)
NEEDED_VERBS = ("get", "list", "create", "patch", "delete")


@dataclass(frozen=True)
class Drift:
    """How one managed Secret compares with the store (names, never values)."""

    namespace: str
    name: str
    state: str  # in-step | missing | drifted | orphan
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    last_applied: bool = False


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    last_applied_removed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    dry_run: bool = False


class KubeSecrets:
    """The store's view of one cluster."""

    def __init__(self, runtime: Runtime, api: KubeApi) -> None:
        self._runtime = runtime
        self._api = api
        self._secrets = SecretService(runtime)
        self._key = runtime.master_keys.derive(d.HMAC_PURPOSE)

    # -- one secret ----------------------------------------------------------

    def apply(
        self,
        namespace: str,
        name: str,
        to_namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> tuple[str, int]:
        """Server-side apply the newest version; returns (action, version)."""
        refuse_reserved(namespace)
        version = self._secrets.get(namespace, name)
        target = to_namespace or namespace
        live = self._read(target, name)
        source = f"{namespace}/{name}"
        if live is not None and d.in_step(live, source, version.version, self._key):
            return "unchanged", version.version

        self._put(version, target, live, labels or {})
        return ("created" if live is None else "updated"), version.version

    def _put(
        self,
        version: SecretVersion,
        target: str,
        live: Any,
        labels: Mapping[str, str],
    ) -> None:
        """Make the cluster hold `version` in namespace `target`."""
        name = version.name
        if live is not None:
            self._clear_foreign(target, name, live, set(version.data))

        body = d.desired_secret(
            source=(version.namespace, name),
            version=version.version,
            namespace=target,
            secret_type=version.type,
            data=version.data,
            labels=labels,
            hmac_key=self._key,
        )
        self._call(
            "patch",
            target,
            name,
            lambda: self._api.core.patch_namespaced_secret(
                name,
                target,
                body,
                field_manager=d.MANAGER,
                force=True,
                _content_type="application/apply-patch+yaml",
            ),
        )
        log.info(
            "applied %s/%s v%d to %s", version.namespace, name, version.version, target
        )

    def get(self, namespace: str, name: str) -> tuple[str, dict[str, bytes], int]:
        """The live Secret's type, decoded data and store version (0: unknown)."""
        live = self._read(namespace, name)
        if live is None:
            from platxa_secrets.kube.errors import KubeNotFound

            raise KubeNotFound(
                f"secret {namespace}/{name} does not exist in the cluster"
            )
        data = d.live_data(live) or {}
        version = d.annotations_of(live).get(d.SOURCE_VERSION, "")
        number = int(version) if version.isdigit() else 0
        return str(getattr(live, "type", None) or "Opaque"), data, number

    # -- many secrets --------------------------------------------------------

    def diff(self, namespaces: Iterable[str] = ()) -> list[Drift]:
        """Compare every store secret (of `namespaces`) with the cluster."""
        wanted = self.secrets_in_store(namespaces)
        live = self._managed(sorted({s.namespace for s in wanted}) or list(namespaces))
        drifts: list[Drift] = []
        for info in wanted:
            obj = live.pop((info.namespace, info.name), None)
            drifts.append(self._compare(info, obj))
        drifts.extend(Drift(ns, n, "orphan") for ns, n in sorted(live))
        return drifts

    def sync(
        self, namespaces: Iterable[str] = (), prune: bool = False, dry_run: bool = False
    ) -> SyncReport:
        """Reconcile the cluster onto the store."""
        report = SyncReport(dry_run=dry_run)
        wanted = self.secrets_in_store(namespaces)
        scope = sorted({s.namespace for s in wanted} | set(namespaces))
        live = self._managed(scope)
        for info in wanted:
            ref = f"{info.namespace}/{info.name}"
            obj = live.pop((info.namespace, info.name), None)
            if obj is not None and d.in_step(obj, ref, info.version, self._key):
                report.unchanged.append(ref)
                continue
            if obj is not None and d.LAST_APPLIED in d.annotations_of(obj):
                report.last_applied_removed.append(ref)
            if not dry_run and not self._sync_one(info, obj, report):
                continue
            (report.created if obj is None else report.repaired).append(ref)
        for namespace, name in sorted(live):
            ref = f"{namespace}/{name}"
            if prune:
                report.pruned.append(ref)
                if not dry_run:
                    self._call(
                        "delete",
                        namespace,
                        name,
                        lambda ns=namespace, n=name: (
                            self._api.core.delete_namespaced_secret(n, ns)
                        ),
                    )
            else:
                report.orphans.append(ref)
        return report

    def _sync_one(self, info: VersionInfo, obj: Any, report: SyncReport) -> bool:
        """Apply one secret; a failure is reported and the sync goes on.

        Errors that concern the whole cluster (credentials, connection)
        stop the sync: every further call would fail the same way.
        """
        try:
            version = self._secrets.get(info.namespace, info.name)
            self._put(version, info.namespace, obj, {})
        except (KubeUnauthorized, KubeUnavailable):
            raise
        except PlatxaSecretsError as exc:
            report.failed.append(f"{info.namespace}/{info.name}: {exc.message}")
            return False
        return True

    def check_access(self, namespace: str) -> list[str]:
        """The verbs on Secrets in `namespace` that RBAC does not allow."""
        from kubernetes import client

        missing = []
        for verb in NEEDED_VERBS:
            review = client.V1SelfSubjectAccessReview(
                spec=client.V1SelfSubjectAccessReviewSpec(
                    resource_attributes=client.V1ResourceAttributes(
                        namespace=namespace, verb=verb, resource="secrets"
                    )
                )
            )
            answer = self._call(
                "create",
                None,
                "selfsubjectaccessreviews",
                lambda r=review: (
                    self._api.authorization.create_self_subject_access_review(r)
                ),
            )
            if not getattr(getattr(answer, "status", None), "allowed", False):
                missing.append(verb)
        return missing

    # -- helpers ---------------------------------------------------------------

    def _compare(self, info: VersionInfo, obj: Any) -> Drift:
        ref = f"{info.namespace}/{info.name}"
        if obj is None:
            return Drift(info.namespace, info.name, "missing", added=list(info.keys))
        last_applied = d.LAST_APPLIED in d.annotations_of(obj)
        if d.in_step(obj, ref, info.version, self._key):
            return Drift(
                info.namespace, info.name, "in-step", last_applied=last_applied
            )

        store = self._secrets.get(info.namespace, info.name).data
        cluster = d.live_data(obj) or {}
        changed = [
            k for k in sorted(store.keys() & cluster.keys()) if store[k] != cluster[k]
        ]
        return Drift(
            info.namespace,
            info.name,
            "drifted",
            added=sorted(store.keys() - cluster.keys()),
            removed=sorted(cluster.keys() - store.keys()),
            changed=changed,
            last_applied=last_applied,
        )

    def secrets_in_store(self, namespaces: Iterable[str] = ()) -> list[VersionInfo]:
        """The live secrets of the store, in `namespaces` or in all."""
        chosen = list(namespaces)
        found = (
            [s for ns in chosen for s in self._secrets.list(ns)]
            if chosen
            else self._secrets.list()
        )
        return [
            s
            for s in found
            if s.state == "live" and s.namespace not in RESERVED_NAMESPACES
        ]

    def _managed(self, namespaces: list[str]) -> dict[tuple[str, str], Any]:
        """Managed Secrets: one cluster-wide list, or one per namespace on 403."""
        try:
            items = self._call(
                "list",
                None,
                None,
                lambda: self._api.core.list_secret_for_all_namespaces(
                    label_selector=d.SELECTOR
                ),
            ).items
            wanted = set(namespaces)
            return {
                d.name_of(o): o
                for o in items
                if not wanted or d.name_of(o)[0] in wanted
            }
        except KubeForbidden:
            found: dict[tuple[str, str], Any] = {}
            for namespace in namespaces:
                result = self._call(
                    "list",
                    namespace,
                    None,
                    lambda ns=namespace: self._api.core.list_namespaced_secret(
                        ns, label_selector=d.SELECTOR
                    ),
                )
                found.update({d.name_of(o): o for o in result.items})
            return found

    def _read(self, namespace: str, name: str) -> Any:
        from kubernetes.client.exceptions import ApiException

        try:
            return self._api.core.read_namespaced_secret(name, namespace)
        except ApiException as exc:
            if exc.status == 404 and _is_secret_missing(exc):
                return None
            raise translate(exc, "get", namespace, name) from None
        except Exception as exc:  # urllib3 connection and TLS errors
            raise translate(exc, "get", namespace, name) from None

    def _clear_foreign(
        self, namespace: str, name: str, live: Any, wanted: set[str]
    ) -> None:
        """Remove what server-side apply would leave behind on a takeover.

        Apply only removes fields this manager owned before, so keys added
        by someone else (drift) and a `last-applied-configuration`
        annotation are removed with one merge patch first.
        """
        patch: dict[str, Any] = {}
        extra = sorted(set(d.live_data(live) or {}) - wanted)
        if extra:
            patch["data"] = dict.fromkeys(extra)
        if d.LAST_APPLIED in d.annotations_of(live):
            patch["metadata"] = {"annotations": {d.LAST_APPLIED: None}}
        if not patch:
            return
        self._call(
            "patch",
            namespace,
            name,
            lambda: self._api.core.patch_namespaced_secret(
                name,
                namespace,
                patch,
                field_manager=d.MANAGER,
                _content_type="application/merge-patch+json",
            ),
        )

    def _call(
        self, verb: str, namespace: str | None, name: str | None, call: Any
    ) -> Any:
        try:
            return call()
        except KubeError:
            raise
        except Exception as exc:
            raise translate(exc, verb, namespace, name) from None


def _is_secret_missing(exc: Any) -> bool:
    """A 404 for the Secret itself, not for its namespace."""
    details = status_body(exc.body).get("details") or {}
    return isinstance(details, dict) and details.get("kind") in ("secrets", None)
