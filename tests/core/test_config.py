"""Configuration: environment over config file over defaults."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from platxa_secrets.core.config import default_home, load_config
from platxa_secrets.errors import ConfigError
from tests.core.helpers import CANARY, assert_no_leak, exception_texts


def _write(home: Path, text: str | bytes, name: str = "config.toml") -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    path.chmod(0o600)  # a config file holding a key must be private
    return path


# --- defaults -------------------------------------------------------------


def test_defaults_under_xdg_data_home(tmp_path: Path) -> None:
    config = load_config(env={"XDG_DATA_HOME": str(tmp_path / "xdg")}, actor="t")

    home = tmp_path / "xdg" / "platxa-secrets"
    assert config.home == home
    assert config.database_url == f"sqlite:///{home / 'secrets.db'}"
    assert config.environment == "development"
    assert config.production is False
    assert config.master_key is None
    assert config.master_key_file is None
    assert config.max_versions == 10
    assert config.grace_period == timedelta(hours=24)
    assert config.key_retention == timedelta(days=7)
    assert config.keyring_refresh == timedelta(seconds=60)
    assert config.jwt_max_lifetime == timedelta(hours=1)
    assert config.jwt_publish_grace == timedelta(minutes=10)
    assert config.jwt_issuer == "platxa-secrets"
    assert config.config_file is None
    assert config.fallback_key_file == home / "master.key"
    assert config.actor == "t"


def test_home_setting_wins_over_xdg(tmp_path: Path) -> None:
    config = load_config(
        env={
            "XDG_DATA_HOME": str(tmp_path / "xdg"),
            "PLATXA_SECRETS_HOME": str(tmp_path / "pxs"),
        }
    )

    assert config.home == tmp_path / "pxs"
    assert config.database_url == f"sqlite:///{tmp_path / 'pxs' / 'secrets.db'}"


def test_empty_xdg_falls_back_to_local_share(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))

    assert default_home({"XDG_DATA_HOME": ""}) == (
        tmp_path / ".local" / "share" / "platxa-secrets"
    )


def test_home_comes_from_the_env_mapping(tmp_path: Path) -> None:
    config = load_config(env={"HOME": str(tmp_path)})

    assert config.home == tmp_path / ".local" / "share" / "platxa-secrets"


def test_config_file_does_not_read_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLATXA_SECRETS_MAX_VERSIONS", "99")
    monkeypatch.setenv("PLATXA_SECRETS_ENV", "production")

    config = load_config(env={"PLATXA_SECRETS_HOME": str(tmp_path)})

    assert config.max_versions == 10
    assert config.environment == "development"


def test_actor_defaults_to_the_os_user(tmp_path: Path) -> None:
    config = load_config(env={"PLATXA_SECRETS_HOME": str(tmp_path)})

    assert config.actor.startswith("os:")
    assert len(config.actor) > 3


# --- the config file ------------------------------------------------------


def test_toml_file_settings_are_applied(home: Path, home_env: dict[str, str]) -> None:
    path = _write(
        home,
        """
database_url = "postgresql://127.0.0.1/pxs"
environment = "production"
master_key_file = "~/keys/master.key"
max_versions = 3
grace_period = "2h"
key_retention = "14d"
keyring_refresh = "30s"
""",
    )

    config = load_config(env=home_env)

    assert config.config_file == path
    assert config.database_url == "postgresql://127.0.0.1/pxs"
    assert config.production is True
    assert config.master_key_file == Path("~/keys/master.key").expanduser()
    assert config.max_versions == 3
    assert config.grace_period == timedelta(hours=2)
    assert config.key_retention == timedelta(days=14)
    assert config.keyring_refresh == timedelta(seconds=30)


def test_integer_durations_in_file_are_seconds(
    home: Path, home_env: dict[str, str]
) -> None:
    _write(home, "grace_period = 3600\nkeyring_refresh = 5\n")

    config = load_config(env=home_env)

    assert config.grace_period == timedelta(hours=1)
    assert config.keyring_refresh == timedelta(seconds=5)


def test_explicit_config_path_is_used(tmp_path: Path, home_env: dict[str, str]) -> None:
    path = _write(tmp_path / "etc", "max_versions = 4\n", name="pxs.toml")

    config = load_config(env={**home_env, "PLATXA_SECRETS_CONFIG": str(path)})

    assert config.max_versions == 4
    assert config.config_file == path


def test_explicit_config_path_that_is_missing_is_refused(
    tmp_path: Path, home_env: dict[str, str]
) -> None:
    path = tmp_path / "etc" / "missing.toml"

    with pytest.raises(ConfigError) as info:
        load_config(env={**home_env, "PLATXA_SECRETS_CONFIG": str(path)})

    assert str(path) in str(info.value)
    assert "PLATXA_SECRETS_CONFIG" in str(info.value)
    assert "does not exist" in str(info.value)
    assert info.value.context["field"] == "config_file"
    assert info.value.__cause__ is None


def test_missing_default_config_file_is_no_error(home_env: dict[str, str]) -> None:
    assert load_config(env=home_env).config_file is None


@pytest.mark.parametrize(
    "text",
    [
        f'master_key = "{CANARY}\n',
        f"[section\nmaster_key = '{CANARY}'\n",
        f"master_key = {CANARY}\n",
        f'max_versions = 3\nmax_versions = "{CANARY}"\n',
        f'master_key = """{CANARY}',
    ],
    ids=["open-string", "open-table", "bare-value", "duplicate", "open-multiline"],
)
def test_invalid_toml_is_refused_without_quoting_the_file(
    home: Path, home_env: dict[str, str], text: str
) -> None:
    path = _write(home, text)

    with pytest.raises(ConfigError) as info:
        load_config(env=home_env)

    assert str(path) in str(info.value)
    assert "TOML" in str(info.value)
    assert info.value.context["field"] == "config_file"
    assert_no_leak(info.value, text)
    for piece in text.splitlines():
        for shown in exception_texts(info.value):
            assert piece not in shown


