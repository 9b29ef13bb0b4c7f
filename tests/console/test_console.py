"""The console against a real daemon API: what an operator sees as calls and extensions change."""

from __future__ import annotations

import socket

from console.app import PbxConsole
from console.client import DaemonClient
from console.messages import ConnectionState
from console.widgets import ConnectionBar, ExtensionsTable, LiveCallsTable, RecentCallsTable
from core.routing.decisions import Disposition
from core.services.auth import SYSTEM
from tests.console.conftest import TOKEN, rows, until

SIZE = (120, 36)


def client_for(base_url: str, token: str = TOKEN) -> DaemonClient:
    return DaemonClient(base_url, token, timeout=2.0, retry_initial=0.05, retry_max=0.2)


def bar_text(app: PbxConsole) -> str:
    return str(app.query_one(ConnectionBar).content)


def connected(app: PbxConsole) -> bool:
    return app.query_one(ConnectionBar).state is ConnectionState.CONNECTED


async def test_a_call_shows_live_then_in_recent_calls(daemon):
    async with client_for(daemon.base_url) as client:
        app = PbxConsole(client)
        async with app.run_test(size=SIZE) as pilot:
            live, recent = app.query_one(LiveCallsTable), app.query_one(RecentCallsTable)
            await until(pilot, lambda: connected(app))
            assert rows(live) == [] and rows(recent) == []

            call = await daemon.call_log.start("101", "Alice", "102", "internal")
            await until(pilot, lambda: rows(live) == [["101 Alice", "102", "routing", "—"]])

            leg = await daemon.call_log.add_leg(call, "callee", "chan-102", "PJSIP/102")
            await daemon.call_log.ringing(call, leg)
            await until(pilot, lambda: rows(live) == [["101 Alice", "102", "ringing", "—"]])
            await daemon.call_log.answered(call, [leg], leg)
            await until(pilot, lambda: rows(live) == [["101 Alice", "102", "up", "0:00"]])
            await until(pilot, lambda: rows(live)[0][3] == "0:01", timeout=3)  # the duration ticks

            await daemon.call_log.finish(call, Disposition.ANSWERED)
            await until(pilot, lambda: rows(live) == [])
            await until(pilot, lambda: len(rows(recent)) == 1)
            time, who, outcome, duration, sip = rows(recent)[0]
            assert (who, outcome, duration, sip) == ("101 Alice → 102", "answered", "0:01", "—")
            assert len(time) == 8  # HH:MM:SS today


async def test_calls_in_progress_and_finished_before_the_console_started(daemon):
    refused = await daemon.call_log.start("103", "", "104", "internal")
    await daemon.call_log.finish(refused, Disposition.BUSY, 486)
    await daemon.call_log.start("101", "Alice", "102", "internal")  # still ringing

    async with client_for(daemon.base_url) as client:
        app = PbxConsole(client)
        async with app.run_test(size=SIZE) as pilot:
            live, recent = app.query_one(LiveCallsTable), app.query_one(RecentCallsTable)
            await until(pilot, lambda: len(rows(live)) == 1 and len(rows(recent)) == 1)
            assert rows(live) == [["101 Alice", "102", "ringing", "—"]]
            assert rows(recent)[0][1:] == [
                "103 → 104",
                "busy",
                "—",
                "486",
            ]  # the call in progress is not "recent"


async def test_extensions_follow_changes_and_show_registration(daemon):
    await daemon.extensions.add(SYSTEM, "101", "Alice")
    daemon.view.registered = {"101": True}

    async with client_for(daemon.base_url) as client:
        app = PbxConsole(client)
        async with app.run_test(size=SIZE) as pilot:
            table = app.query_one(ExtensionsTable)
            await until(pilot, lambda: rows(table) == [["101", "Alice", "yes", "yes"]])

            await daemon.extensions.add(SYSTEM, "102", "Bob")
            await until(pilot, lambda: len(rows(table)) == 2)
            assert rows(table)[1] == ["102", "Bob", "yes", "unknown"]

            await daemon.extensions.update(SYSTEM, "101", enabled=False)
            await until(pilot, lambda: rows(table)[0] == ["101", "Alice", "no", "yes"])

            await daemon.extensions.remove(SYSTEM, "102")
            await until(pilot, lambda: [r[0] for r in rows(table)] == ["101"])


async def test_header_shows_the_daemons_link_to_asterisk(daemon):
    daemon.view.ari_connected, daemon.view.ari_error = False, "connection refused"
    async with client_for(daemon.base_url) as client:
        app = PbxConsole(client)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "Asterisk DISCONNECTED: connection refused" in bar_text(app))
            assert "daemon connected" in bar_text(app)

            daemon.view.ari_connected, daemon.view.ari_error = True, ""
            await pilot.press("r")
            await until(pilot, lambda: "Asterisk connected" in bar_text(app))


async def test_unreachable_daemon_is_shown_and_retried_without_crashing():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    async with client_for(f"http://127.0.0.1:{port}") as client:
        app = PbxConsole(client)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "daemon unreachable — retrying" in bar_text(app))
            await pilot.pause(0.5)  # several retries
            await pilot.press("r")
            await pilot.pause(0.2)
            assert "daemon unreachable — retrying" in bar_text(app)
            assert "connection refused" in bar_text(app)
            assert app.is_running and app.screen.has_class("-offline")
            await pilot.press("q")
        assert app.return_code == 0


async def test_an_unreachable_daemon_says_how_to_start_it_on_a_small_terminal():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    async with client_for(f"http://127.0.0.1:{port}") as client:
        app = PbxConsole(client)
        async with app.run_test(size=(80, 24)) as pilot:
            bar = app.query_one(ConnectionBar)
            await until(pilot, lambda: bar.state is ConnectionState.UNREACHABLE)
            shown = bar.render_line(0).text  # what fits on the one line of an 80-column terminal
            assert "daemon unreachable" in shown and "start it with `pbx up`" in shown
            await pilot.press("q")


async def test_console_reconnects_when_the_daemon_comes_back(daemon):
    async with client_for(daemon.base_url) as client:
        app = PbxConsole(client)
        async with app.run_test(size=SIZE) as pilot:
            live = app.query_one(LiveCallsTable)
            await until(pilot, lambda: connected(app))

            await daemon.server.stop()
            await until(pilot, lambda: "daemon unreachable — retrying" in bar_text(app))
            await daemon.call_log.start("101", "Alice", "102", "internal")  # while the console can't see

            await daemon.server.start()  # same port
            await until(pilot, lambda: connected(app))
            await until(pilot, lambda: rows(live) == [["101 Alice", "102", "ringing", "—"]])
            assert not app.screen.has_class("-offline")


async def test_wrong_token_is_reported_not_retried(daemon):
    async with client_for(daemon.base_url, token="not-the-token") as client:
        app = PbxConsole(client)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.query_one(ConnectionBar).state is ConnectionState.REJECTED)
            assert "rejected the API token" in bar_text(app)
            assert app.is_running
