"""What tests observe and break: the call log and injected failures.

Every request the server answers is recorded as a `Call`: method,
path, the verb the authorizer saw (`get`, `list`, `create`, `update`,
`patch`, `delete`), resource, namespace, name and the status code sent.
Benchmarks count calls to prove that an unchanged secret costs no
write; error-path tests queue failures that the next matching requests
meet instead of an answer: a 5xx `Status`, or a connection closed
without a response. Calls record no body, so no Secret data.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Call:
    """One request as the server understood it.

    `status` is the HTTP code sent back, 0 when the connection was
    dropped on purpose. `verb` and `resource` are empty for discovery.
    """

    method: str
    path: str
    verb: str
    resource: str
    namespace: str
    name: str
    status: int
    content_type: str = ""
    query: tuple[tuple[str, str], ...] = ()


class CallLog:
    """A thread-safe, append-only list of calls that tests can reset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[Call] = []

    def record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def snapshot(self) -> tuple[Call, ...]:
        with self._lock:
            return tuple(self._calls)

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()


@dataclass(frozen=True)
class Failure:
    """What a request meets instead of an answer.

    `status` 0 closes the connection without a response; any other code
    sends a `Status` of that code (500 InternalError, 503
    ServiceUnavailable, 429 TooManyRequests, ...), with a `Retry-After`
    header when `retry_after` is set.
    """

    status: int = 503
    retry_after: int | None = None
    verbs: frozenset[str] = field(default_factory=frozenset)

    def matches(self, verb: str) -> bool:
        return not self.verbs or verb in self.verbs


class FailurePlan:
    """Failures queued for the next matching requests, used up in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Failure] = []

    def add(self, failure: Failure, times: int) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._queue.extend([failure] * times)

    def take(self, verb: str) -> Failure | None:
        """The first queued failure matching `verb`, removed from the queue."""
        with self._lock:
            for index, failure in enumerate(self._queue):
                if failure.matches(verb):
                    return self._queue.pop(index)
            return None

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()


def verbs_of(verbs: str | Iterable[str] | None) -> frozenset[str]:
    if verbs is None:
        return frozenset()
    return frozenset([verbs] if isinstance(verbs, str) else verbs)
