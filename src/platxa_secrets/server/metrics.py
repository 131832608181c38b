"""The server's Prometheus metrics, kept in memory and rendered as text.

    pxs_http_requests_total{route="/v1/namespaces/{namespace}/secrets/{name}",
                            method="GET",status="200"} 12
    pxs_http_errors_total{route="…",problem="conflict"} 1
    pxs_http_auth_failures_total{reason="expired"} 3
    pxs_http_request_duration_seconds_bucket{route="…",le="0.005"} 10
    pxs_census_up 1
    pxs_ciphertexts{kid="7f3a09c1"} 4211

Every label comes from a small, fixed set: the route *template* (never
the path a caller typed, so names cannot inflate the series), a status,
a problem slug, an authentication failure class, a key id. Nothing
here holds a token, a token id or a value. The census (ciphertexts per
key id) is a count over the store, so it is cached for `CENSUS_TTL`;
when the store cannot count it, `pxs_ciphertexts` is left out rather
than shown stale, `pxs_census_up` is 0, and the HTTP counters are
served all the same.

Counters are per process: with several workers, Prometheus sums the
series of every worker it scrapes.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping

CENSUS_TTL = 30.0
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# AuthenticationError.reason → a class. Unknown reasons fall into
# "invalid", so a new reason text can never add a series.
_REASON_CLASSES = (
    ("query", "query_string"),
    ("missing", "missing"),
    ("empty", "missing"),
    ("scheme", "wrong_scheme"),
    ("non-ascii", "malformed"),
    ("malformed", "malformed"),
    ("checksum", "malformed"),
    ("several", "malformed"),
    ("unknown", "unknown"),
    ("wrong token secret", "unknown"),
    ("revoked", "revoked"),
    ("expired", "expired"),
)

Labels = tuple[tuple[str, str], ...]


def reason_class(reason: object) -> str:
    """The bounded class of an authentication failure's reason text."""
    text = str(reason or "").lower()
    for needle, shown in _REASON_CLASSES:
        if needle in text:
            return shown
    return "invalid"


class Metrics:
    """Counters and a latency histogram, safe to update from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[Labels] = Counter()
        self._errors: Counter[Labels] = Counter()
        self._auth_failures: Counter[Labels] = Counter()
        self._buckets: dict[str, list[int]] = {}
        self._sums: dict[str, float] = {}
        self._census: tuple[float, Mapping[str | None, int]] | None = None

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one finished request and its latency."""
        with self._lock:
            shown = method if method in _METHODS else "other"
            key = (("route", route), ("method", shown), ("status", str(status)))
            self._requests[key] += 1
            counts = self._buckets.setdefault(route, [0] * (len(BUCKETS) + 1))
            counts[bisect.bisect_left(BUCKETS, seconds)] += 1
            self._sums[route] = self._sums.get(route, 0.0) + seconds

    def problem(self, route: str, slug: str) -> None:
        with self._lock:
            self._errors[(("route", route), ("problem", slug))] += 1

    def auth_failure(self, reason: object) -> None:
        with self._lock:
            self._auth_failures[(("reason", reason_class(reason)),)] += 1

    def cached_census(self) -> Mapping[str | None, int] | None:
        """The census if it was counted less than `CENSUS_TTL` s ago."""
        cached = self._census
        if cached is not None and time.monotonic() - cached[0] < CENSUS_TTL:
            return cached[1]
        return None

    def store_census(
        self, counts: Mapping[str | None, int]
    ) -> Mapping[str | None, int]:
        self._census = (time.monotonic(), dict(counts))
        return counts

    def render(self, census: Mapping[str | None, int] | None) -> str:
        """The exposition text (Prometheus format 0.0.4)."""
        with self._lock:
            lines: list[str] = []
            _counter(lines, "pxs_http_requests_total", "HTTP requests", self._requests)
            _counter(
                lines,
                "pxs_http_errors_total",
                "HTTP problem responses by family",
                self._errors,
            )
            _counter(
                lines,
                "pxs_http_auth_failures_total",
                "Refused credentials by reason class",
                self._auth_failures,
            )
            self._histogram(lines)

        lines += [
            "# HELP pxs_census_up 1 if the store counted the census, else 0",
            "# TYPE pxs_census_up gauge",
            f"pxs_census_up {int(census is not None)}",
            "# HELP pxs_ciphertexts Stored ciphertexts per data key id",
            "# TYPE pxs_ciphertexts gauge",
        ]
        for kid, count in sorted((census or {}).items(), key=lambda i: str(i[0])):
            lines.append(_sample("pxs_ciphertexts", (("kid", kid or "legacy"),), count))
        return "\n".join(lines) + "\n"

    def _histogram(self, lines: list[str]) -> None:
        name = "pxs_http_request_duration_seconds"
        lines += [f"# HELP {name} Request latency", f"# TYPE {name} histogram"]
        for route in sorted(self._buckets):
            running = 0
            bounds = [*(repr(b) for b in BUCKETS), "+Inf"]
            for bound, count in zip(bounds, self._buckets[route], strict=True):
                running += count
                labels = (("route", route), ("le", bound))
                lines.append(_sample(f"{name}_bucket", labels, running))
            route_label = (("route", route),)
            lines.append(_sample(f"{name}_sum", route_label, self._sums[route]))
            lines.append(_sample(f"{name}_count", route_label, running))


def _counter(
    lines: list[str], name: str, help_text: str, counts: Counter[Labels]
) -> None:
    lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
    lines.extend(_sample(name, labels, counts[labels]) for labels in sorted(counts))


def _sample(name: str, labels: Iterable[tuple[str, str]], value: float) -> str:
    shown = ",".join(f'{key}="{_escape(text)}"' for key, text in labels)
    return f"{name}{{{shown}}} {value}"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
