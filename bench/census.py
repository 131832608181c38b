"""Time of the key census (ciphertexts per key id) over N values.

Why: the census is always available and exported as a metric (DESIGN
§7), so it runs on every scrape and before every re-encryption and key
destruction; on a store of a million values it must still answer in
under a second.

What is measured, for each database (SQLite, PostgreSQL): N values
(default 1,000,000: secrets of 5 keys x 2 versions), the first half
under one data key, the second half under a newer one, written in bulk
as the store lays them out (see pxsbench.py). Then, interleaved, after a
warm-up, 5 times each (the median is reported):

- census: `key_rows.census(tx)` in a `Database.read()` transaction, as
  the services call it. Goal: < 1 s.
- count: `SELECT COUNT(*) FROM secret_values` on the same connection,
  the least any census that visits every row pays (the baseline).
- by kid: `SELECT kid, COUNT(*) … WHERE kid IS NOT NULL GROUP BY kid`,
  which the `kid` index answers alone: what a census could cost if it
  did not read `ciphertext` (reference only; legacy rows would need one
  more small query).

The result must equal what was written. The stores live in a
temporary PLATXA_SECRETS_HOME with a generated master key; on
PostgreSQL (127.0.0.1 only) in a schema created and dropped here, and
vacuumed after the load as autovacuum would.

    .venv/bin/python bench/census.py [--rows N] [--quick] [--json]
        [--database sqlite|postgresql|both] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import pxsbench

from platxa_secrets.core.store import key_rows
from platxa_secrets.services.initialise import initialise
from platxa_secrets.services.runtime import Runtime

GOAL_SECONDS = 1.0
COUNT_SQL = "SELECT COUNT(*) FROM secret_values"
BY_KID_SQL = (
    "SELECT kid, COUNT(*) FROM secret_values WHERE kid IS NOT NULL GROUP BY kid"
)


def build(runtime: Runtime, secrets_count: int) -> tuple[dict[str | None, int], float]:
    """Half the values under a first key, the rest under a second one.

    Returns the census expected and the seconds the load took.
    """
    initialise(runtime)
    first = runtime.keyring().active_kid
    salt = secrets.token_bytes(16)
    half = secrets_count // 2
    seconds = pxsbench.fill(runtime, salt, 1, half)
    second = pxsbench.rotate_now(runtime)
    seconds += pxsbench.fill(runtime, salt, half + 1, secrets_count - half)
    expected = {
        first: half * pxsbench.PER_SECRET,
        second: (secrets_count - half) * pxsbench.PER_SECRET,
    }
    return expected, seconds


Case = Callable[[], Any]


def cases(runtime: Runtime) -> dict[str, Case]:
    database = runtime.database

    def census() -> dict[str | None, int]:
        with database.read() as tx:
            return key_rows.census(tx)

    def query(sql: str) -> Case:
        def run() -> list[tuple[Any, ...]]:
            with database.read() as tx:
                return tx.all(sql)

        return run

    return {"census": census, "count": query(COUNT_SQL), "by_kid": query(BY_KID_SQL)}


def timings(runs: dict[str, Case], repeat: int) -> dict[str, list[float]]:
    """Seconds of each case, `repeat` times, interleaved, after a warm-up."""
    for run in runs.values():
        run()
    samples: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(repeat):
        for label, run in runs.items():
            started = time.perf_counter()
            run()
            samples[label].append(time.perf_counter() - started)
    return samples


def bench_database(dialect: str, args: argparse.Namespace) -> dict[str, Any]:
    secrets_count = args.rows // pxsbench.PER_SECRET
    with pxsbench.temporary_store(dialect, args.pg_url) as store:
        runtime = store.runtime()
        try:
            expected, build_seconds = build(runtime, secrets_count)
            runs = cases(runtime)
            got = runs["census"]()
            if got != expected:
                raise SystemExit(f"bench: {dialect} census {got} != {expected}")
            total = sum(count for (count,) in runs["count"]())
            if total != sum(expected.values()):
                raise SystemExit(f"bench: {dialect} holds {total} values")
            samples = timings(runs, args.repeat)
        finally:
            runtime.close()

    medians = {label: statistics.median(values) for label, values in samples.items()}
    return {
        "rows": sum(expected.values()),
        "keys": len(expected),
        "build_seconds": round(build_seconds, 2),
        "seconds": {
            label: {
                "median": round(medians[label], 4),
                "min": round(min(values), 4),
                "max": round(max(values), 4),
            }
            for label, values in samples.items()
        },
        "ratio_census_over_count": round(medians["census"] / medians["count"], 3),
        "ratio_census_over_by_kid": round(medians["census"] / medians["by_kid"], 3),
    }


def print_table(result: dict[str, Any]) -> None:
    print(
        f"census of {result['rows']:,} values, median of {result['repeat']} "
        f"interleaved runs; load average {result['load_average']} at start, "
        f"{result['load_average_end']} at the end (2 cores)"
    )
    labels = {
        "census": "key_rows.census (GROUP BY kid)",
        "count": "bare SELECT COUNT(*)",
        "by_kid": "GROUP BY kid from the kid index",
    }
    for dialect, data in result["databases"].items():
        print()
        if "skipped" in data:
            print(f"{dialect}: skipped ({data['skipped']})")
            continue
        print(
            f"{dialect}: built {data['rows']:,} rows under {data['keys']} keys in "
            f"{data['build_seconds']:.1f} s"
        )
        print(f"  {'case':<36}{'median s':>10}{'min s':>9}{'max s':>9}")
        for label, text in labels.items():
            run = data["seconds"][label]
            note = ""
            if label == "census":
                ok = run["median"] < GOAL_SECONDS
                note = "  ok" if ok else f"  ABOVE GOAL {GOAL_SECONDS:g} s"
            print(
                f"  {text:<36}{run['median']:>10.3f}{run['min']:>9.3f}"
                f"{run['max']:>9.3f}{note}"
            )
        print(
            f"  census / count = {data['ratio_census_over_count']:.2f}, "
            f"census / by kid = {data['ratio_census_over_by_kid']:.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, help="values in the store (1,000,000)")
    parser.add_argument("--quick", action="store_true", help="50,000 values")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--database", choices=("sqlite", "postgresql", "both"), default="both"
    )
    parser.add_argument("--pg-url", default=pxsbench.PG_URL, help="loopback only")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each case")
    args = parser.parse_args(argv)
    args.rows = args.rows or (50_000 if args.quick else 1_000_000)
    if args.rows < 2 * pxsbench.PER_SECRET or args.repeat < 1:
        parser.error(f"--rows must be at least {2 * pxsbench.PER_SECRET}")

    result: dict[str, Any] = {
        "rows": args.rows // pxsbench.PER_SECRET * pxsbench.PER_SECRET,
        "repeat": args.repeat,
        "load_average": pxsbench.load_average(),
        "goal_seconds": GOAL_SECONDS,
    }
    result["databases"] = pxsbench.run_databases(args, bench_database)
    result["load_average_end"] = pxsbench.load_average()

    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
