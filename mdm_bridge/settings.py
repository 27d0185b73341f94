"""Service settings: environment (`MDM_BRIDGE_*`), an optional TOML settings file, then defaults.

Read once at start-up by the CLI and handed down; nothing else reads the environment. A bad value
stops start-up with `SettingsError`, whose message names each offending setting and its variable.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

ENV_PREFIX = "MDM_BRIDGE_"
SETTINGS_FILE_VARIABLE = f"{ENV_PREFIX}SETTINGS_FILE"
DEFAULT_DATABASE_URL = "sqlite:///./var/mdm-bridge.db"
MIN_SECRET_KEY_LENGTH = 32

# Which TOML file `Settings()` reads, for the duration of one `load_settings` call.
_settings_file: ContextVar[Path | None] = ContextVar("settings_file", default=None)


class SettingsError(Exception):
    """Start-up configuration is unusable; the message is meant for the technician."""


class Settings(BaseSettings):
    """Everything the service needs to know about where it runs."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host/db",
    )
    timezone: str = Field(
        default="Europe/London", description="The school's IANA time zone; curfews are in it"
    )
    secret_key: SecretStr = Field(
        description="Key for the audit-trail HMAC and for encrypting MDM credentials "
        f"(at least {MIN_SECRET_KEY_LENGTH} characters)"
    )
    host: str = Field(default="127.0.0.1", description="Address the HTTP API listens on")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the HTTP API listens on")
    log_format: Literal["text", "json"] = Field(
        default="text", description="text for people, json for one JSON object per line"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO")
    upgrade_on_start: bool = Field(
        default=True, description="Run database migrations when `serve` starts"
    )
    policy_dir: Path | None = Field(
        default=None,
        description="Folder with the school's policy.yaml (default: the bundled policy)",
    )
    scheduler: bool = Field(
        default=True,
        description="Take part in scheduling (only the replica holding the lease is active)",
    )
    drift_interval_seconds: int = Field(
        default=300, ge=10, description="Seconds between drift reconciles of every iPad"
    )
    inventory_interval_seconds: int = Field(
        default=3600, ge=60, description="Seconds between inventory syncs"
    )
    lease_seconds: int = Field(
        default=60, ge=5, description="How long the scheduler lease lasts without renewal"
    )
    outbox_lease_seconds: int = Field(
        default=60,
        ge=5,
        description="How long a worker holds outbox rows it is sending without renewing them: "
        "after a crash, its unfinished sends are picked up again this long after",
    )
    edge_grace_seconds: int = Field(
        default=900,
        ge=1,
        description="How late a curfew-edge or ban job may still run (misfire grace)",
    )

    blast_radius: int = Field(
        default=200,
        ge=0,
        description="A policy change that changes more iPads than this needs confirm_devices "
        "set to that number (the dry run says it)",
    )

    @field_validator("timezone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not an IANA time zone (for example Europe/London)"
            ) from None
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(f"{value!r} is not a database URL") from None
        if url.drivername in ("postgresql", "postgres"):
            return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        if url.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
            raise ValueError(
                f"unsupported database {url.drivername!r}: use sqlite:///… or postgresql+psycopg://…"
            )
        return value

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                f"must be at least {MIN_SECRET_KEY_LENGTH} characters "
                "(generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        settings_file = _settings_file.get()
        if settings_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=settings_file))
        return tuple(sources)


def _describe(error: dict[str, Any]) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "settings"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "is required but not set"
    elif error["type"] == "extra_forbidden":
        return f"setting {field!r} in the settings file is not a known setting"
    variable = ENV_PREFIX + field.upper()
    return f"setting {field!r} ({variable}): {message}"


def load_settings(settings_file: Path | None = None, **overrides: Any) -> Settings:
    """Read settings from the environment and `settings_file` (or `$MDM_BRIDGE_SETTINGS_FILE`)."""
    if settings_file is None and os.environ.get(SETTINGS_FILE_VARIABLE):
        settings_file = Path(os.environ[SETTINGS_FILE_VARIABLE])
    if settings_file is not None and not settings_file.is_file():
        raise SettingsError(f"settings file {settings_file} does not exist")
    token = _settings_file.set(settings_file)
    try:
        return Settings(**overrides)
    except ValidationError as error:
        lines = [_describe(dict(e)) for e in error.errors()]
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(lines)) from None
    except ValueError as error:  # a settings file that is not valid TOML; the text has the line
        raise SettingsError(f"settings file {settings_file}: {error}") from None
    finally:
        _settings_file.reset(token)
