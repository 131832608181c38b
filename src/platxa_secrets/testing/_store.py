"""The emulator's state: Namespaces and Secrets, behind one lock.

Objects are kept in their wire form, the JSON a real server returns,
so a read is a deep copy and nothing a caller does to it leaks back.
Every write takes the next `resourceVersion` from one counter shared
by all objects, as etcd's revision is. A write that changes nothing
(the same PUT twice, a repeated apply) stores nothing and keeps the
`resourceVersion`, which is how a reconciler shows it cost no write.

Operations run in the server's order: decode (400), namespace exists
(404), validate (422), preconditions and existence (409), store.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable

from platxa_secrets.clock import Clock
from platxa_secrets.testing import _fields
from platxa_secrets.testing._decoding import decode_namespace, decode_secret
from platxa_secrets.testing._objects import (
    check_name,
    check_namespace,
    generated_name,
    list_body,
    namespace_object,
    ordered_metadata,
    ordered_secret,
    precondition_failure,
    same_but_times,
    without_type,
)
from platxa_secrets.testing._selectors import Matcher
from platxa_secrets.testing._status import (
    JSON,
    STALE,
    already_exists,
    bad_request,
    conflict,
    internal,
    invalid,
    not_found,
    success,
)
from platxa_secrets.testing._validation import (
    label_errors,
    namespace_errors,
    secret_errors,
    secret_update_errors,
)


class Store:
    """Thread-safe Namespaces and Secrets; every method returns copies."""

    def __init__(self, clock: Clock) -> None:
        self._lock = threading.RLock()
        self._clock = clock
        self._revision = 0
        self._namespaces: dict[str, JSON] = {}
        self._secrets: dict[tuple[str, str], JSON] = {}

    def now(self) -> str:
        return self._clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")

    # Namespaces

    def create_namespace(self, body: JSON, dry_run: bool = False) -> JSON:
        name, labels = decode_namespace(body)
        errors = namespace_errors(name) + label_errors(labels)
        if errors:
            raise invalid("Namespace", name, errors)
        with self._lock:
            if name in self._namespaces:
                raise already_exists("namespaces", name)
            namespace = namespace_object(name, labels, self._stamp({}, None, dry_run))
            if not dry_run:
                self._namespaces[name] = namespace
            return copy.deepcopy(namespace)

    def namespace(self, name: str) -> JSON:
        with self._lock:
            if name not in self._namespaces:
                raise not_found("namespaces", name)
            return copy.deepcopy(self._namespaces[name])

    def list_namespaces(self, labels: Matcher) -> JSON:
        with self._lock:
            items = [
                without_type(ns)
                for _, ns in sorted(self._namespaces.items())
                if labels(ns["metadata"].get("labels", {}))
            ]
            return self._list("NamespaceList", items)

    def delete_namespace(self, name: str, dry_run: bool = False) -> JSON:
        """Remove a Namespace and its Secrets at once; return it `Terminating`."""
        with self._lock:
            gone = self.namespace(name)
            gone["metadata"]["deletionTimestamp"] = self.now()
            gone["metadata"] = ordered_metadata(gone["metadata"])
            gone["status"]["phase"] = "Terminating"
            if not dry_run:
                del self._namespaces[name]
                for key in [key for key in self._secrets if key[0] == name]:
                    del self._secrets[key]
                gone["metadata"]["resourceVersion"] = self._next_revision()
            return gone

    # Secrets

    def secret(self, namespace: str, name: str) -> JSON:
        with self._lock:
            found = self._secrets.get((namespace, name))
            if found is None:
                raise not_found("secrets", name)
            return copy.deepcopy(found)

    def list_secrets(
        self, namespace: str, labels: Matcher, fields: Callable[[JSON], bool]
    ) -> JSON:
        """Secrets of one namespace, or of all when `namespace` is empty."""
        with self._lock:
            items = [
                without_type(secret)
                for (ns, _), secret in sorted(self._secrets.items())
                if (not namespace or ns == namespace)
                and labels(secret["metadata"].get("labels", {}))
                and fields(secret)
            ]
            return self._list("SecretList", items)

    def create_secret(
        self, namespace: str, body: JSON, manager: str, dry_run: bool = False
    ) -> JSON:
        secret = decode_secret(body)
        check_namespace(secret, namespace)
        with self._lock:
            self._require_namespace(namespace)
            metadata = secret["metadata"]
            if not metadata.get("name") and metadata.get("generateName"):
                metadata["name"] = generated_name(metadata["generateName"])
            if (body.get("metadata") or {}).get("resourceVersion"):
                raise internal(
                    "resourceVersion should not be set on objects to be created"
                )
            entries = _fields.record_update([], None, secret, manager, self.now())
            return self._insert(namespace, secret, entries, dry_run)

    def replace_secret(
        self, namespace: str, name: str, body: JSON, manager: str, dry_run: bool = False
    ) -> JSON:
        """PUT: a whole new object, checked against `resourceVersion` if set."""
        secret = decode_secret(body)
        check_namespace(secret, namespace)
        check_name(secret["metadata"].get("name", ""), name)
        with self._lock:
            old = self.secret(namespace, name)
            wanted = (body.get("metadata") or {}).get("resourceVersion")
            if wanted and wanted != old["metadata"]["resourceVersion"]:
                raise conflict("secrets", name, STALE)
            entries = _fields.record_update(
                old["metadata"].get("managedFields", []),
                old,
                secret,
                manager,
                self.now(),
            )
            return self._replace(old, secret, entries, dry_run)

    def patch_secret(
        self,
        namespace: str,
        name: str,
        patch: Callable[[JSON], JSON],
        manager: str,
        dry_run: bool = False,
    ) -> JSON:
        """Read, patch and write under one lock, so no update slips between."""
        with self._lock:
            patched = patch(self.secret(namespace, name))
            if not isinstance(patched.get("metadata"), dict):
                patched["metadata"] = {}
            patched["metadata"].setdefault("name", name)
            return self.replace_secret(namespace, name, patched, manager, dry_run)

    def apply_secret(
        self,
        namespace: str,
        name: str,
        config: JSON,
        manager: str,
        force: bool,
        dry_run: bool = False,
    ) -> tuple[JSON, bool]:
        """Server-side apply; the flag says whether the Secret was created."""
        if config.get("apiVersion") != "v1" or config.get("kind") != "Secret":
            raise bad_request("apply patch must set apiVersion v1 and kind Secret")
        applied = decode_secret(config)
        metadata = config.get("metadata") or {}
        check_name(applied["metadata"].get("name", name), name)
        check_namespace(applied, namespace)

        with self._lock:
            live = self._secrets.get((namespace, name))
            if live is None:
                self._require_namespace(namespace)
            entries = live["metadata"].get("managedFields", []) if live else []
            merged, entries = _fields.apply(
                live, config, entries, manager, force, self.now()
            )
            merged.setdefault("metadata", {})["name"] = name
            merged.update(kind="Secret", apiVersion="v1")
            secret = decode_secret(merged)
            if live is None:
                return self._insert(namespace, secret, entries, dry_run), True
            wanted = metadata.get("resourceVersion")
            if wanted and wanted != live["metadata"]["resourceVersion"]:
                raise conflict("secrets", name, STALE)
            return self._replace(copy.deepcopy(live), secret, entries, dry_run), False

    def delete_secret(
        self, namespace: str, name: str, preconditions: JSON, dry_run: bool = False
    ) -> JSON:
        with self._lock:
            old = self.secret(namespace, name)
            if failure := precondition_failure(old, preconditions):
                raise failure
            if not dry_run:
                del self._secrets[(namespace, name)]
                self._next_revision()
            return success("secrets", name, old["metadata"]["uid"])

    # Steps shared by the writes

    def _insert(
        self, namespace: str, secret: JSON, entries: list[JSON], dry_run: bool
    ) -> JSON:
        name = secret["metadata"].get("name", "")
        if errors := secret_errors(secret):
            raise invalid("Secret", name, errors)
        if (namespace, name) in self._secrets:
            raise already_exists("secrets", name)

        secret["metadata"]["namespace"] = namespace
        secret["metadata"].pop("generateName", None)
        secret["metadata"]["managedFields"] = entries
        secret["metadata"] = self._stamp(secret["metadata"], None, dry_run)
        stored = ordered_secret(secret)
        if not dry_run:
            self._secrets[(namespace, name)] = stored
        return copy.deepcopy(stored)

    def _replace(
        self, old: JSON, secret: JSON, entries: list[JSON], dry_run: bool
    ) -> JSON:
        metadata = old["metadata"]
        if errors := secret_update_errors(secret, old):
            raise invalid("Secret", metadata["name"], errors)

        secret["metadata"]["namespace"] = metadata["namespace"]
        secret["metadata"]["managedFields"] = entries
        secret["metadata"] = self._stamp(secret["metadata"], old, dry_run=True)
        candidate = ordered_secret(secret)
        if same_but_times(candidate, old):
            return old

        if not dry_run:
            candidate["metadata"]["resourceVersion"] = self._next_revision()
            self._secrets[(metadata["namespace"], metadata["name"])] = candidate
        return copy.deepcopy(candidate)

    def _stamp(self, metadata: JSON, old: JSON | None, dry_run: bool) -> JSON:
        """Server-owned metadata: kept from `old`, or new for a create."""
        if old is not None:
            for field in ("uid", "resourceVersion", "creationTimestamp"):
                metadata[field] = old["metadata"][field]
        else:
            metadata["uid"] = str(uuid.uuid4())
            metadata["creationTimestamp"] = self.now()
            metadata["resourceVersion"] = (
                str(self._revision + 1) if dry_run else self._next_revision()
            )
        return ordered_metadata(metadata)

    def _require_namespace(self, namespace: str) -> None:
        if namespace not in self._namespaces:
            raise not_found("namespaces", namespace)

    def _next_revision(self) -> str:
        self._revision += 1
        return str(self._revision)

    def _list(self, kind: str, items: list[JSON]) -> JSON:
        return list_body(kind, self._revision, items)