def test_non_utf8_config_file_is_refused_without_quoting_it(
    home: Path, home_env: dict[str, str]
) -> None:
    path = _write(home, f'master_key = "{CANARY}\xff"\n'.encode("latin-1"))

    with pytest.raises(ConfigError) as info:
        load_config(env=home_env)

    assert str(path) in str(info.value)
    assert_no_leak(info.value)


def test_unknown_setting_is_refused_naming_it(
    home: Path, home_env: dict[str, str]
) -> None:
    _write(home, f'max_versions = 3\nmaster_kye = "{CANARY}"\n')

    with pytest.raises(ConfigError) as info:
        load_config(env=home_env)

    assert "unknown settings: master_kye" in str(info.value)
    assert "master_key" in str(info.value)  # the known list helps spot typos
    assert_no_leak(info.value)


def test_table_is_an_unknown_setting(home: Path, home_env: dict[str, str]) -> None:
    _write(home, f'[platxa]\nmaster_key = "{CANARY}"\n')

    with pytest.raises(ConfigError, match="unknown settings: platxa") as info:
        load_config(env=home_env)

    assert_no_leak(info.value)


def test_master_key_in_file_is_hidden_from_repr(
    home: Path, home_env: dict[str, str]
) -> None:
    _write(home, f'master_key = "{CANARY}"\n')

    config = load_config(env=home_env)

    assert config.master_key == CANARY
    assert CANARY not in repr(config)
    assert "config.toml" in config.master_key_source


# --- the environment wins -------------------------------------------------


def test_env_wins_over_file(home: Path, home_env: dict[str, str]) -> None:
    _write(
        home,
        'max_versions = 3\ngrace_period = "2h"\nenvironment = "production"\n'
        'database_url = "sqlite:///file.db"\nmaster_key = "from-file"\n',
    )

    config = load_config(
        env={
            **home_env,
            "PLATXA_SECRETS_MAX_VERSIONS": "7",
            "PLATXA_SECRETS_GRACE_PERIOD": "3h",
            "PLATXA_SECRETS_ENV": "development",
            "PLATXA_SECRETS_DATABASE_URL": "sqlite:///env.db",
            "PLATXA_SECRETS_MASTER_KEY": "from-env",
        }
    )

    assert config.max_versions == 7
    assert config.grace_period == timedelta(hours=3)
    assert config.production is False
    assert config.database_url == "sqlite:///env.db"
    assert config.master_key == "from-env"
    assert config.master_key_source == "PLATXA_SECRETS_MASTER_KEY"


def test_empty_env_value_falls_through_to_file(
    home: Path, home_env: dict[str, str]
) -> None:
    _write(home, 'max_versions = 3\nkey_retention = "3d"\n')

    config = load_config(
        env={
            **home_env,
            "PLATXA_SECRETS_MAX_VERSIONS": "",
            "PLATXA_SECRETS_KEY_RETENTION": "",
        }
    )

    assert config.max_versions == 3
    assert config.key_retention == timedelta(days=3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90", timedelta(seconds=90)),
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("1h30m", timedelta(minutes=90)),
        ("2D", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        (" 24h ", timedelta(hours=24)),
    ],
)
def test_env_durations(home_env: dict[str, str], text: str, expected: object) -> None:
    config = load_config(env={**home_env, "PLATXA_SECRETS_KEY_RETENTION": text})

    assert config.key_retention == expected


