"""Tables of calls: the ones in progress and the ones just finished."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual.widgets import DataTable

from console import format as fmt
from console.records import CallRecord, LiveCall

_STATE_STYLE = {"routing": "yellow", "ringing": "bold yellow", "up": "bold green"}
_DISPOSITION_STYLE = {"answered": "green", "busy": "yellow", "no_answer": "yellow", "cancelled": "dim"}


def _now() -> datetime:
    return datetime.now(UTC)


class LiveCallsTable(DataTable[str | Text]):
    """Calls in progress; the duration of answered calls ticks every second."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._calls: dict[str, LiveCall] = {}

    def on_mount(self) -> None:
        self.border_title = "Live calls"
        self.add_column("Caller", key="caller", width=24)
        self.add_column("Callee", key="callee", width=16)
        self.add_column("State", key="state", width=8)
        self.add_column("Duration", key="duration", width=9)
        self._show_count()
        self.set_interval(1.0, self._tick)

    def show(self, calls: tuple[LiveCall, ...]) -> None:
        """Make the table show exactly these calls (rows are updated in place, so the cursor stays)."""
        wanted = {call.call_id: call for call in calls}
        for call_id in [c for c in self._calls if c not in wanted]:
            self.remove_row(call_id)
        for call in calls:
            if call.call_id in self._calls:
                self.update_cell(call.call_id, "state", self._state(call))
                self.update_cell(call.call_id, "duration", self._duration(call))
            else:
                self.add_row(
                    fmt.party(call.caller, call.caller_name),
                    call.callee,
                    self._state(call),
                    self._duration(call),
                    key=call.call_id,
                )
        self._calls = wanted
        self._show_count()

    def _tick(self) -> None:
        for call in self._calls.values():
            if call.answered_at is not None:
                self.update_cell(call.call_id, "duration", self._duration(call))

    def _show_count(self) -> None:
        count = len(self._calls)
        self.border_subtitle = "no calls" if count == 0 else f"{count} call{'s' if count > 1 else ''}"

    @staticmethod
    def _state(call: LiveCall) -> Text:
        return Text(call.state, style=_STATE_STYLE.get(call.state, ""))

    @staticmethod
    def _duration(call: LiveCall) -> str:
        if call.answered_at is None:
            return fmt.NOTHING
        return fmt.duration((_now() - call.answered_at).total_seconds())


class RecentCallsTable(DataTable[str | Text]):
    """Finished calls, newest first."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.border_title = "Recent calls"
        self.add_column("Time", key="time")
        self.add_column("Call", key="call")
        self.add_column("Outcome", key="disposition")
        self.add_column("Duration", key="duration")
        self.add_column("SIP", key="sip_code")

    def show(self, calls: list[CallRecord]) -> None:
        """Replace the rows with these records."""
        self.clear()
        now = _now()
        for call in calls:
            self.add_row(
                fmt.clock(call.started_at, now),
                f"{fmt.party(call.caller, call.caller_name)} → {call.callee}",
                Text(
                    call.disposition.replace("_", " "), style=_DISPOSITION_STYLE.get(call.disposition, "red")
                ),
                fmt.duration(call.duration) if call.answered_at else fmt.NOTHING,
                str(call.sip_code) if call.sip_code is not None else fmt.NOTHING,
                key=call.call_id,
            )
