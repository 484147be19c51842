"""Rendering message keys through the Fluent catalogs in locales/."""

from __future__ import annotations

import logging
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from fluent.runtime import FluentBundle, FluentResource

from handlers.types import Key, Lines

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
SUPPORTED = ("zh-TW", "en")
ZH_WEEKDAYS = "一二三四五六日"
log = logging.getLogger(__name__)


def pick_locale(language_code: str | None, default: str) -> str:
    """Map a platform language code (zh-Hant, zh-TW, en-US, ...) to a supported locale."""
    code = (language_code or "").lower()
    if code.startswith("zh"):
        return "zh-TW"
    if code.startswith("en"):
        return "en"
    return default


_provider_contact = ""  # EAP_PROVIDER_CONTACT; empty: the catalogs' demo placeholder


def set_provider_contact(contact: str) -> None:
    """Show this wherever a message names how to reach the EAP provider (link-provider-contact)."""
    global _provider_contact
    if contact != _provider_contact:
        _provider_contact = contact
        bundle.cache_clear()


@cache
def bundle(locale: str) -> FluentBundle:
    """Load every .ftl file of one locale into a bundle (cached), with the provider's contact."""
    result = FluentBundle([locale], use_isolating=False)
    for path in sorted((LOCALES_DIR / locale).glob("*.ftl")):
        result.add_resource(FluentResource(path.read_text(encoding="utf-8")))
    if _provider_contact:
        contact = FluentResource(f"link-provider-contact = {_provider_contact}\n")
        result.add_resource(contact, allow_overrides=True)
    return result


def format_datetime(locale: str, moment: datetime) -> str:
    """A date and time as people of the locale write it (in the moment's own zone)."""
    if locale == "zh-TW":
        weekday = ZH_WEEKDAYS[moment.weekday()]
        return f"{moment.month}月{moment.day}日（週{weekday}）{moment:%H:%M}"
    return f"{moment:%a} {moment.day} {moment:%b %Y}, {moment:%H:%M}"


def format_date(locale: str, day: date) -> str:
    """A date as people of the locale write it."""
    if locale == "zh-TW":
        return f"{day.year}年{day.month}月{day.day}日（週{ZH_WEEKDAYS[day.weekday()]}）"
    return f"{day:%a} {day.day} {day:%b %Y}"


def _arg(locale: str, value: Any) -> Any:
    if isinstance(value, Lines):
        return "\n".join(render(locale, key, params) for key, params in value)
    if isinstance(value, Key):
        return render(locale, str(value))
    if isinstance(value, datetime):
        return format_datetime(locale, value)
    if isinstance(value, date):
        return format_date(locale, value)
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def render(locale: str, key: str, params: dict[str, Any] | None = None) -> str:
    """Render a message key with its parameters; fall back to zh-TW, then to the key."""
    for candidate in (locale, "zh-TW"):
        catalog = bundle(candidate)
        if catalog.has_message(key):
            message = catalog.get_message(key)
            args = {name: _arg(candidate, v) for name, v in (params or {}).items()}
            text, errors = catalog.format_pattern(message.value, args)
            if errors:
                log.warning(
                    "message %s in %s rendered with %d errors", key, candidate, len(errors)
                )
            return str(text)
    log.warning("message key %s missing in %s", key, locale)
    return key
