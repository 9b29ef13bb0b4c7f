"""When to try again: exponential backoff with jitter, and a receiver's own `Retry-After`. Pure."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

MAX_RETRY_AFTER = 3600.0  # a receiver may ask for a pause of up to an hour, not for silence forever


def backoff(attempts: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds before the next attempt after `attempts` failed ones: base·2^(n-1), at most `cap`, with
    "equal jitter" (half of it fixed, half random) so retries of many items do not arrive together."""
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return delay / 2 + (rng or random).uniform(0, delay / 2)


def retry_after(header: str | None, now: datetime | None = None) -> float | None:
    """A `Retry-After` header's wait in seconds (delay-seconds or an HTTP date), or None when absent or
    unreadable."""
    text = (header or "").strip()
    if not text:
        return None
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, (when - (now or datetime.now(UTC))).total_seconds()), MAX_RETRY_AFTER)
