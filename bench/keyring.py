"""Decrypt throughput of the keyring, and the in-process cost of a read.

Why: the keyring routes a `pxs1:<kid>:` ciphertext to its key with one
dictionary lookup, where `MultiFernet` tries every key in turn. A
keyring that keeps many retired keys through rotations must therefore
decrypt as fast with 50 keys as with 1. This script measures that claim
against `MultiFernet`, and measures what a full audited read costs over
the bare work it wraps.

What is measured, all in this process:

a) decrypts per second through the project's `Keyring` (built from the
   store by `Runtime.keyring()`) with 1 key and with 50 keys. The
   50-key case is run twice: ciphertexts spread evenly over all keys,
   and all under the oldest key (the worst case for `MultiFernet`).
   Goal: 50-key / 1-key >= 0.9 in both.
b) the same with `cryptography.fernet.MultiFernet` over the same raw
   keys, newest first, so the oldest key is tried last (expected
   ratio near 0.1 or lower when every token is under the oldest key).
   A single bare `Fernet` is also timed, as the floor.
c) `SecretService(runtime).get(ns, name)` against a bare `sqlite3`
   select of the one ciphertext row plus `Fernet.decrypt`:
   - cold: a new `Runtime` per read, as `pxs secret get` does (open
     the SQLite file, check the schema, load key rows, unwrap the data
     key, read, decrypt, append the audit event, commit); baseline
     opens a connection, selects the row, closes it and decrypts;
   - warm: one `Runtime` reused, as a server would; baseline reuses
     one open connection.

Every figure is the median of several repetitions, the cases are
interleaved within each repetition, and everything is warmed up first.
The store lives in a temporary PLATXA_SECRETS_HOME with a generated
master key; nothing outside it is touched.

    .venv/bin/python bench/keyring.py [--quick] [--json]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, MultiFernet

from platxa_secrets.clock import to_text
from platxa_secrets.core.config import Config, load_config
from platxa_secrets.core.crypto.keyring import (
    ACTIVE,
    ORIGIN_GENERATED,
    RETIRED,
    KeyRecord,
    Keyring,
)
from platxa_secrets.core.crypto.master import MasterKeys
from platxa_secrets.core.store import key_rows
from platxa_secrets.core.store.db import Tx
from platxa_secrets.core.store.migrate import upgrade
from platxa_secrets.services.keys import KeyService
from platxa_secrets.services.runtime import Runtime
from platxa_secrets.services.secrets import SecretService

MANY_KEYS = 50
VALUE = b"s3cret-value-of-a-typical-length"
NAMESPACE, NAME, KEY = "bench", "odoo-db", "PASSWORD"
RATIO_GOAL_KEYRING = 0.9


@dataclass(frozen=True)
class Keys:
    """Raw data keys and their records, oldest first; the 1-key keyring."""

    raw: list[bytes]
    records: list[KeyRecord]
    first_keyring: Keyring


def build_config(home: Path) -> Config:
    """A config for a fresh store under `home` with its own master key."""
    env = {
        "PLATXA_SECRETS_HOME": str(home),
        "PLATXA_SECRETS_MASTER_KEY": Fernet.generate_key().decode("ascii"),
    }
    return load_config(env=env, actor="bench")


def create_store(runtime: Runtime) -> Keys:
    """Migrate, create the active key, add retired keys older than it."""
    runtime.database.connect(create=True)
    upgrade(runtime.database)
    KeyService(runtime).ensure_active()
    first_keyring = runtime.keyring()

    with runtime.database.read() as tx:
        active = key_rows.load_keys(tx)[0]
    master = runtime.master_keys
    active_raw = master.unwrap(active.master_kid, active.wrapped_key, active.kid)

    extra_raw = [Fernet.generate_key() for _ in range(MANY_KEYS - 1)]
    start = datetime.now(UTC) - timedelta(days=MANY_KEYS)
    extra = [
        retired_record(f"bench{i:04d}", raw, master, start + timedelta(days=i))
        for i, raw in enumerate(extra_raw)
    ]

    def insert(tx: Tx) -> None:
        for record in extra:
            key_rows.insert_key(tx, record)

    runtime.database.write(insert)
    runtime.forget_keyring()
    return Keys([*extra_raw, active_raw], [*extra, active], first_keyring)


def retired_record(
    kid: str, raw: bytes, master: MasterKeys, created: datetime
) -> KeyRecord:
    master_kid, wrapped = master.wrap(raw)
    return KeyRecord(
        kid=kid,
        state=RETIRED,
        origin=ORIGIN_GENERATED,
        master_kid=master_kid,
        wrapped_key=wrapped,
        created_at=to_text(created),
        created_by="bench",
        activated_at=to_text(created),
        retired_at=to_text(created + timedelta(days=1)),
    )


# -- a) and b): decrypt throughput -------------------------------------------


Case = Callable[[], None]


def keyring_case(
    keyring: Keyring, master: MasterKeys, records: list[KeyRecord], count: int
) -> Case:
    """Decrypt `count` ciphertexts spread round-robin over `records`."""
    writers = {r.kid: Keyring([replace(r, state=ACTIVE)], master) for r in records}
    items = []
    for i in range(count):
        record = records[i % len(records)]
        context = f"{NAMESPACE}/{NAME}/{i}/{KEY}"
        items.append((writers[record.kid].encrypt(VALUE, context), context))

    def run() -> None:
        for ciphertext, context in items:
            keyring.decrypt(ciphertext, context)

    return run


def fernet_case(reader: Fernet | MultiFernet, writers: list[bytes], count: int) -> Case:
    """Decrypt `count` bare tokens spread round-robin over `writers`."""
    fernets = [Fernet(raw) for raw in writers]
    tokens = [fernets[i % len(fernets)].encrypt(VALUE) for i in range(count)]

    def run() -> None:
        for token in tokens:
            reader.decrypt(token)

    return run


def throughput(
    cases: dict[str, Case], count: int, repetitions: int
) -> dict[str, float]:
    """Median operations per second of each case, cases interleaved."""
    for run in cases.values():
        run()
    samples: dict[str, list[float]] = {label: [] for label in cases}
    for _ in range(repetitions):
        for label, run in cases.items():
            start = time.perf_counter()
            run()
            samples[label].append(count / (time.perf_counter() - start))
    return {label: statistics.median(values) for label, values in samples.items()}


def decrypt_bench(
    runtime: Runtime, keys: Keys, count: int, repetitions: int
) -> dict[str, float]:
    master = runtime.master_keys
    oldest, active = keys.records[0], keys.records[-1]
    with runtime.database.read() as tx:
        assert key_rows.load_keys(tx)[0].kid == oldest.kid, "oldest sorts first"

    one, many = keys.first_keyring, runtime.keyring()
    assert len(one.records) == 1 and one.active_kid == active.kid
    assert len(many.records) == MANY_KEYS and many.active_kid == active.kid

    newest = keys.raw[-1:]
    mf_one = MultiFernet([Fernet(newest[0])])
    mf_many = MultiFernet([Fernet(raw) for raw in reversed(keys.raw)])
    cases = {
        "pxs_1": keyring_case(one, master, [active], count),
        "pxs_50_spread": keyring_case(many, master, keys.records, count),
        "pxs_50_oldest": keyring_case(many, master, [oldest], count),
        "fernet": fernet_case(Fernet(newest[0]), newest, count),
        "mf_1": fernet_case(mf_one, newest, count),
        "mf_50_spread": fernet_case(mf_many, keys.raw, count),
        "mf_50_oldest": fernet_case(mf_many, keys.raw[:1], count),
    }
    return throughput(cases, count, repetitions)


# -- c): an audited read against a bare select and decrypt -------------------


def latency(cases: dict[str, Case], count: int, repetitions: int) -> dict[str, float]:
    """Median seconds per call of each case, cases interleaved."""
    for run in cases.values():
        for _ in range(max(count // 10, 5)):
            run()
    samples: dict[str, list[float]] = {label: [] for label in cases}
    for _ in range(repetitions):
        for label, run in cases.items():
            start = time.perf_counter()
            for _ in range(count):
                run()
            samples[label].append((time.perf_counter() - start) / count)
    return {label: statistics.median(values) for label, values in samples.items()}


def read_bench(
    config: Config, runtime: Runtime, keys: Keys, count: int, repetitions: int
) -> dict[str, float]:
    SecretService(runtime).put(NAMESPACE, NAME, {KEY: VALUE})
    path = runtime.database.path
    assert path is not None

    select = (
        "SELECT v.ciphertext FROM secret_values v JOIN secrets s "
        "ON s.id = v.secret_id AND v.version = s.current_version "
        "WHERE s.namespace = ? AND s.name = ? AND v.key = ?"
    )
    params = (NAMESPACE, NAME, KEY)
    fernet = Fernet(keys.raw[-1])
    open_conn = sqlite3.connect(str(path))

    def token_of(row: Any) -> bytes:
        return str(row[0]).rsplit(":", 1)[1].encode("ascii")

    def service_cold() -> None:
        fresh = Runtime(config)
        try:
            SecretService(fresh).get(NAMESPACE, NAME)
        finally:
            fresh.close()

    def baseline_cold() -> None:
        conn = sqlite3.connect(str(path))
        row = conn.execute(select, params).fetchone()
        conn.close()
        fernet.decrypt(token_of(row))

    warm = SecretService(runtime)

    def service_warm() -> None:
        warm.get(NAMESPACE, NAME)

    def baseline_warm() -> None:
        fernet.decrypt(token_of(open_conn.execute(select, params).fetchone()))

    assert SecretService(runtime).get(NAMESPACE, NAME).data[KEY] == VALUE
    result = latency(
        {
            "get_cold": service_cold,
            "bare_cold": baseline_cold,
            "get_warm": service_warm,
            "bare_warm": baseline_warm,
        },
        count,
        repetitions,
    )
    open_conn.close()
    return result


# -- report --------------------------------------------------------------------


def report(ops: dict[str, float], lat: dict[str, float]) -> dict[str, Any]:
    return {
        "keys": MANY_KEYS,
        "decrypt_ops_per_s": {k: round(v) for k, v in ops.items()},
        "ratio_pxs_50_spread_over_1": ops["pxs_50_spread"] / ops["pxs_1"],
        "ratio_pxs_50_oldest_over_1": ops["pxs_50_oldest"] / ops["pxs_1"],
        "ratio_mf_50_spread_over_1": ops["mf_50_spread"] / ops["mf_1"],
        "ratio_mf_50_oldest_over_1": ops["mf_50_oldest"] / ops["mf_1"],
        "ratio_pxs_1_over_fernet": ops["pxs_1"] / ops["fernet"],
        "read_latency_us": {k: round(v * 1e6, 1) for k, v in lat.items()},
        "ratio_get_cold_over_bare": lat["get_cold"] / lat["bare_cold"],
        "ratio_get_warm_over_bare": lat["get_warm"] / lat["bare_warm"],
        "goal_pxs_ratio": RATIO_GOAL_KEYRING,
    }


def print_table(result: dict[str, Any]) -> None:
    ops = result["decrypt_ops_per_s"]
    lat = result["read_latency_us"]
    goal = result["goal_pxs_ratio"]

    def verdict(ratio: float) -> str:
        return "ok" if ratio >= goal else f"BELOW GOAL {goal}"

    print(f"a/b) decrypt throughput, ops/s (median), {MANY_KEYS} keys vs 1")
    print(f"  {'case':<34}{'1 key':>10}{'50 keys':>10}{'ratio':>8}")
    rows = [
        ("Keyring, spread over all keys", "pxs_1", "pxs_50_spread"),
        ("Keyring, all under oldest key", "pxs_1", "pxs_50_oldest"),
        ("MultiFernet, spread over all keys", "mf_1", "mf_50_spread"),
        ("MultiFernet, all under oldest key", "mf_1", "mf_50_oldest"),
    ]
    for label, one, many in rows:
        ratio = ops[many] / ops[one]
        note = f"  {verdict(ratio)}" if one == "pxs_1" else ""
        print(f"  {label:<34}{ops[one]:>10,}{ops[many]:>10,}{ratio:>8.3f}{note}")
    print(
        f"  bare Fernet {ops['fernet']:,} ops/s; Keyring(1) / Fernet = "
        f"{result['ratio_pxs_1_over_fernet']:.3f} (format checks, framing)"
    )
    print()
    print("c) read latency, µs per call (median)")
    print(f"  {'case':<46}{'get':>9}{'bare':>9}{'ratio':>8}")
    print(
        f"  {'cold: new Runtime per read vs connect+select':<46}"
        f"{lat['get_cold']:>9}{lat['bare_cold']:>9}"
        f"{result['ratio_get_cold_over_bare']:>8.1f}"
    )
    print(
        f"  {'warm: reused Runtime vs open connection':<46}"
        f"{lat['get_warm']:>9}{lat['bare_warm']:>9}"
        f"{result['ratio_get_warm_over_bare']:>8.1f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    parser.add_argument("--tokens", type=int, help="ciphertexts per decrypt case")
    parser.add_argument("--reads", type=int, help="reads per latency sample")
    parser.add_argument("--repeat", type=int, help="repetitions per case")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    tokens = args.tokens or (200 if args.quick else 1000)
    reads = args.reads or (40 if args.quick else 200)
    repeat = args.repeat or (3 if args.quick else 7)

    with tempfile.TemporaryDirectory(prefix="pxs-bench-") as home:
        config = build_config(Path(home))
        runtime = Runtime(config, actor="bench")
        try:
            keys = create_store(runtime)
            ops = decrypt_bench(runtime, keys, tokens, repeat)
            lat = read_bench(config, runtime, keys, reads, repeat)
        finally:
            runtime.close()

    result = report(ops, lat)
    result.update(tokens=tokens, reads=reads, repeat=repeat)
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
