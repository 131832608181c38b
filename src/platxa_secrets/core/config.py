"""The one configuration object, built once and passed down.

Sources, strongest first: environment variables, the config file, the
defaults below. Nothing else in the project reads `os.environ`; the CLI
and the server call `load_config()` once and hand the result to the
services.

| environment variable (PLATXA_SECRETS_…) | config key        | default            |
|-----------------------------------------|-------------------|--------------------|
| HOME (the data directory)               | —                 | see below          |
| CONFIG (the config file)                | —                 | <home>/config.toml |
| DATABASE_URL                            | database_url      | see below          |
| ENV (development or production)         | environment       | development        |
| MASTER_KEY                              | master_key        | —                  |
| MASTER_KEY_FILE                         | master_key_file   | —                  |
| MAX_VERSIONS                            | max_versions      | 10                 |
| GRACE_PERIOD                            | grace_period      | 24h                |
| KEY_RETENTION                           | key_retention     | 7d                 |
| KEYRING_REFRESH                         | keyring_refresh   | 60s                |
| JWT_MAX_LIFETIME                        | jwt_max_lifetime  | 1h                 |
| JWT_PUBLISH_GRACE                       | jwt_publish_grace | 10m                |
| JWT_ISSUER                              | jwt_issuer        | platxa-secrets     |

The data directory defaults to `$XDG_DATA_HOME/platxa-secrets` and the
database to `sqlite:///<home>/secrets.db`. The config file is TOML.
Master keys in it are accepted but discouraged:
prefer a key file or the environment of a secret manager.

A new JWT signing key is published `jwt_publish_grace` before it signs,
so that grace must be at least `keyring_refresh`: every replica serves
the key in its JWKS before any replica signs with it.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from platxa_secrets.core.durations import format_duration, parse_duration
from platxa_secrets.core.text import decode_or_none
from platxa_secrets.errors import ConfigError, PlatxaSecretsError

ENV_PREFIX = "PLATXA_SECRETS_"
ENVIRONMENTS = ("development", "production")
_ENV_NAMES = {"environment": "ENV"}
_FILE_KEYS = {
    "database_url",
    "environment",
    "master_key",
    "master_key_file",
    "max_versions",
    "grace_period",
    "key_retention",
    "keyring_refresh",
    "jwt_max_lifetime",
    "jwt_publish_grace",
    "jwt_issuer",
}
_MAX_ISSUER = 255


@dataclass(frozen=True)
class Config:
    """Settings for one process. `master_key` is hidden from repr."""

    home: Path
    database_url: str = field(repr=False)  # may carry a password
    environment: str = "development"
    master_key: str | None = field(default=None, repr=False)
    master_key_source: str = "PLATXA_SECRETS_MASTER_KEY"
    master_key_file: Path | None = None
    max_versions: int = 10
    grace_period: timedelta = timedelta(hours=24)
    key_retention: timedelta = timedelta(days=7)
    keyring_refresh: timedelta = timedelta(seconds=60)
    jwt_max_lifetime: timedelta = timedelta(hours=1)
    jwt_publish_grace: timedelta = timedelta(minutes=10)
    jwt_issuer: str = "platxa-secrets"
    actor: str = "os:unknown"
    config_file: Path | None = None
    kubeconfig: Path | None = None

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def fallback_key_file(self) -> Path:
        """Where the development master key lives when none is supplied."""
        return self.home / "master.key"


def default_home(env: Mapping[str, str]) -> Path:
    """`$XDG_DATA_HOME/platxa-secrets`, as the XDG base directory spec says."""
    user_home = env.get("HOME") or str(Path.home())
    xdg = env.get("XDG_DATA_HOME") or str(Path(user_home) / ".local" / "share")
    return Path(xdg) / "platxa-secrets"


def load_config(
    env: Mapping[str, str] | None = None, actor: str | None = None
) -> Config:
    """Build the configuration from `env` (default: the process environment)."""
    env = os.environ if env is None else env
    home = Path(env.get(f"{ENV_PREFIX}HOME") or default_home(env)).expanduser()

    config_path = Path(env.get(f"{ENV_PREFIX}CONFIG") or home / "config.toml")
    from_file = _read_file(config_path, explicit=f"{ENV_PREFIX}CONFIG" in env)

    def pick(key: str) -> Any:
        env_value = env.get(ENV_PREFIX + _ENV_NAMES.get(key, key.upper()))
        return env_value if env_value not in (None, "") else from_file.get(key)

    environment = str(pick("environment") or "development").strip().lower()
    if environment not in ENVIRONMENTS:
        raise ConfigError(
            f"{ENV_PREFIX}ENV must be one of {', '.join(ENVIRONMENTS)}",
            field="environment",
        )

    master_key, key_file, key_source = _master_key_settings(env, from_file, config_path)
    database_url = pick("database_url") or f"sqlite:///{home / 'secrets.db'}"

    grace_period = _duration(pick("grace_period"), "grace_period", "24h")
    keyring_refresh = _duration(pick("keyring_refresh"), "keyring_refresh", "60s")
    if grace_period and keyring_refresh >= grace_period:
        raise ConfigError(
            f"keyring_refresh ({format_duration(keyring_refresh)}) must be shorter "
            f"than grace_period ({format_duration(grace_period)}): every replica "
            "must learn a new key before any replica encrypts with it",
            field="keyring_refresh",
        )

    jwt_max_lifetime, jwt_publish_grace = _jwt_durations(pick, keyring_refresh)

    return Config(
        home=home,
        database_url=str(database_url),
        environment=environment,
        master_key=master_key,
        master_key_source=key_source,
        master_key_file=key_file,
        max_versions=_positive_int(pick("max_versions"), "max_versions", 10),
        grace_period=grace_period,
        key_retention=_duration(pick("key_retention"), "key_retention", "7d"),
        keyring_refresh=keyring_refresh,
        jwt_max_lifetime=jwt_max_lifetime,
        jwt_publish_grace=jwt_publish_grace,
        jwt_issuer=_issuer(pick("jwt_issuer")),
        actor=actor or f"os:{_os_user()}",
        config_file=config_path if from_file else None,
        kubeconfig=_kubeconfig(env),
    )


def _kubeconfig(env: Mapping[str, str]) -> Path | None:
    """PLATXA_SECRETS_KUBECONFIG, else the first file of KUBECONFIG."""
    value = env.get(f"{ENV_PREFIX}KUBECONFIG") or env.get("KUBECONFIG", "")
    first = value.split(os.pathsep)[0] if value else ""
    return Path(first).expanduser() if first else None


def _master_key_settings(
    env: Mapping[str, str], from_file: dict[str, Any], config_path: Path
) -> tuple[str | None, Path | None, str]:
    """The master key chain's first link that is set: key, file and source.

    Order: the environment's key, the environment's key file, the config
    file's key, the config file's key file. The first one set wins, so a
    key file named in the environment beats a key left in the config file.
    """
    if env.get(f"{ENV_PREFIX}MASTER_KEY"):
        return env[f"{ENV_PREFIX}MASTER_KEY"], None, f"{ENV_PREFIX}MASTER_KEY"
    if env.get(f"{ENV_PREFIX}MASTER_KEY_FILE"):
        path = _key_path(env[f"{ENV_PREFIX}MASTER_KEY_FILE"])
        return None, path, f"{ENV_PREFIX}MASTER_KEY_FILE"

    source = f"master_key in {config_path}"
    if "master_key" in from_file:
        _check_private(config_path)
        key = from_file["master_key"]
        if not isinstance(key, str):
            raise ConfigError(
                f"{source} must be a string (keys separated by commas)",
                field="master_key",
            )
        return key, None, source
    if from_file.get("master_key_file"):
        return None, _key_path(str(from_file["master_key_file"])), source + "_file"
    return None, None, source


def _key_path(text: str) -> Path:
    path = Path(text)
    try:
        return path.expanduser()
    except RuntimeError:  # "~user" for a user that does not exist
        raise ConfigError(
            f"master key file {text}: its home directory cannot be resolved",
            field="master_key_file",
        ) from None


def _read_file(path: Path, explicit: bool) -> dict[str, Any]:
    """Read the TOML config file; a missing default file is no error."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if explicit:
            raise ConfigError(
                f"config file {path} (from {ENV_PREFIX}CONFIG) does not exist",
                field="config_file",
            ) from None
        return {}
    except OSError as exc:
        raise ConfigError(
            f"config file {path} cannot be read: {exc.strerror}", field="config_file"
        ) from None

    import tomllib  # only when a config file exists: it costs start-up time

    data = _parse_toml(raw, tomllib)
    if data is None:
        raise ConfigError(
            f"config file {path} is not valid UTF-8 TOML", field="config_file"
        )

    unknown = sorted(set(data) - _FILE_KEYS)
    if unknown:
        raise ConfigError(
            f"config file {path} has unknown settings: {', '.join(unknown)} "
            f"(known: {', '.join(sorted(_FILE_KEYS))})",
            field="config_file",
        )
    return data


