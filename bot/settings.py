"""Settings read from the environment (and an optional .env file)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

LOCALES = ("zh-TW", "en")
KEY_FILE = Path(".eap-dev-key")


class SettingsError(Exception):
    """A setting has a bad value; the message names the setting."""


@dataclass(frozen=True)
class Settings:
    """Every setting of the bot, with its default."""

    database_url: str = "sqlite+aiosqlite:///./eap.db"
    host: str = "127.0.0.1"
    port: int = 8080
    timezone: str = "Asia/Taipei"
    default_locale: str = "zh-TW"
    pseudonym_key: str = ""
    telegram_token: str = ""
    telegram_api_base: str = "https://api.telegram.org"
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = ""
    line_channel_secret: str = ""
    line_access_token: str = ""
    line_api_base: str = "https://api.line.me"
    public_url: str = ""
    provider_contact: str = ""  # how employees reach the EAP provider (never HR)
    log_level: str = "INFO"
    log_format: str = "text"
    retention_events_days: int = 30
    retention_messages_days: int = 30
    retention_states_days: int = 30

    @property
    def tz(self) -> ZoneInfo:
        """The default organisation time zone as a ZoneInfo."""
        return ZoneInfo(self.timezone)

    @property
    def telegram_enabled(self) -> bool:
        """Whether Telegram credentials are set."""
        return bool(self.telegram_token)

    @property
    def line_enabled(self) -> bool:
        """Whether LINE credentials are set."""
        return bool(self.line_channel_secret and self.line_access_token)

    def require_pseudonym_key(self) -> bytes:
        """Return the keyed-hash secret, or fail clearly when it is missing."""
        if len(self.pseudonym_key) < 16:
            raise SettingsError(
                "EAP_PSEUDONYM_KEY is missing or shorter than 16 characters; set it to a long "
                "random secret (make run creates a development key in .eap-dev-key)"
            )
        return self.pseudonym_key.encode()


def _env_name(field_name: str) -> str:
    return "EAP_" + field_name.upper()


def _coerce(name: str, raw: str, default: object) -> object:
    if isinstance(default, int):
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
        if name == "EAP_PORT" and not 0 < value < 65536:
            raise SettingsError(f"EAP_PORT must be between 1 and 65535, got {value}")
        return value
    return raw.strip()


def _validate(settings: Settings) -> None:
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"EAP_TIMEZONE must be an IANA time zone such as Asia/Taipei, "
            f"got {settings.timezone!r}"
        ) from None
    if settings.default_locale not in LOCALES:
        raise SettingsError(
            f"EAP_DEFAULT_LOCALE must be one of {', '.join(LOCALES)}, "
            f"got {settings.default_locale!r}"
        )
    if not settings.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise SettingsError(
            "EAP_DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
        )
    for name in ("telegram_api_base", "line_api_base"):
        if not getattr(settings, name).startswith(("http://", "https://")):
            raise SettingsError(f"{_env_name(name)} must be an http(s) URL")
    if settings.telegram_webhook_url and not settings.telegram_webhook_url.startswith("https://"):
        raise SettingsError("EAP_TELEGRAM_WEBHOOK_URL must be an https:// URL")
    if settings.public_url and not settings.public_url.startswith("https://"):
        raise SettingsError("EAP_PUBLIC_URL must be an https:// URL (LINE fetches images there)")
    if bool(settings.line_channel_secret) != bool(settings.line_access_token):
        raise SettingsError(
            "EAP_LINE_CHANNEL_SECRET and EAP_LINE_ACCESS_TOKEN must be set together"
        )
    for name in ("retention_events_days", "retention_messages_days", "retention_states_days"):
        if getattr(settings, name) < 1:
            raise SettingsError(f"{_env_name(name)} must be at least 1 (days)")
    if settings.retention_events_days < 2:  # ids must outlive the 24-hour replay bound
        raise SettingsError("EAP_RETENTION_EVENTS_DAYS must be at least 2 (days)")
    contact = settings.provider_contact
    if len(contact) > 200 or any(char in contact for char in "{}\n\r"):
        raise SettingsError(
            "EAP_PROVIDER_CONTACT must be one line of at most 200 characters without { or }"
        )
    if settings.log_format not in ("text", "json"):
        raise SettingsError("EAP_LOG_FORMAT must be text or json")
    if settings.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError("EAP_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")


def load_settings(
    environ: dict[str, str] | None = None, env_file: Path = Path(".env")
) -> Settings:
    """Build settings from a .env file overlaid by the environment; fail naming a bad setting."""
    values: dict[str, str] = {}
    if env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    if "EAP_PSEUDONYM_KEY" not in values and KEY_FILE.is_file():
        values["EAP_PSEUDONYM_KEY"] = KEY_FILE.read_text().strip()
    kwargs: dict[str, object] = {}
    for field in fields(Settings):
        name = _env_name(field.name)
        if name in values and values[name] != "":
            kwargs[field.name] = _coerce(name, values[name], field.default)
    settings = Settings(**kwargs)  # type: ignore[arg-type]
    _validate(settings)
    return settings
