"""Run the real `pxs` console script in a subprocess, as a user would.

The fixtures `cli` and `store` are registered in the root conftest."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

PXS = Path(sys.executable).with_name("pxs")


@dataclass
class Result:
    code: int
    out: bytes
    err: bytes

    @property
    def stdout(self) -> str:
        return self.out.decode("utf-8", "replace")

    @property
    def stderr(self) -> str:
        return self.err.decode("utf-8", "replace")


@dataclass
class Cli:
    """A user's shell: one data directory, one master key, every call kept."""

    home: Path
    env: dict[str, str]
    calls: list[Result] = field(default_factory=list)

    def __call__(
        self,
        *args: str | Path,
        stdin: bytes = b"",
        env: dict[str, str] | None = None,
        ok: bool | None = True,
    ) -> Result:
        completed = subprocess.run(
            [str(PXS), *map(str, args)],
            input=stdin,
            capture_output=True,
            env={**self.env, **(env or {})},
            timeout=120,
            check=False,
        )
        result = Result(completed.returncode, completed.stdout, completed.stderr)
        self.calls.append(result)
        assert "Traceback" not in result.stderr, result.stderr
        if ok is True:
            assert result.code == 0, result.stderr
        elif ok is False:
            assert result.code != 0, result.stdout
        return result

    def count(self, table: str = "secret_versions") -> int:
        import sqlite3

        with sqlite3.connect(self.home / "secrets.db") as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    home = tmp_path / "pxs-home"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PLATXA_SECRETS_HOME": str(home),
        "PLATXA_SECRETS_MASTER_KEY": Fernet.generate_key().decode(),
        "HOME": str(tmp_path),
    }
    return Cli(home, env)


@pytest.fixture
def store(cli: Cli) -> Cli:
    """A CLI whose store is initialised."""
    cli("init")
    return cli