def _parse_toml(raw: bytes, tomllib: Any) -> dict[str, Any] | None:
    """Parse, or None: the decoder's error can quote a line holding a key."""
    text = decode_or_none(raw)
    if text is None:
        return None
    try:
        return dict(tomllib.loads(text))
    except tomllib.TOMLDecodeError:
        return None


def _check_private(path: Path) -> None:
    """A config file that holds a master key must be readable by its owner only."""
    mode = path.stat().st_mode
    if mode & 0o077:
        raise ConfigError(
            f"config file {path} holds master_key but is accessible by group or "
            f"others (mode {mode & 0o777:04o}); chmod 600 {path}, or move the key "
            "to a key file",
            field="master_key",
        )


def _positive_int(value: Any, field: str, default: int) -> int:
    if value is None:
        return default
    number = 0
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value)
    if number < 1:
        raise ConfigError(f"{field} must be a whole number ≥ 1", field=field)
    return number


def _duration(value: Any, field: str, default: str) -> timedelta:
    try:
        return parse_duration(str(default if value is None else value), field)
    except PlatxaSecretsError as exc:
        raise ConfigError(exc.message, field=field) from None


def _jwt_durations(
    pick: Callable[[str], Any], keyring_refresh: timedelta
) -> tuple[timedelta, timedelta]:
    """`jwt_max_lifetime` and `jwt_publish_grace`, checked against each other.

    A key published for less than `keyring_refresh` before it signs
    could sign a token that a replica with an older JWKS rejects.
    """
    max_lifetime = _duration(pick("jwt_max_lifetime"), "jwt_max_lifetime", "1h")
    if max_lifetime <= timedelta(0):
        raise ConfigError(
            "jwt_max_lifetime must be longer than 0s", field="jwt_max_lifetime"
        )

    grace = _duration(pick("jwt_publish_grace"), "jwt_publish_grace", "10m")
    if grace < keyring_refresh:
        raise ConfigError(
            f"jwt_publish_grace ({format_duration(grace)}) must be at least "
            f"keyring_refresh ({format_duration(keyring_refresh)}): every replica "
            "must publish a new JWT key before any replica signs with it",
            field="jwt_publish_grace",
        )
    return max_lifetime, grace


def _issuer(value: Any) -> str:
    """The `iss` of signed JWTs: printable ASCII, no spaces (a name or URL)."""
    if value is None:
        return "platxa-secrets"
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > _MAX_ISSUER or not all("!" <= c <= "~" for c in text):
        raise ConfigError(
            f"jwt_issuer must be 1 to {_MAX_ISSUER} printable ASCII characters "
            "without spaces (a name or a URL)",
            field="jwt_issuer",
        )
    return text


def _os_user() -> str:
    """The account the process runs as, by uid rather than by $USER."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return f"uid-{os.geteuid()}"
