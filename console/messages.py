"""Messages the console's workers post to its widgets. Workers do the I/O; widgets only render these."""

from __future__ import annotations

from enum import StrEnum

from textual.message import Message

from console.records import CallRecord, DaemonHealth, ExtensionEntry, LiveCall


class ConnectionState(StrEnum):
    """The console's link to the daemon."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    UNREACHABLE = "unreachable"  # retrying
    REJECTED = "rejected"  # bad token: not retrying


class ConnectionChanged(Message):
    """The event stream connected, dropped, or was refused."""

    def __init__(self, state: ConnectionState, detail: str = "") -> None:
        self.state = state
        self.detail = detail
        super().__init__()


class DaemonHealthLoaded(Message):
    """A fresh `GET /api/health`."""

    def __init__(self, health: DaemonHealth) -> None:
        self.health = health
        super().__init__()


class LiveCallsChanged(Message):
    """The full set of calls in progress after a snapshot or a call event."""

    def __init__(self, calls: tuple[LiveCall, ...]) -> None:
        self.calls = calls
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        # Each one carries the whole set: a burst of call events renders once.
        return isinstance(message, LiveCallsChanged)


class RecentCallsLoaded(Message):
    """Finished calls, newest first."""

    def __init__(self, calls: list[CallRecord]) -> None:
        self.calls = calls
        super().__init__()


class ExtensionsLoaded(Message):
    """All internal numbers with their registration state."""

    def __init__(self, extensions: list[ExtensionEntry]) -> None:
        self.extensions = extensions
        super().__init__()
