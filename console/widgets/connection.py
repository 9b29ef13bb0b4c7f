"""The line under the header: is the daemon there, and is Asterisk?"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from console import format as fmt
from console.messages import ConnectionState
from console.records import DaemonHealth

START_HINT = "start it with `pbx up`"


class ConnectionBar(Static):
    """Connection to the daemon and the daemon's link to Asterisk (ARI)."""

    def __init__(self, base_url: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes)
        self._base_url = base_url
        self._state = ConnectionState.CONNECTING
        self._detail = ""
        self._health: DaemonHealth | None = None

    def on_mount(self) -> None:
        self._redraw()

    def show_connection(self, state: ConnectionState, detail: str = "") -> None:
        """The event stream's state changed."""
        self._state, self._detail = state, detail
        if state is not ConnectionState.CONNECTED:
            self._health = None  # whatever we knew of Asterisk is stale now
        self._redraw()

    def show_health(self, health: DaemonHealth) -> None:
        """A fresh health report from the daemon."""
        self._health = health
        self._redraw()

    @property
    def state(self) -> ConnectionState:
        return self._state

    def _redraw(self) -> None:
        for state in ConnectionState:
            self.set_class(state is self._state, f"-{state.value}")
        self.set_class(
            self._state is ConnectionState.CONNECTED
            and self._health is not None
            and not self._health.ari_connected,
            "-ari-down",
        )
        self.update(self._text())

    def _text(self) -> Text:
        state, detail = self._state, self._detail
        if state is ConnectionState.CONNECTING:
            return Text(f"◌ connecting to the daemon at {self._base_url} …")
        if state is ConnectionState.UNREACHABLE:
            reason = f"  ({detail})" if detail else ""  # the hint first: the bar is one line
            return Text(f"○ daemon unreachable — retrying · {START_HINT}{reason}")
        if state is ConnectionState.REJECTED:
            return Text(f"✕ {detail}" if detail else "✕ the daemon rejected the API token")
        text = Text(f"● daemon connected ({self._base_url})")
        health = self._health
        if health is None:
            return text
        if health.ari_connected:
            text.append("  ·  Asterisk connected")
        else:
            text.append("  ·  Asterisk DISCONNECTED", style="bold")
            if health.ari_error:
                text.append(f": {health.ari_error}")
        text.append(f"  ·  up {fmt.uptime(health.uptime)}")
        return text
