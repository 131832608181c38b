"""The detect-secrets plugin, run by detect-secrets itself."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

import platxa_secrets.integrations.detect_secrets_plugin as plugin
from platxa_secrets.core.token_format import new_token

DETECT_SECRETS = Path(sys.executable).with_name("detect-secrets")
OURS = "Platxa Secrets key or token"


def test_detect_secrets_reports_verified_shapes_only(tmp_path: Path) -> None:
    token = new_token()[0]
    typo = token[:-1] + ("A" if token[-1] != "A" else "B")
    key = Fernet.generate_key().decode()
    source = tmp_path / "settings.py"
    source.write_text(
        f"API_TOKEN = '{token}'\n"
        f"MISTYPED = '{typo}'\n"
        f"FERNET_KEY = '{key}'\n"
        "NAME = 'tenant-acme'\n"
    )

    scanned = subprocess.run(
        [str(DETECT_SECRETS), "scan", "--plugin", plugin.__file__, source.name],
        capture_output=True,
        cwd=tmp_path,
        timeout=120,
        check=True,
    )

    results = json.loads(scanned.stdout)["results"][source.name]
    lines = sorted(r["line_number"] for r in results if r["type"] == OURS)
    assert lines == [1, 3]
    assert token.encode() not in scanned.stdout and key.encode() not in scanned.stdout
