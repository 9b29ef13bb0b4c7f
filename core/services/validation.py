"""Validation shared by services."""

from __future__ import annotations

from core.errors import InvalidInput
from core.routing.destinations import InvalidDestination, normalise_e164


def validate_e164(number: str, what: str) -> str:
    """A public number in E.164, or a clear error naming `what` it is."""
    try:
        return normalise_e164(number)
    except InvalidDestination:
        raise InvalidInput(
            f"{what} {number!r} must be a phone number in international form, e.g. +15551234567"
        ) from None