def test_keyring_refresh_must_be_shorter_than_the_grace_period(
    home_env: dict[str, str],
) -> None:
    env = {**home_env, "PLATXA_SECRETS_GRACE_PERIOD": "1h"}

    with pytest.raises(ConfigError, match=r"keyring_refresh .* must be shorter"):
        load_config(env={**env, "PLATXA_SECRETS_KEYRING_REFRESH": "2h"})
    assert load_config(env={**env, "PLATXA_SECRETS_KEYRING_REFRESH": "5m"})


# --- JWT settings ----------------------------------------------------------


def test_jwt_settings_from_the_file(home: Path, home_env: dict[str, str]) -> None:
    _write(
        home,
        'jwt_max_lifetime = "15m"\njwt_publish_grace = "2m"\n'
        'jwt_issuer = "https://secrets.platxa.test"\n',
    )

    config = load_config(env=home_env)

    assert config.jwt_max_lifetime == timedelta(minutes=15)
    assert config.jwt_publish_grace == timedelta(minutes=2)
    assert config.jwt_issuer == "https://secrets.platxa.test"


def test_jwt_settings_from_the_env_win(home: Path, home_env: dict[str, str]) -> None:
    _write(home, 'jwt_max_lifetime = "15m"\njwt_issuer = "from-file"\n')

    config = load_config(
        env={
            **home_env,
            "PLATXA_SECRETS_JWT_MAX_LIFETIME": "2h",
            "PLATXA_SECRETS_JWT_PUBLISH_GRACE": "1h",
            "PLATXA_SECRETS_JWT_ISSUER": " from-env ",
        }
    )

    assert config.jwt_max_lifetime == timedelta(hours=2)
    assert config.jwt_publish_grace == timedelta(hours=1)
    assert config.jwt_issuer == "from-env"


def test_jwt_publish_grace_must_cover_the_keyring_refresh(
    home_env: dict[str, str],
) -> None:
    env = {**home_env, "PLATXA_SECRETS_KEYRING_REFRESH": "5m"}

    with pytest.raises(ConfigError) as info:
        load_config(env={**env, "PLATXA_SECRETS_JWT_PUBLISH_GRACE": "4m59s"})

    assert "jwt_publish_grace (4m59s)" in info.value.message
    assert "keyring_refresh (5m)" in info.value.message
    assert info.value.context["field"] == "jwt_publish_grace"
    grace = load_config(env={**env, "PLATXA_SECRETS_JWT_PUBLISH_GRACE": "5m"})
    assert grace.jwt_publish_grace == timedelta(minutes=5)


def test_a_keyring_refresh_longer_than_the_default_grace_is_refused(
    home_env: dict[str, str],
) -> None:
    with pytest.raises(ConfigError, match=r"jwt_publish_grace .* keyring_refresh"):
        load_config(env={**home_env, "PLATXA_SECRETS_KEYRING_REFRESH": "11m"})


