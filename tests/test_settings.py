"""Settings: defaults, environment, settings file, and errors that name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdm_bridge.settings import DEFAULT_DATABASE_URL, SettingsError, load_settings

KEY = "k" * 40


def test_defaults_need_only_a_secret_key(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("MDM_BRIDGE_SECRET_KEY", KEY)
    settings = load_settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.timezone == "Europe/London"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.log_format == "text"
    assert settings.secret_key.get_secret_value() == KEY
    assert KEY not in repr(settings)


def test_environment_overrides_file(clean_environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings_file = tmp_path / "mdm-bridge.toml"
    settings_file.write_text(f'timezone = "America/New_York"\nport = 9000\nsecret_key = "{KEY}"\n')
    clean_environment.setenv("MDM_BRIDGE_PORT", "9100")
    settings = load_settings(settings_file)
    assert settings.timezone == "America/New_York"
    assert settings.port == 9100


def test_settings_file_from_environment(
    clean_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings_file = tmp_path / "s.toml"
    settings_file.write_text(f'log_format = "json"\nsecret_key = "{KEY}"\n')
    clean_environment.setenv("MDM_BRIDGE_SETTINGS_FILE", str(settings_file))
    assert load_settings().log_format == "json"


def test_plain_postgresql_url_uses_psycopg(clean_environment: pytest.MonkeyPatch) -> None:
    settings = load_settings(database_url="postgresql://u@db:5432/bridge", secret_key=KEY)
    assert settings.database_url == "postgresql+psycopg://u@db:5432/bridge"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("MDM_BRIDGE_TIMEZONE", "Europe/Londn", "setting 'timezone' (MDM_BRIDGE_TIMEZONE)"),
        ("MDM_BRIDGE_PORT", "eighty", "setting 'port' (MDM_BRIDGE_PORT)"),
        ("MDM_BRIDGE_PORT", "70000", "setting 'port' (MDM_BRIDGE_PORT)"),
        ("MDM_BRIDGE_LOG_FORMAT", "xml", "setting 'log_format' (MDM_BRIDGE_LOG_FORMAT)"),
        ("MDM_BRIDGE_DATABASE_URL", "mysql://x/y", "unsupported database 'mysql'"),
        ("MDM_BRIDGE_DATABASE_URL", "not a url", "setting 'database_url'"),
        ("MDM_BRIDGE_SECRET_KEY", "short", "must be at least 32 characters"),
        ("MDM_BRIDGE_UPGRADE_ON_START", "maybe", "setting 'upgrade_on_start'"),
    ],
)
def test_invalid_value_names_the_setting(
    clean_environment: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    clean_environment.setenv("MDM_BRIDGE_SECRET_KEY", KEY)
    clean_environment.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert expected in str(raised.value)


def test_missing_secret_key_is_named(clean_environment: pytest.MonkeyPatch) -> None:
    with pytest.raises(SettingsError, match=r"'secret_key' \(MDM_BRIDGE_SECRET_KEY\): is required"):
        load_settings()


def test_secret_value_never_appears_in_the_error(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("MDM_BRIDGE_SECRET_KEY", "hunter2-too-short")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert "hunter2" not in str(raised.value)


def test_unknown_key_in_settings_file(
    clean_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings_file = tmp_path / "s.toml"
    settings_file.write_text(f'timezon = "Europe/London"\nsecret_key = "{KEY}"\n')
    with pytest.raises(SettingsError, match="'timezon' in the settings file is not a known"):
        load_settings(settings_file)


def test_malformed_settings_file_gives_the_line(
    clean_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings_file = tmp_path / "s.toml"
    settings_file.write_text('timezone = "Europe/London"\nport = 80a\n')
    with pytest.raises(SettingsError, match=r"s\.toml: .*line 2"):
        load_settings(settings_file)


def test_missing_settings_file(clean_environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")
