"""Domain errors: each carries the message key and parameters that explain it to a user."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule said no; message_key and params explain why."""

    message_key = "error-generic"

    def __init__(self, **params: Any) -> None:
        """Keep the parameters for the message."""
        super().__init__(self.message_key)
        self.params = params


class NotFound(DomainError):
    """The thing asked for does not exist or is not yours."""

    message_key = "error-not-found"


class UnknownOrganisation(DomainError):
    """No organisation has that code (operator commands; linking never says so)."""

    message_key = "error-not-found"


class EmployeeLeft(DomainError):
    """The roster entry is marked as left."""

    message_key = "link-employee-left"


class TooManyAttempts(DomainError):
    """Too many failed link attempts; params: minutes to wait."""

    message_key = "link-too-many-attempts"


class SlotTaken(DomainError):
    """Someone else holds the slot."""

    message_key = "book-slot-taken"


class SlotUnavailable(DomainError):
    """The slot is blocked, too soon, too far ahead, or the counselor cannot take it."""

    message_key = "book-slot-unavailable"


class NoHoursLeft(DomainError):
    """Not enough hours left in the plan year; params: needed, left."""

    message_key = "book-no-hours"


class OverlappingBooking(DomainError):
    """The member already has an active booking at an overlapping time; params: start."""

    message_key = "book-overlap"


class TooMuchBookedAhead(DomainError):
    """The organisation's cap on hours booked ahead would be passed; params: cap, booked."""

    message_key = "book-ahead-cap"


class NotAllowed(DomainError):
    """The member may not do this (not linked, or left the organisation)."""

    message_key = "error-not-allowed"


class BookingNotActive(DomainError):
    """The booking is no longer active (cancelled, held, ...)."""

    message_key = "booking-not-active"


class InvalidInvite(DomainError):
    """The invite code is unknown, used or expired."""

    message_key = "invite-invalid"


class FeedbackClosed(DomainError):
    """The feedback prompt was answered or has expired."""

    message_key = "feedback-closed"
