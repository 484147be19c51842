"""Keyed hashes for employee numbers and random pseudonyms; raw numbers are never stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def normalise_employee_number(raw: str) -> str:
    """Canonical form of an employee number: trimmed, upper case, no inner spaces."""
    return "".join(raw.split()).upper()


def employee_hash(key: bytes, organisation_code: str, employee_number: str) -> str:
    """HMAC-SHA256 of the organisation code and normalised employee number, hex."""
    message = f"{organisation_code.upper()}\x1f{normalise_employee_number(employee_number)}"
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def code_hash(code: str) -> str:
    """SHA-256 of a one-time invite code (codes are random, so no key is needed)."""
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def new_pseudonym() -> str:
    """A random pseudonym for analytics, unrelated to any identifier."""
    return secrets.token_hex(16)


def new_invite_code() -> str:
    """A short random one-time code that is easy to type."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))
