"""The master key chain, loaded the way the CLI and server load it.

Each test builds a `Config` with `load_config(env=...)` over a private
data directory, then asks `load_master_keys` for the keys.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from platxa_secrets.core.config import Config, load_config
from platxa_secrets.core.crypto.fernet_keys import key_id
from platxa_secrets.core.crypto.master import (
    MasterKeys,
    build_master_keys,
    load_master_keys,
)
from platxa_secrets.errors import ConfigError, CryptoError
from tests.core.helpers import CANARY, assert_no_leak, secret_forms


def _load(env: dict[str, str]) -> MasterKeys:
    """Load as `pxs init` does: the development key may be created."""
    return load_master_keys(load_config(env=env), create_fallback=True)


def test_only_init_creates_the_development_key(home_env: dict[str, str]) -> None:
    config = load_config(env=home_env)

    with pytest.raises(ConfigError, match="run `pxs init`"):
        load_master_keys(config)
    assert not config.fallback_key_file.exists()

    created = load_master_keys(config, create_fallback=True)
    assert load_master_keys(config).ids == created.ids


def _key() -> str:
    return Fernet.generate_key().decode()


def _key_file(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- the environment variable ---------------------------------------------


def test_single_key_from_env(home_env: dict[str, str]) -> None:
    key = _key()

    keys = _load({**home_env, "PLATXA_SECRETS_MASTER_KEY": key})

    assert keys.ids == (key_id(key.encode()),)
    assert keys.primary_id == key_id(key.encode())
    assert keys.source == "PLATXA_SECRETS_MASTER_KEY"
    assert keys.created_file is None


def test_env_key_with_trailing_newline_is_accepted(home_env: dict[str, str]) -> None:
    key = _key()

    keys = _load({**home_env, "PLATXA_SECRETS_MASTER_KEY": key + "\n"})

    assert keys.primary_id == key_id(key.encode())


@pytest.mark.parametrize("separator", [",", ", ", " ,\n"], ids=repr)
def test_comma_list_first_is_primary_and_all_unwrap(
    home_env: dict[str, str], separator: str
) -> None:
    first, second = _key(), _key()
    data_key = Fernet.generate_key()
    mkid_old, wrapped_old = build_master_keys([second.encode()], "old").wrap(data_key)

    keys = _load({**home_env, "PLATXA_SECRETS_MASTER_KEY": first + separator + second})

    assert keys.ids == (key_id(first.encode()), key_id(second.encode()))
    assert keys.primary_id == key_id(first.encode())
    assert keys.unwrap(mkid_old, wrapped_old, "dk01") == data_key
    mkid_new, wrapped_new = keys.wrap(data_key)
    assert mkid_new == key_id(first.encode())
    assert keys.unwrap(mkid_new, wrapped_new, "dk01") == data_key
    only_first = build_master_keys([first.encode()], "first only")
    assert only_first.unwrap(mkid_new, wrapped_new, "dk01") == data_key


def test_repeated_key_in_list_is_counted_once(home_env: dict[str, str]) -> None:
    key = _key()

    keys = _load({**home_env, "PLATXA_SECRETS_MASTER_KEY": f"{key},{key}"})

    assert keys.ids == (key_id(key.encode()),)


def test_bad_entry_in_list_names_its_position(home_env: dict[str, str]) -> None:
    good, bad = _key(), (CANARY * 4)[:40]

    with pytest.raises(ConfigError) as info:
        _load({**home_env, "PLATXA_SECRETS_MASTER_KEY": f"{good},{bad}"})

    assert "PLATXA_SECRETS_MASTER_KEY entry 2" in str(info.value)
    assert_no_leak(info.value, good, bad)


def test_empty_entry_in_list_is_refused(home_env: dict[str, str]) -> None:
    good = _key()

    with pytest.raises(ConfigError, match="entry 2 is empty") as info:
        _load({**home_env, "PLATXA_SECRETS_MASTER_KEY": f"{good},"})

    assert_no_leak(info.value, good)


def test_env_key_wins_over_key_file(home_env: dict[str, str], home: Path) -> None:
    env_key, file_key = _key(), _key()
    path = _key_file(home / "keys" / "master.key", file_key + "\n")

    keys = _load(
        {
            **home_env,
            "PLATXA_SECRETS_MASTER_KEY": env_key,
            "PLATXA_SECRETS_MASTER_KEY_FILE": str(path),
        }
    )

    assert keys.ids == (key_id(env_key.encode()),)


def test_env_key_creates_no_fallback_file(home_env: dict[str, str], home: Path) -> None:
    _load({**home_env, "PLATXA_SECRETS_MASTER_KEY": _key()})

    assert not (home / "master.key").exists()


# --- the key file ---------------------------------------------------------


def test_key_file_with_owner_only_mode_is_read(
    home_env: dict[str, str], tmp_path: Path
) -> None:
    key = _key()
    path = _key_file(tmp_path / "master.key", f"  {key}  \n")

    keys = _load({**home_env, "PLATXA_SECRETS_MASTER_KEY_FILE": str(path)})

    assert keys.ids == (key_id(key.encode()),)
    assert keys.source == str(path)


def test_key_file_with_owner_read_only_mode_is_read(
    home_env: dict[str, str], tmp_path: Path
) -> None:
    key = _key()
    path = _key_file(tmp_path / "master.key", key, mode=0o400)

    assert _load({**home_env, "PLATXA_SECRETS_MASTER_KEY_FILE": str(path)}).ids == (
        key_id(key.encode()),
    )


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o610, 0o601])
def test_key_file_open_to_others_is_refused_with_chmod_hint(
    home_env: dict[str, str], tmp_path: Path, mode: int
) -> None:
    key = _key()
    path = _key_file(tmp_path / "master.key", key + "\n", mode=mode)

    with pytest.raises(ConfigError) as info:
        _load({**home_env, "PLATXA_SECRETS_MASTER_KEY_FILE": str(path)})

    message = str(info.value)
    assert str(path) in message
    assert f"{mode:04o}" in message
    assert f"chmod 600 {path}" in message
    assert_no_leak(info.value, key)


def test_missing_key_file_is_refused_naming_it(
    home_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "nowhere" / "master.key"

    with pytest.raises(ConfigError) as info:
        _load({**home_env, "PLATXA_SECRETS_MASTER_KEY_FILE": str(path)})

    assert str(path) in str(info.value)
    assert "does not exist" in str(info.value)
    assert info.value.__cause__ is None


@pytest.mark.parametrize("text", ["", "\n", "  \n\t\n"], ids=repr)
def test_empty_key_file_is_refused(
    home_env: dict[str, str], tmp_path: Path, text: str
) -> None:
    path = _key_file(tmp_path / "master.key", text)

    with pytest.raises(ConfigError) as info:
        _load({**home_env, "PLATXA_SECRETS_MASTER_KEY_FILE": str(path)})

    assert f"master key file {path} is empty" in str(info.value)


def test_key_file_with_several_lines_first_is_primary(
    home_env: dict[str, str], tmp_path: Path
) -> None:
    first, second, third = _key(), _key(), _key()
    path = _key_file(tmp_path / "master.key", f"{first}\n{second}\r\n{third}\n")
    data_key = Fernet.generate_key()
    wrapped_by_third = build_master_keys([third.encode()], "old").wrap(data_key)

    keys = _load({**home_env, "PLATXA_SECRETS_MASTER_KEY_FILE": str(path)})

    assert keys.ids == tuple(key_id(k.encode()) for k in (first, second, third))
    assert keys.wrap(data_key)[0] == key_id(first.encode())
    assert keys.unwrap(*wrapped_by_third, "dk01") == data_key


def test_bad_line_in_key_file_names_file_and_line(
    home_env: dict[str, str], tmp_path: Path
) -> None:
    good, bad = _key(), f"'{_key()}'"
    path = _key_file(tmp_path / "master.key", f"{good}\n{bad}\n")

    with pytest.raises(ConfigError) as info:
        _load({**home_env, "PLATXA_SECRETS_MASTER_KEY_FILE": str(path)})

    assert f"master key file {path} line 2" in str(info.value)
    assert "quotes" in str(info.value)
    assert_no_leak(info.value, good, bad)


def test_bad_line_number_counts_blank_lines(
    home_env: dict[str, str], tmp_path: Path
) -> None:
    path = _key_file(tmp_path / "master.key", f"{_key()}\n\n{CANARY}\n")

    with pytest.raises(ConfigError) as info:
        _load({**home_env, "PLATXA_SECRETS_MASTER_KEY_FILE": str(path)})

    assert f"master key file {path} line 3 " in str(info.value)


def test_key_file_from_config_file(home_env: dict[str, str], home: Path) -> None:
    key = _key()
    path = _key_file(home / "keys.txt", key)
    (home / "config.toml").write_text(f'master_key_file = "{path}"\n')

    assert _load(home_env).ids == (key_id(key.encode()),)


def test_key_from_config_file_names_the_file_as_source(
    home_env: dict[str, str], home: Path
) -> None:
    key = _key()
    home.mkdir()
    (home / "config.toml").write_text(f'master_key = "{key}"\n')
    (home / "config.toml").chmod(0o600)

    keys = _load(home_env)

    assert keys.ids == (key_id(key.encode()),)
    assert str(home / "config.toml") in keys.source


@pytest.mark.parametrize(
    "toml", ['master_key = ["K1", "K2"]\n', "master_key = 5\n"], ids=["list", "int"]
)
def test_non_string_master_key_in_config_file_is_a_config_error(
    home_env: dict[str, str], home: Path, toml: str
) -> None:
    home.mkdir()
    (home / "config.toml").write_text(toml)
    (home / "config.toml").chmod(0o600)

    with pytest.raises(ConfigError, match="master_key"):
        _load(home_env)


# --- the development fallback ---------------------------------------------


def test_fallback_key_is_created_once_owner_only(
    home_env: dict[str, str], home: Path
) -> None:
    keys = _load(home_env)

    path = home / "master.key"
    assert keys.created_file == path
    assert keys.source == str(path)
    assert _mode(path) == 0o600
    assert _mode(home) & 0o077 == 0
    assert len(keys.ids) == 1
    key = path.read_bytes().strip()
    assert keys.primary_id == key_id(key)
    Fernet(key)


def test_fallback_key_is_reused_on_second_load(
    home_env: dict[str, str], home: Path
) -> None:
    first = _load(home_env)
    content = (home / "master.key").read_bytes()
    data_key = Fernet.generate_key()
    wrapped = first.wrap(data_key)

    second = _load(home_env)

    assert second.primary_id == first.primary_id
    assert second.created_file is None
    assert (home / "master.key").read_bytes() == content
    assert second.unwrap(*wrapped, "dk01") == data_key


def test_fallback_keys_differ_between_data_directories(tmp_path: Path) -> None:
    one = _load({"PLATXA_SECRETS_HOME": str(tmp_path / "one")})
    two = _load({"PLATXA_SECRETS_HOME": str(tmp_path / "two")})

    assert one.primary_id != two.primary_id


def test_loosened_fallback_file_is_refused(
    home_env: dict[str, str], home: Path
) -> None:
    _load(home_env)
    (home / "master.key").chmod(0o644)

    with pytest.raises(ConfigError, match="chmod 600"):
        _load(home_env)


# --- production mode ------------------------------------------------------


@pytest.mark.parametrize("value", ["production", "PRODUCTION", " production "])
def test_production_without_key_is_a_startup_error(
    home_env: dict[str, str], home: Path, value: str
) -> None:
    with pytest.raises(ConfigError) as info:
        _load({**home_env, "PLATXA_SECRETS_ENV": value})

    assert "production" in str(info.value)
    assert "PLATXA_SECRETS_MASTER_KEY" in str(info.value)
    assert info.value.context["field"] == "master_key"
    assert not (home / "master.key").exists()


def test_production_ignores_an_existing_fallback_file(
    home_env: dict[str, str],
) -> None:
    _load(home_env)

    with pytest.raises(ConfigError, match="production"):
        _load({**home_env, "PLATXA_SECRETS_ENV": "production"})


def test_production_with_env_key_loads(home_env: dict[str, str], home: Path) -> None:
    key = _key()

    keys = _load(
        {
            **home_env,
            "PLATXA_SECRETS_ENV": "production",
            "PLATXA_SECRETS_MASTER_KEY": key,
        }
    )

    assert keys.ids == (key_id(key.encode()),)
    assert not (home / "master.key").exists()


def test_production_with_key_file_loads(
    home_env: dict[str, str], tmp_path: Path
) -> None:
    key = _key()
    path = _key_file(tmp_path / "master.key", key)

    keys = _load(
        {
            **home_env,
            "PLATXA_SECRETS_ENV": "production",
            "PLATXA_SECRETS_MASTER_KEY_FILE": str(path),
        }
    )

    assert keys.ids == (key_id(key.encode()),)


# --- wrap and unwrap ------------------------------------------------------


def test_wrap_unwrap_round_trip(master: MasterKeys) -> None:
    data_key = Fernet.generate_key()

    mkid, wrapped = master.wrap(data_key)

    assert mkid == master.primary_id
    assert isinstance(wrapped, str)
    assert data_key.decode() not in wrapped
    assert master.unwrap(mkid, wrapped, "dk01") == data_key


def test_wrapping_twice_gives_different_tokens(master: MasterKeys) -> None:
    data_key = Fernet.generate_key()

    assert master.wrap(data_key)[1] != master.wrap(data_key)[1]


def test_unwrap_with_unknown_master_kid_names_it(master: MasterKeys) -> None:
    """A master key missing from the chain is a configuration error (78)."""
    other = build_master_keys([Fernet.generate_key()], "other")
    mkid, wrapped = other.wrap(Fernet.generate_key())

    with pytest.raises(ConfigError) as info:
        master.unwrap(mkid, wrapped, "dk01")

    message = str(info.value)
    assert mkid in message
    assert "dk01" in message
    assert master.source in message
    assert info.value.context["kid"] == "dk01"
    assert_no_leak(info.value, wrapped)


def test_unwrap_with_damaged_wrapped_key_is_refused(master: MasterKeys) -> None:
    mkid, wrapped = master.wrap(Fernet.generate_key())
    damaged = wrapped[:-6] + ("A" if wrapped[-6] != "A" else "B") + wrapped[-5:]

    with pytest.raises(CryptoError) as info:
        master.unwrap(mkid, damaged, "dk01")

    assert "dk01" in str(info.value)
    assert "damaged" in str(info.value)
    assert_no_leak(info.value, wrapped, damaged)


def test_unwrap_under_the_wrong_known_master_key_is_refused() -> None:
    first, second = Fernet.generate_key(), Fernet.generate_key()
    keys = build_master_keys([first, second], "two")
    _, wrapped = build_master_keys([first], "one").wrap(Fernet.generate_key())

    with pytest.raises(CryptoError, match="does not decrypt"):
        keys.unwrap(key_id(second), wrapped, "dk01")


# --- nothing in repr ------------------------------------------------------


def test_no_key_material_in_reprs(home_env: dict[str, str], tmp_path: Path) -> None:
    env_key, file_key = _key(), _key()
    path = _key_file(tmp_path / "master.key", file_key)
    env = {**home_env, "PLATXA_SECRETS_MASTER_KEY": f"{env_key},{file_key}"}
    config = load_config(env=env)
    keys = load_master_keys(config)
    from_file = load_master_keys(
        load_config(env={**home_env, "PLATXA_SECRETS_MASTER_KEY_FILE": str(path)})
    )
    fallback = _load(home_env)
    fallback_key = (Path(home_env["PLATXA_SECRETS_HOME"]) / "master.key").read_text()

    texts = [
        repr(config),
        str(config),
        repr(keys),
        str(keys),
        repr(from_file),
        repr(fallback),
    ]
    forms = secret_forms(env_key, file_key, fallback_key)
    for text in texts:
        for form in forms:
            assert form not in text, f"{form!r} in {text!r}"
    assert isinstance(config, Config)
    assert config.master_key is not None
