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


def new_grant_key() -> str:
    """A random key for a member's yearly hours grant; unlike a row id, never used twice."""
    return secrets.token_hex(16)


def new_invite_code() -> str:
    """A short random one-time code that is easy to type."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))


# Crockford's base32: no I, L, O or U, so a code read aloud or off paper is typed right.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_MISREAD = str.maketrans({"O": "0", "I": "1", "L": "1"})
ENROLMENT_LENGTH = 10  # 50 bits
RECOVERY_LENGTH = 12  # 60 bits


def keyed_hash(key: bytes, purpose: str, *parts: str) -> str:
    """HMAC-SHA256 of a purpose and some parts, hex (one purpose never matches another)."""
    message = "\x1f".join((purpose, *parts))
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def _group(code: str) -> str:
    """Split a code into groups of four or five for reading (the dash is ignored on entry)."""
    size = 5 if len(code) % 5 == 0 else 4
    return "-".join(code[i : i + size] for i in range(0, len(code), size))


def crockford(raw: bytes, length: int) -> str:
    """The first `length` base32 symbols of some bytes, grouped for reading."""
    number = int.from_bytes(raw, "big")
    symbols = [CROCKFORD[(number >> (5 * i)) & 31] for i in range(length)]
    return _group("".join(symbols))


def new_enrolment_code() -> str:
    """A random single-use enrolment code (50 bits), e.g. 7K2QD-M9XTR."""
    return crockford(secrets.token_bytes(8), ENROLMENT_LENGTH)


def new_recovery_code() -> str:
    """A random recovery code (60 bits), e.g. 4F7Q-K2MD-9XTR."""
    return crockford(secrets.token_bytes(8), RECOVERY_LENGTH)


def normalise_code(raw: str) -> str:
    """Canonical form of a typed code: upper case, no spaces or dashes, O/I/L read as 0/1/1."""
    return "".join(raw.replace("-", " ").split()).upper().translate(_MISREAD)


def is_code(raw: str) -> bool:
    """Whether text is a plausible enrolment code (10 or more Crockford symbols)."""
    code = normalise_code(raw)
    return len(code) >= ENROLMENT_LENGTH and all(c in CROCKFORD for c in code)


def enrolment_hash(key: bytes, code: str) -> str:
    """Keyed hash of an enrolment code; the code itself is never stored."""
    return keyed_hash(key, "enrolment", normalise_code(code))


def recovery_hash(key: bytes, code: str) -> str:
    """Keyed hash of a recovery code; the code itself is never stored."""
    return keyed_hash(key, "recovery", normalise_code(code))
