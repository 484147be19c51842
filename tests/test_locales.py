"""Every language has the same keys and variables, and every key renders without errors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fluent.syntax import FluentParser, ast
from fluent.syntax.visitor import Visitor

from bot.i18n import LOCALES_DIR, SUPPORTED, bundle, render, set_provider_contact
from bot.settings import SettingsError, load_settings
from handlers.types import Key


def catalog(locale: str) -> dict[str, set[str]]:
    """Message id -> the variables it uses, over every .ftl file of a locale."""
    messages: dict[str, set[str]] = {}
    for path in sorted((LOCALES_DIR / locale).glob("*.ftl")):
        resource = FluentParser().parse(path.read_text(encoding="utf-8"))
        junk = [e for e in resource.body if isinstance(e, ast.Junk)]
        assert junk == [], f"{path} has syntax errors"
        for entry in resource.body:
            if isinstance(entry, ast.Message):
                assert entry.id.name not in messages, f"duplicate {entry.id.name}"
                messages[entry.id.name] = variables(entry)
    return messages


def variables(node: ast.BaseNode) -> set[str]:
    """The $variables a message references."""
    found: set[str] = set()

    class Collect(Visitor):
        def visit_VariableReference(self, child: ast.VariableReference) -> None:
            found.add(child.id.name)

    Collect().visit(node)
    return found


def sample(name: str) -> object:
    """A plausible value for a variable, by name."""
    if name in ("start", "new_start", "old_start", "end", "when"):
        return datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    if name in ("resets", "until", "day", "first_day", "last_day"):
        return date(2027, 1, 1)
    if name == "domain":
        return Key("domain-legal")
    if name in ("mode",):
        return Key("mode-video")
    return 3


def test_every_locale_has_the_same_keys_and_variables() -> None:
    reference = catalog("zh-TW")
    for locale in SUPPORTED:
        assert catalog(locale) == reference, locale


def test_catalogs_are_not_empty() -> None:
    assert len(catalog("zh-TW")) > 50


@pytest.mark.parametrize("locale", SUPPORTED)
def test_every_key_renders_without_errors(locale: str) -> None:
    messages = catalog(locale)
    for key, names in messages.items():
        message = bundle(locale).get_message(key)
        assert message.value is not None, key
        args = {n: sample(n) for n in names}
        text, errors = bundle(locale).format_pattern(message.value, args)
        assert errors == [], (key, errors)
        assert text.strip(), key
        assert "{" not in render(locale, key, args), key


def test_render_formats_dates_and_nested_keys_per_locale() -> None:
    when = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    assert render("en", "crisis-earliest-slot", {"start": when}) == (
        "Book the earliest counseling session: Thu 26 Nov 2026, 14:00"
    )
    assert render("zh-TW", "crisis-earliest-slot", {"start": when}) == (
        "預約最快的心理諮詢：11月26日（週四）14:00"
    )
    assert render("en", "about-domain", {"domain": Key("domain-legal"), "helps": "x"}) == (
        "• Legal consultation: x"
    )


def test_missing_key_falls_back_to_the_key_itself() -> None:
    assert render("en", "no-such-key") == "no-such-key"


@pytest.mark.parametrize("locale", SUPPORTED)
def test_the_providers_contact_setting_replaces_the_placeholder(locale: str) -> None:
    contact = "EAP 24h desk 02-2345-6789, care@provider.example"
    placeholder = render(locale, "link-provider-contact")
    try:
        set_provider_contact(contact)
        for key in ("link-refused", "link-someone-tried", "book-no-hours-left"):
            text = render(locale, key)
            assert contact in text and placeholder not in text
    finally:
        set_provider_contact("")
    assert render(locale, "link-provider-contact") == placeholder


@pytest.mark.parametrize("value", ["{ $x }", "a\nb", "x" * 201])
def test_a_bad_provider_contact_is_refused_naming_the_setting(value: str) -> None:
    with pytest.raises(SettingsError, match="EAP_PROVIDER_CONTACT"):
        load_settings({"EAP_PROVIDER_CONTACT": value}, env_file=Path("/nonexistent"))
