"""`doctor` store checks: each rule has a setup that passes and one that
does not, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet

from platxa_secrets.api import Platxa
from platxa_secrets.clock import FrozenClock
from platxa_secrets.core.config import Config, load_config
from platxa_secrets.services.doctor import FAIL, PASS, WARN, Finding, run_checks
from platxa_secrets.services.doctor.checks import all_store_checks
from platxa_secrets.services.initialise import initialise
from platxa_secrets.services.rotation import RotationService
from platxa_secrets.services.runtime import Runtime
from tests.conftest import make_env

DAY = timedelta(days=1)


def findings(runtime: Runtime) -> dict[str, Finding]:
    report = run_checks(all_store_checks(runtime))
    return {f.check: f for f in report.findings}


def status(runtime: Runtime, check: str) -> str:
    return findings(runtime)[check].status


def test_a_healthy_store_passes_every_store_check(world: Platxa) -> None:
    report = run_checks(all_store_checks(world.runtime))

    bad = [f for f in report.findings if f.status not in (PASS, "skip")]
    assert bad == []
    assert report.exit_code == 0


def test_development_key_warns_and_production_without_key_fails(
    tmp_path: Path, database_url: str
) -> None:
    home = tmp_path / "home"
    env = make_env(home, database_url, "")
    del env["PLATXA_SECRETS_MASTER_KEY"]
    runtime = Runtime(load_config(env=env))
    initialise(runtime)  # creates the development key

    assert status(runtime, "master-key.source") == WARN
    runtime.close()

    production = Runtime(load_config(env={**env, "PLATXA_SECRETS_ENV": "production"}))
    report = run_checks(all_store_checks(production))
    first = report.findings[0]
    assert (first.check, first.status) == ("master-key", FAIL)
    assert "production" in first.reason
    assert report.exit_code == 2
    production.close()


def test_a_master_key_in_the_config_file_warns(
    tmp_path: Path, database_url: str
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    config_file = home / "config.toml"
    config_file.write_text(f'master_key = "{Fernet.generate_key().decode()}"\n')
    config_file.chmod(0o600)
    env = make_env(home, database_url, "")
    del env["PLATXA_SECRETS_MASTER_KEY"]
    runtime = Runtime(load_config(env=env))
    initialise(runtime)

    found = findings(runtime)["master-key.source"]
    assert found.status == WARN
    assert "config file" in found.reason
    runtime.close()


def test_a_readable_database_file_warns(tmp_path: Path, master_key: str) -> None:
    db = tmp_path / "home" / "secrets.db"
    env = make_env(tmp_path / "home", f"sqlite:///{db}", master_key)
    runtime = Runtime(load_config(env=env))
    initialise(runtime)
    assert status(runtime, "permissions.database-file") == PASS

    os.chmod(db, 0o644)

    found = findings(runtime)["permissions.database-file"]
    assert found.status == WARN
    assert "0644" in found.reason and f"chmod 600 {db}" == found.fix
    runtime.close()


def test_a_readable_master_key_file_fails(tmp_path: Path, database_url: str) -> None:
    from platxa_secrets.services.doctor._setup import check_permissions

    key_file = tmp_path / "master.key"
    key_file.write_text(Fernet.generate_key().decode() + "\n")
    key_file.chmod(0o600)
    env = make_env(tmp_path / "home", database_url, "")
    del env["PLATXA_SECRETS_MASTER_KEY"]
    env["PLATXA_SECRETS_MASTER_KEY_FILE"] = str(key_file)
    runtime = Runtime(load_config(env=env))
    initialise(runtime)
    assert {f.status for f in check_permissions(runtime)} <= {PASS, "skip"}

    key_file.chmod(0o640)

    bad = [f for f in check_permissions(runtime) if f.status == FAIL]
    assert [f.check for f in bad] == ["permissions.master-key-file"]
    runtime.close()


def test_no_active_key_fails(world: Platxa) -> None:
    world.runtime.database.write(
        lambda tx: tx.execute("UPDATE data_keys SET state = 'retired'")
    )

    assert status(world.runtime, "keyring.active") == FAIL


def test_a_key_the_master_keys_cannot_unwrap_fails(
    world: Platxa, tmp_path: Path, database_url: str
) -> None:
    stranger = make_env(tmp_path / "home", database_url, Fernet.generate_key().decode())
    runtime = Runtime(load_config(env=stranger))

    found = findings(runtime)["keyring.unwrap"]
    assert found.status == FAIL
    assert "cannot unwrap" in found.reason
    runtime.close()


def test_an_overdue_activation_warns(world: Platxa, clock: FrozenClock) -> None:
    RotationService(world.runtime).rotate(activate_after=DAY)
    assert status(world.runtime, "keyring.activation") == PASS

    clock.advance(2 * DAY)

    assert status(world.runtime, "keyring.activation") == WARN


def test_an_overdue_reencryption_warns_and_counts(
    world: Platxa, clock: FrozenClock
) -> None:
    world.secrets.put("tenant-a", "app", {"K": b"one", "L": b"two"})
    rotation = RotationService(world.runtime)
    new = rotation.rotate(activate_after=timedelta(0))
    rotation.activate(new.kid)
    assert status(world.runtime, "keyring.reencryption") == PASS

    clock.advance(world.runtime.config.grace_period + timedelta(seconds=1))

    found = findings(world.runtime)["keyring.reencryption"]
    assert found.status == WARN
    assert "2 ciphertexts" in found.reason and found.fix == "run `pxs keys reencrypt`"


def test_an_overdue_destruction_warns(world: Platxa, clock: FrozenClock) -> None:
    rotation = RotationService(world.runtime)
    new = rotation.rotate(activate_after=timedelta(0))
    rotation.activate(new.kid)
    clock.advance(world.runtime.config.key_retention - timedelta(seconds=1))
    assert status(world.runtime, "keyring.destruction") == PASS

    clock.advance(timedelta(seconds=2))

    assert status(world.runtime, "keyring.destruction") == WARN


def test_jwt_keys_published_shorter_than_the_token_lifetime_fail(
    world: Platxa, clock: FrozenClock, config: Config
) -> None:
    from dataclasses import replace

    from platxa_secrets.services.jwt_keys import JwtService

    jwt = JwtService(world.runtime)
    jwt.rotate()
    jwt.rotate()
    clock.advance(config.jwt_publish_grace + timedelta(seconds=1))
    jwt.sign({"sub": "svc"})  # the second key takes over; the first retires
    assert status(world.runtime, "jwt.window") == PASS

    longer = replace(config, jwt_max_lifetime=config.jwt_max_lifetime * 2)
    runtime = Runtime(longer, clock=clock)

    found = findings(runtime)["jwt.window"]
    assert found.status == FAIL
    assert "published for less than jwt_max_lifetime" in found.reason
    runtime.close()


def test_tokens_without_expiry_or_unused_warn(
    world: Platxa, clock: FrozenClock
) -> None:
    from platxa_secrets.services.tokens import TokenService

    tokens = TokenService(world.runtime)
    _, expiring = tokens.create("ci", ["tenant-*:read"], timedelta(days=365))
    assert status(world.runtime, "tokens.expiry") == PASS
    assert status(world.runtime, "tokens.unused") == PASS

    _, forever = tokens.create("forever", ["tenant-*:read"], None)
    found = findings(world.runtime)["tokens.expiry"]
    assert found.status == WARN and forever.id in found.reason
    assert expiring.id not in found.reason

    clock.advance(timedelta(days=91))

    idle = findings(world.runtime)["tokens.unused"]
    assert idle.status == WARN
    assert expiring.id in idle.reason and forever.id in idle.reason


def test_a_changed_audit_event_fails_the_chain_check(world: Platxa) -> None:
    world.secrets.put("tenant-a", "app", {"K": b"value-1234"})
    assert status(world.runtime, "audit.chain") == PASS

    world.runtime.database.write(
        lambda tx: tx.execute(
            "UPDATE audit_events SET actor = 'someone-else' WHERE id = "
            "(SELECT MIN(id) FROM audit_events)"
        )
    )

    found = findings(world.runtime)["audit.chain"]
    assert found.status == FAIL


def test_a_folder_others_can_write_fails(tmp_path: Path, master_key: str) -> None:
    home = tmp_path / "home"
    env = make_env(home, f"sqlite:///{home / 'secrets.db'}", master_key)
    runtime = Runtime(load_config(env=env))
    initialise(runtime)
    home.chmod(0o700)
    assert status(runtime, "permissions.folder") == PASS

    home.chmod(0o777)

    found = findings(runtime)["permissions.folder"]
    assert found.status == FAIL
    assert found.fix == f"chmod go-w {home}"
    runtime.close()


def test_a_readable_config_file_warns(tmp_path: Path, database_url: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    config_file = home / "config.toml"
    config_file.write_text("max_versions = 5\n")
    config_file.chmod(0o600)
    env = make_env(home, database_url, Fernet.generate_key().decode())
    runtime = Runtime(load_config(env=env))
    initialise(runtime)
    assert status(runtime, "permissions.config-file") == PASS

    config_file.chmod(0o644)

    assert status(runtime, "permissions.config-file") == WARN
    runtime.close()


def test_a_development_key_left_in_production_warns(
    tmp_path: Path, database_url: str
) -> None:
    home = tmp_path / "home"
    env = {
        **make_env(home, database_url, Fernet.generate_key().decode()),
        "PLATXA_SECRETS_ENV": "production",
    }
    runtime = Runtime(load_config(env=env))
    initialise(runtime)
    assert status(runtime, "master-key.leftover") == PASS

    runtime.config.fallback_key_file.parent.mkdir(parents=True, exist_ok=True)
    runtime.config.fallback_key_file.write_text(Fernet.generate_key().decode())
    runtime.config.fallback_key_file.chmod(0o600)

    found = findings(runtime)["master-key.leftover"]
    assert found.status == WARN
    assert str(runtime.config.fallback_key_file) in found.fix
    runtime.close()


def test_ciphertexts_without_a_key_id_warn(world: Platxa) -> None:
    world.secrets.put("tenant-a", "app", {"K": b"value-1234"})
    assert status(world.runtime, "keyring.census") == PASS

    world.runtime.database.write(
        lambda tx: tx.execute("UPDATE secret_values SET kid = NULL")
    )

    found = findings(world.runtime)["keyring.census"]
    assert found.status == WARN
    assert found.reason.startswith("1 legacy ciphertexts")
