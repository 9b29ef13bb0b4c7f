"""Typed views of what the daemon's API returns. Parsed once, at the client boundary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 timestamp from the API (always timezone-aware; naive ones are taken as UTC)."""
    if not value:
        return None
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class DaemonHealth:
    """`GET /api/health`: the daemon's own state and its link to Asterisk."""

    status: str
    ari_connected: bool
    ari_error: str
    uptime: float
    live_calls: int

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> DaemonHealth:
        return cls(
            status=str(data.get("status", "")),
            ari_connected=bool(data.get("ari_connected")),
            ari_error=str(data.get("ari_error") or ""),
            uptime=float(data.get("uptime") or 0.0),
            live_calls=int(data.get("live_calls") or 0),
        )


@dataclass(frozen=True)
class LiveCall:
    """A call in progress (`GET /api/calls/live`, the event stream's Snapshot)."""

    call_id: str
    caller: str
    caller_name: str
    callee: str
    state: str  # routing | ringing | up
    started_at: datetime
    answered_at: datetime | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> LiveCall:
        return cls(
            call_id=str(data["call_id"]),
            caller=str(data.get("caller", "")),
            caller_name=str(data.get("caller_name") or ""),
            callee=str(data.get("callee", "")),
            state=str(data.get("state", "")),
            started_at=parse_time(data.get("started_at")) or datetime.now(UTC),
            answered_at=parse_time(data.get("answered_at")),
        )


@dataclass(frozen=True)
class CallRecord:
    """A call record (CDR) from `GET /api/calls`."""

    call_id: str
    caller: str
    caller_name: str
    callee: str
    direction: str
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration: float
    disposition: str
    sip_code: int | None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> CallRecord:
        sip_code = data.get("sip_code")
        return cls(
            call_id=str(data["call_id"]),
            caller=str(data.get("caller", "")),
            caller_name=str(data.get("caller_name") or ""),
            callee=str(data.get("callee", "")),
            direction=str(data.get("direction", "")),
            started_at=parse_time(data.get("started_at")) or datetime.now(UTC),
            answered_at=parse_time(data.get("answered_at")),
            ended_at=parse_time(data.get("ended_at")),
            duration=float(data.get("duration") or 0.0),
            disposition=str(data.get("disposition") or ""),
            sip_code=int(sip_code) if sip_code is not None else None,
        )


@dataclass(frozen=True)
class ExtensionEntry:
    """An internal number from `GET /api/extensions`. `registered` is None when Asterisk cannot say."""

    number: str
    name: str
    enabled: bool
    registered: bool | None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ExtensionEntry:
        registered = data.get("registered")
        return cls(
            number=str(data["number"]),
            name=str(data.get("name") or ""),
            enabled=bool(data.get("enabled", True)),
            registered=None if registered is None else bool(registered),
        )