def test_a_zero_jwt_max_lifetime_is_refused(home_env: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(env={**home_env, "PLATXA_SECRETS_JWT_MAX_LIFETIME": "0"})

    assert info.value.context["field"] == "jwt_max_lifetime"


@pytest.mark.parametrize(
    "toml",
    [
        "jwt_issuer = 5",
        'jwt_issuer = "two words"',
        'jwt_issuer = "   "',
        'jwt_issuer = "émetteur"',
        f'jwt_issuer = "{"x" * 256}"',
        f'jwt_issuer = "{CANARY} x"',
    ],
)
def test_a_bad_jwt_issuer_is_refused(
    home: Path, home_env: dict[str, str], toml: str
) -> None:
    _write(home, toml + "\n")

    with pytest.raises(ConfigError) as info:
        load_config(env=home_env)

    assert info.value.context["field"] == "jwt_issuer"
    assert "printable ASCII" in info.value.message
    assert_no_leak(info.value)


# --- bad values name their setting ----------------------------------------

DURATIONS = [
    "grace_period",
    "key_retention",
    "keyring_refresh",
    "jwt_max_lifetime",
    "jwt_publish_grace",
]


@pytest.mark.parametrize("setting", DURATIONS)
@pytest.mark.parametrize("value", ["soon", "1h 30m", "-5m", "1.5h", "h", "10y"])
def test_bad_duration_from_env_is_refused_naming_the_setting(
    home_env: dict[str, str], setting: str, value: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(env={**home_env, f"PLATXA_SECRETS_{setting.upper()}": value})

    assert setting in str(info.value)
    assert info.value.context["field"] == setting
    assert info.value.__cause__ is None


@pytest.mark.parametrize("setting", DURATIONS)
def test_bad_duration_from_file_is_refused_naming_the_setting(
    home: Path, home_env: dict[str, str], setting: str
) -> None:
    _write(home, f'{setting} = "a while"\n')

    with pytest.raises(ConfigError) as info:
        load_config(env=home_env)

    assert setting in str(info.value)
    assert info.value.context["field"] == setting


@pytest.mark.parametrize("value", ["0", "-1", "ten", "1.5", " ", "1e3", CANARY])
def test_bad_max_versions_from_env_is_refused(
    home_env: dict[str, str], value: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(env={**home_env, "PLATXA_SECRETS_MAX_VERSIONS": value})

    assert "max_versions" in str(info.value)
    assert "≥ 1" in str(info.value)
    assert info.value.context["field"] == "max_versions"
    assert_no_leak(info.value)


@pytest.mark.parametrize(
    "toml", ["max_versions = 0", "max_versions = -4", 'max_versions = "x"']
)
def test_bad_max_versions_from_file_is_refused(
    home: Path, home_env: dict[str, str], toml: str
) -> None:
    _write(home, toml + "\n")

    with pytest.raises(ConfigError, match="max_versions"):
        load_config(env=home_env)


def test_fractional_max_versions_in_file_is_refused(
    home: Path, home_env: dict[str, str]
) -> None:
    _write(home, "max_versions = 2.5\n")

    with pytest.raises(ConfigError, match="max_versions"):
        load_config(env=home_env)


def test_zero_grace_period_in_file_means_what_the_env_means(
    home: Path, home_env: dict[str, str]
) -> None:
    from_env = load_config(env={**home_env, "PLATXA_SECRETS_GRACE_PERIOD": "0"})
    _write(home, "grace_period = 0\n")

    from_file = load_config(env=home_env)

    assert from_env.grace_period == timedelta(0)
    assert from_file.grace_period == from_env.grace_period


@pytest.mark.parametrize("value", ["staging", "prod", "", "production!"])
def test_unknown_environment_is_refused(
    home: Path, home_env: dict[str, str], value: str
) -> None:
    _write(home, f'environment = "{value}"\n')
    if value == "":
        assert load_config(env=home_env).environment == "development"
        return

    with pytest.raises(ConfigError) as info:
        load_config(env=home_env)

    assert "development, production" in str(info.value)
    assert info.value.context["field"] == "environment"


def test_environment_is_case_insensitive(home_env: dict[str, str]) -> None:
    config = load_config(env={**home_env, "PLATXA_SECRETS_ENV": " Production "})

    assert config.environment == "production"
    assert config.production is True


# --- nothing secret in repr -----------------------------------------------


def test_master_key_from_env_is_hidden_from_repr(home_env: dict[str, str]) -> None:
    config = load_config(env={**home_env, "PLATXA_SECRETS_MASTER_KEY": CANARY})

    assert config.master_key == CANARY
    assert CANARY not in repr(config)
    assert CANARY not in str(config)


def test_database_password_is_hidden_from_repr(home_env: dict[str, str]) -> None:
    url = f"postgresql://pxs:{CANARY}@127.0.0.1:5432/pxs"

    config = load_config(env={**home_env, "PLATXA_SECRETS_DATABASE_URL": url})

    assert config.database_url == url
    assert CANARY not in repr(config)


def test_config_file_with_a_master_key_must_be_private(home: Path) -> None:
    path = _write(home, 'master_key = "x"\n')
    path.chmod(0o644)

    with pytest.raises(ConfigError, match="chmod 600") as caught:
        load_config(env={"PLATXA_SECRETS_HOME": str(home)})

    assert "mode 0644" in caught.value.message
    path.chmod(0o600)
    assert load_config(env={"PLATXA_SECRETS_HOME": str(home)}).master_key == "x"


def test_environment_key_file_beats_a_key_in_the_config_file(home: Path) -> None:
    path = _write(home, 'master_key = "from-file"\n')
    path.chmod(0o600)

    config = load_config(
        env={
            "PLATXA_SECRETS_HOME": str(home),
            "PLATXA_SECRETS_MASTER_KEY_FILE": str(home / "k"),
        }
    )

    assert config.master_key is None
    assert config.master_key_file == home / "k"
    assert config.master_key_source == "PLATXA_SECRETS_MASTER_KEY_FILE"


def test_database_passwords_never_show_in_display_url() -> None:
    from platxa_secrets.core.store.db import Database

    for url in (
        "postgresql://u:S3cretPW@db:5432/x",
        "postgresql://u@db:5432/x?password=S3cretPW",
    ):
        assert "S3cretPW" not in Database(url).display_url
