"""Wall time of `pxs secret get` against starting Python with Fernet.

Why: `pxs secret get` is called from scripts and init containers, often
many times in a row, so its start-up is most of its cost. The CLI
imports its subcommands lazily and keeps Alembic, SQLAlchemy and Rich
off the read path (cli/main.py); this script checks that claim with
the real console script.

What is measured: the median wall time of

    pxs secret get bench/odoo-db --key PASSWORD -o raw

run as a subprocess, over the baseline

    python -c "import cryptography.fernet"

with the same interpreter: the least any Python tool that decrypts a
Fernet token must pay. Both run N times (default 30), interleaved,
after a warm-up. Goal: ratio <= 3.

Then one `secret get` runs with `-X importtime`, and the script lists
which heavy packages that process imported (sqlalchemy, alembic, rich,
kubernetes, fastapi, yaml, pydantic: none is needed to read a secret)
and the slowest top-level imports.

The store is prepared once (`pxs init`, `pxs secret set` from a temp
file) in a temporary PLATXA_SECRETS_HOME with a generated master key in
the subprocess environment; nothing outside it is touched.

    .venv/bin/python bench/cli.py [--runs N] [--quick] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

REF, KEY = "bench/odoo-db", "PASSWORD"
VALUE = b"s3cret-value-of-a-typical-length"
HEAVY = ("sqlalchemy", "alembic", "rich", "kubernetes", "fastapi", "yaml", "pydantic")
RATIO_GOAL = 3.0
WARMUP = 3


def pxs_command() -> list[str]:
    """The installed console script beside this interpreter, else `-m`."""
    script = Path(sys.executable).parent / "pxs"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "platxa_secrets.cli.main"]


def bench_env(home: Path) -> dict[str, str]:
    """This process's environment without PLATXA_SECRETS_*, plus ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLATXA_SECRETS_")}
    env["PLATXA_SECRETS_HOME"] = str(home)
    env["PLATXA_SECRETS_MASTER_KEY"] = Fernet.generate_key().decode("ascii")
    return env


def run(command: Sequence[str], env: Mapping[str, str]) -> bytes:
    """Run a command; fail loudly with its stderr if it fails."""
    done = subprocess.run(command, env=env, capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(
            f"bench: {' '.join(command)} exited {done.returncode}: "
            f"{done.stderr.decode('utf-8', 'replace').strip()}"
        )
    return done.stdout


def prepare(pxs: list[str], home: Path, env: Mapping[str, str]) -> None:
    run([*pxs, "init"], env)
    source = home / "value.bin"
    source.write_bytes(VALUE)
    run([*pxs, "secret", "set", REF, f"{KEY}=@{source}"], env)
    source.unlink()


def timed(command: Sequence[str], env: Mapping[str, str]) -> tuple[float, bytes]:
    start = time.perf_counter()
    out = run(command, env)
    return time.perf_counter() - start, out


def wall_times(
    get: list[str], baseline: list[str], env: Mapping[str, str], runs: int
) -> tuple[list[float], list[float]]:
    """Interleaved wall times; the order alternates to cancel drift."""
    for _ in range(WARMUP):
        run(baseline, env)
        run(get, env)

    get_times: list[float] = []
    base_times: list[float] = []
    for i in range(runs):
        pair = [(baseline, base_times), (get, get_times)]
        for command, times in pair if i % 2 == 0 else reversed(pair):
            seconds, out = timed(command, env)
            if command is get and out != VALUE:
                raise SystemExit("bench: `pxs secret get` printed the wrong value")
            times.append(seconds)
    return get_times, base_times


def imports_of(get: list[str], env: Mapping[str, str]) -> dict[str, float]:
    """Top-level packages a `secret get` imports, with cumulative µs."""
    if get[0] == sys.executable:
        command = [sys.executable, "-X", "importtime", *get[1:]]
    else:
        command = [sys.executable, "-X", "importtime", *get]
    done = subprocess.run(command, env=env, capture_output=True, check=False)
    if done.returncode != 0 or done.stdout != VALUE:
        raise SystemExit("bench: `pxs secret get -X importtime` failed")

    roots: dict[str, float] = {}
    for line in done.stderr.decode("utf-8", "replace").splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = (part.strip() for part in line[12:].split("|"))
        if not cumulative.isdigit():
            continue
        root = name.split(".")[0]
        roots[root] = max(roots.get(root, 0.0), float(cumulative))
    return roots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, help="runs of each command (30)")
    parser.add_argument("--quick", action="store_true", help="10 runs each")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    runs = args.runs or (10 if args.quick else 30)

    pxs = pxs_command()
    get = [*pxs, "secret", "get", REF, "--key", KEY, "-o", "raw"]
    baseline = [sys.executable, "-c", "import cryptography.fernet"]

    with tempfile.TemporaryDirectory(prefix="pxs-bench-") as tmp:
        home = Path(tmp) / "home"
        env = bench_env(home)
        prepare(pxs, Path(tmp), env)
        get_times, base_times = wall_times(get, baseline, env, runs)
        roots = imports_of(get, env)

    get_ms = statistics.median(get_times) * 1e3
    base_ms = statistics.median(base_times) * 1e3
    heavy = {name: name in roots for name in HEAVY}
    slowest = sorted(roots.items(), key=lambda item: -item[1])[:8]
    result: dict[str, Any] = {
        "command": " ".join([Path(pxs[0]).name, *get[len(pxs) :]]),
        "runs": runs,
        "get_median_ms": round(get_ms, 2),
        "baseline_median_ms": round(base_ms, 2),
        "ratio": get_ms / base_ms,
        "goal_ratio": RATIO_GOAL,
        "heavy_imported": heavy,
        "slowest_imports_ms": {k: round(v / 1e3, 1) for k, v in slowest},
    }

    if args.json:
        print(json.dumps(result, sort_keys=True))
        return 0

    verdict = "ok" if result["ratio"] <= RATIO_GOAL else f"ABOVE GOAL {RATIO_GOAL}"
    print(f"wall time, median of {runs} interleaved runs each")
    print(f"  {'pxs secret get --key K -o raw':<40}{get_ms:>9.1f} ms")
    print(f"  {'python -c import cryptography.fernet':<40}{base_ms:>9.1f} ms")
    print(f"  {'ratio':<40}{result['ratio']:>9.2f}    {verdict} (goal <= 3)")
    print()
    print("heavy packages imported by `pxs secret get`")
    for name, imported in heavy.items():
        print(f"  {name:<12}{'IMPORTED' if imported else 'no'}")
    print()
    print("slowest top-level imports (cumulative ms)")
    for name, micros in slowest:
        print(f"  {name:<24}{micros / 1e3:>7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
