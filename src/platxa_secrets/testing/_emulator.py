"""`KubeEmulator`: a stateful Kubernetes API server for Secrets, in-process.

It listens on 127.0.0.1 on a free port and speaks enough of the
Kubernetes REST API (Namespaces, Secrets, SelfSubjectAccessReviews,
discovery) for the official `kubernetes` client to work against it
over real HTTP, from a kubeconfig the emulator writes. Tests reach
past the wire through accessors that return copies: the stored
objects, the calls made, the policy in force, failures to inject.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import secrets as _random
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType

from platxa_secrets.clock import Clock, SystemClock
from platxa_secrets.testing._handlers import Api
from platxa_secrets.testing._instrument import (
    Call,
    CallLog,
    Failure,
    FailurePlan,
    verbs_of,
)
from platxa_secrets.testing._policy import DEFAULT_USER, Policy
from platxa_secrets.testing._selectors import field_matcher, label_matcher
from platxa_secrets.testing._server import EmulatorServer
from platxa_secrets.testing._status import JSON, ApiError
from platxa_secrets.testing._store import Store

SEED_MANAGER = "platxa-emulator"


class KubeEmulator:
    """A Kubernetes API server for Secrets and Namespaces, on 127.0.0.1.

    Use it as a context manager, or call `start()` and `stop()`. The
    bearer `token` is random unless given; requests without it get a
    401, as requests denied by `policy` get a 403 that names `user`.
    The emulator is a test double: it keeps Secret data in memory in
    plain base64, exactly as the API server returns it.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        user: str = DEFAULT_USER,
        policy: Policy | None = None,
        namespaces: Iterable[str] = (),
        clock: Clock | None = None,
    ) -> None:
        self.token = token or _random.token_urlsafe(32)
        self.user = user
        self.policy = policy or Policy.allow_all()
        self._store = Store(clock or SystemClock())
        self._calls = CallLog()
        self._failures = FailurePlan()
        self._bugs: list[tuple[str, list[str]]] = []
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None
        for name in namespaces:
            self.create_namespace(name)

    # Lifecycle

    def start(self) -> KubeEmulator:
        """Bind a free loopback port and serve in a background thread."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        server = EmulatorServer(
            self, Api(self._store), self._calls, self._failures, self._bugs
        )
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="kube-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every connection; safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.drop_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> KubeEmulator:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`; only while running."""
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # Client configuration

    def kubeconfig(
        self, context: str = "emulator", namespace: str | None = None
    ) -> JSON:
        """A kubeconfig document whose one context points at this emulator."""
        context_body: JSON = {"cluster": context, "user": context}
        if namespace is not None:
            context_body["namespace"] = namespace
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": context, "cluster": {"server": self.url}}],
            "users": [{"name": context, "user": {"token": self.token}}],
            "contexts": [{"name": context, "context": context_body}],
            "current-context": context,
            "preferences": {},
        }

    def write_kubeconfig(
        self,
        path: str | os.PathLike[str],
        context: str = "emulator",
        namespace: str | None = None,
    ) -> Path:
        """Write `kubeconfig()` as JSON (valid YAML), readable by owner only.

        The file holds the bearer token, hence mode 0600.
        """
        target = Path(path)
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(self.kubeconfig(context, namespace), handle, indent=2)
        return target

    # State, for setting up and asserting

    def create_namespace(
        self, name: str, labels: Mapping[str, str] | None = None
    ) -> JSON:
        """Create a Namespace directly, without a request or a policy check."""
        body = {"metadata": {"name": name, "labels": dict(labels or {})}}
        return self._store.create_namespace(body)

    def namespaces(self) -> list[str]:
        listed = self._store.list_namespaces(label_matcher(""))
        return [item["metadata"]["name"] for item in listed["items"]]

    def put_secret(
        self,
        namespace: str,
        name: str,
        data: Mapping[str, str | bytes],
        *,
        type: str = "Opaque",
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        immutable: bool | None = None,
    ) -> JSON:
        """Create a Secret directly, as manager `platxa-emulator`."""
        encoded = {
            key: base64.b64encode(
                value.encode("utf-8") if isinstance(value, str) else value
            ).decode("ascii")
            for key, value in data.items()
        }
        metadata: JSON = {"name": name, "labels": dict(labels or {})}
        metadata["annotations"] = dict(annotations or {})
        body: JSON = {"metadata": metadata, "type": type, "data": encoded}
        if immutable is not None:
            body["immutable"] = immutable
        return self._store.create_secret(namespace, body, SEED_MANAGER)

    def secret(self, namespace: str, name: str) -> JSON | None:
        """A copy of the stored Secret in wire form, or None."""
        try:
            return self._store.secret(namespace, name)
        except ApiError:
            return None

    def secret_data(self, namespace: str, name: str) -> dict[str, bytes]:
        """The decoded `data` of a stored Secret; KeyError if there is none."""
        found = self.secret(namespace, name)
        if found is None:
            raise KeyError(f"no Secret {namespace}/{name}")
        return {k: base64.b64decode(v) for k, v in found.get("data", {}).items()}

    def secrets(self, namespace: str = "") -> list[JSON]:
        """Copies of the stored Secrets, of one namespace or of all."""
        listed = self._store.list_secrets(
            namespace, label_matcher(""), field_matcher("")
        )
        return [
            {"kind": "Secret", "apiVersion": "v1", **item} for item in listed["items"]
        ]

    # Instrumentation

    @property
    def calls(self) -> tuple[Call, ...]:
        """Every request answered since the start or the last reset."""
        return self._calls.snapshot()

    def reset_calls(self) -> None:
        self._calls.reset()

    def count(
        self,
        verb: str | None = None,
        resource: str | None = None,
        namespace: str | None = None,
    ) -> int:
        """How many recorded calls match every filter given."""
        return sum(
            1
            for call in self.calls
            if (verb is None or call.verb == verb)
            and (resource is None or call.resource == resource)
            and (namespace is None or call.namespace == namespace)
        )

    def fail_next(
        self,
        times: int = 1,
        *,
        status: int = 503,
        close: bool = False,
        retry_after: int | None = None,
        verbs: str | Iterable[str] | None = None,
    ) -> None:
        """Make the next `times` matching requests fail.

        With `close=True` the server cuts the connection without an
        answer; otherwise it sends a `Status` with code `status`.
        `verbs` limits the failures to requests with those RBAC verbs.
        """
        if not close and not 400 <= status <= 599:
            raise ValueError("an injected failure needs a 4xx or 5xx status")
        failure = Failure(0 if close else status, retry_after, verbs_of(verbs))
        self._failures.add(failure, times)

    def clear_failures(self) -> None:
        self._failures.clear()

    @property
    def internal_errors(self) -> list[tuple[str, list[str]]]:
        """Bugs the emulator met while serving: type and traceback, no message.

        A test fixture asserting this is empty catches emulator bugs
        that a client would only see as an unexplained 500.
        """
        return copy.deepcopy(self._bugs)
