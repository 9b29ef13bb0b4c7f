"""`pbx console`: a live view of the PBX, fed by the daemon's API. It never touches the database or ARI."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Footer, Header

from console.client import DaemonClient, DaemonError, DaemonUnavailable, TokenRejected
from console.live import LiveCallBoard
from console.messages import (
    ConnectionChanged,
    ConnectionState,
    DaemonHealthLoaded,
    ExtensionsLoaded,
    LiveCallsChanged,
    RecentCallsLoaded,
)
from console.records import LiveCall
from console.widgets import ConnectionBar, ExtensionsTable, LiveCallsTable, RecentCallsTable


class PbxConsole(App[None]):
    """Live calls, recent calls and extensions of one daemon. Workers talk to the daemon and post
    messages; the handlers here hand each message to the widget that renders it."""

    TITLE = "PBX console"
    CSS_PATH = "app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("r", "refresh", "Refresh"),
    ]
    RECENT_LIMIT = 20
    HEALTH_INTERVAL = 5.0
    EXTENSIONS_INTERVAL = 10.0

    def __init__(self, client: DaemonClient) -> None:
        super().__init__()
        self.client = client
        self._connected = False
        self._reported: set[str] = set()  # errors already shown, so pollers don't repeat them

    def compose(self) -> ComposeResult:
        yield Header()
        yield ConnectionBar(self.client.base_url, id="connection")
        yield LiveCallsTable(id="live")
        with Horizontal(id="lower"):
            yield RecentCallsTable(id="recent")
            yield ExtensionsTable(id="extensions")
        yield Footer()

    def on_mount(self) -> None:
        self.follow_events()
        self.set_interval(self.HEALTH_INTERVAL, self._poll_health)
        self.set_interval(self.EXTENSIONS_INTERVAL, self._poll_extensions)

    def action_refresh(self) -> None:
        """Reconnect the event stream now: a fresh snapshot, then everything else reloads."""
        self.follow_events()

    def _poll_health(self) -> None:
        if self._connected:
            self.load_health()

    def _poll_extensions(self) -> None:
        if self._connected:
            self.load_extensions()

    # -- workers: the only code that talks to the daemon ------------------------------------------
    @work(exclusive=True, group="events")
    async def follow_events(self) -> None:
        """Follow the event stream for as long as the console runs (the client reconnects by itself)."""
        board = LiveCallBoard()
        try:
            async for event in self.client.events():
                kind = str(event.get("type", ""))
                if kind == "Snapshot":
                    board.reset(_live_calls(event.get("live_calls")))
                    self.post_message(ConnectionChanged(ConnectionState.CONNECTED))
                    self.post_message(LiveCallsChanged(board.calls))
                    self.load_health()
                    self.load_recent_calls()
                    self.load_extensions()
                elif kind == "Disconnected":
                    self.post_message(
                        ConnectionChanged(ConnectionState.UNREACHABLE, str(event.get("reason", "")))
                    )
                elif board.apply(event):
                    self.post_message(LiveCallsChanged(board.calls))
                if kind == "CallEnded":
                    self.load_recent_calls()
                elif kind.startswith("Extension"):
                    self.load_extensions()
        except TokenRejected as exc:
            self.post_message(ConnectionChanged(ConnectionState.REJECTED, str(exc)))

    @work(exclusive=True, group="health")
    async def load_health(self) -> None:
        """Fetch the daemon's health (its link to Asterisk)."""
        try:
            self.post_message(DaemonHealthLoaded(await self.client.health()))
        except DaemonError as exc:
            self._report(exc)

    @work(exclusive=True, group="recent")
    async def load_recent_calls(self) -> None:
        """Fetch the latest finished calls."""
        try:
            # Calls in progress are in the records too; they belong to the live table.
            records = await self.client.recent_calls(self.RECENT_LIMIT * 2)
        except DaemonError as exc:
            self._report(exc)
            return
        finished = [record for record in records if record.ended_at is not None]
        self.post_message(RecentCallsLoaded(finished[: self.RECENT_LIMIT]))

    @work(exclusive=True, group="extensions")
    async def load_extensions(self) -> None:
        """Fetch the internal numbers and their registration state."""
        try:
            self.post_message(ExtensionsLoaded(await self.client.extensions()))
        except DaemonError as exc:
            self._report(exc)

    def _report(self, exc: DaemonError) -> None:
        # Unreachable and rejected daemons are shown by the connection bar (the event stream sees them too).
        if isinstance(exc, (DaemonUnavailable, TokenRejected)) or str(exc) in self._reported:
            return
        self._reported.add(str(exc))
        self.notify(str(exc), title="daemon", severity="warning", timeout=8)

    # -- rendering ------------------------------------------------------------------------------
    @on(ConnectionChanged)
    def _show_connection(self, message: ConnectionChanged) -> None:
        self._connected = message.state is ConnectionState.CONNECTED
        for widget in self.query(ConnectionBar):  # none while the app shuts down
            widget.show_connection(message.state, message.detail)
        self.screen.set_class(not self._connected, "-offline")

    @on(DaemonHealthLoaded)
    def _show_health(self, message: DaemonHealthLoaded) -> None:
        for widget in self.query(ConnectionBar):  # none while the app shuts down
            widget.show_health(message.health)

    @on(LiveCallsChanged)
    def _show_live_calls(self, message: LiveCallsChanged) -> None:
        for widget in self.query(LiveCallsTable):  # none while the app shuts down
            widget.show(message.calls)

    @on(RecentCallsLoaded)
    def _show_recent_calls(self, message: RecentCallsLoaded) -> None:
        for widget in self.query(RecentCallsTable):  # none while the app shuts down
            widget.show(message.calls)

    @on(ExtensionsLoaded)
    def _show_extensions(self, message: ExtensionsLoaded) -> None:
        for widget in self.query(ExtensionsTable):  # none while the app shuts down
            widget.show(message.extensions)


def _live_calls(raw: object) -> list[LiveCall]:
    calls = []
    for item in raw if isinstance(raw, list) else []:
        try:
            calls.append(LiveCall.from_api(item))
        except (KeyError, TypeError, ValueError):
            continue  # one malformed entry must not hide the others
    return calls


def run_console(base_url: str, token: str) -> None:
    """Entry point of `pbx console`: run the console against the daemon at `base_url` until the user quits.

    Raises `DaemonError` (with a message for the user) if `base_url` is not an http(s) URL. An unreachable
    daemon is not an error: the console shows it and keeps retrying.
    """

    async def main() -> None:
        async with DaemonClient(base_url, token) as client:
            await PbxConsole(client).run_async()

    asyncio.run(main())
