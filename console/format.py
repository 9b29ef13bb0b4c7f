"""How the console writes times, durations and parties. Pure functions."""

from __future__ import annotations

from datetime import datetime

NOTHING = "—"


def duration(seconds: float | None) -> str:
    """`0:07`, `12:34`, `1:02:03`."""
    if seconds is None:
        return NOTHING
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def clock(moment: datetime, now: datetime) -> str:
    """Local time of day, with the date when it is not today."""
    local = moment.astimezone()
    if local.date() == now.astimezone().date():
        return local.strftime("%H:%M:%S")
    return local.strftime("%d %b %H:%M")


def party(number: str, name: str = "") -> str:
    """A caller or callee: `101 Alice`, or just the number."""
    return f"{number} {name}" if name else number or "anonymous"


def uptime(seconds: float) -> str:
    """`3d 4h`, `2h 05m`, `7m`, `42s`."""
    total = int(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02}m"
    return f"{minutes}m" if minutes else f"{secs}s"
