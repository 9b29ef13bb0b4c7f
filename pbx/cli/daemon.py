"""The daemon and the whole PBX: `pbx serve`, `up`, `down`, `console`, `seed` (registered by pbx.cli)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from core.config import Settings
from pbx import daemon_api
from pbx.accounts import pause_before_console, print_accounts, save_accounts
from pbx.cli.asterisk import instance
from pbx.cli.common import out, run, settings
from pbx.errors import Failure
from pbx.logs import configure_logging, private_log_file
from pbx.seed import seed_sample


def _pidfile(s: Settings) -> Path:
    return s.data_dir / "pbx.pid"


def serve(logfile: Annotated[Path | None, typer.Option(help="log here instead of stderr")] = None) -> None:
    """Run the PBX daemon in the foreground (Ctrl-C stops it)."""
    from core.daemon import serve as serve_daemon

    s = settings()
    configure_logging(s, logfile)
    s.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _pidfile(s).write_text(str(os.getpid()))

    async def main() -> None:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)  # type: ignore[union-attr]
        with contextlib.suppress(asyncio.CancelledError):
            await serve_daemon(s)

    try:
        run(main)
    finally:
        with contextlib.suppress(FileNotFoundError):
            _pidfile(s).unlink()


def _log_tail(path: Path, lines: int = 3) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_for_daemon(
    s: Settings, proc: subprocess.Popen[bytes] | None, timeout: float = 30
) -> dict[str, Any]:
    """Until the daemon answers and is connected to Asterisk; a clear error naming the cause otherwise."""
    log = s.data_dir / "log" / "pbx.log"
    deadline = time.monotonic() + timeout
    health: dict[str, Any] = {}
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise Failure(f"the daemon exited at start: {_log_tail(log)}")
        health = daemon_api.health(s) or {}
        if health.get("ari_connected"):
            return health
        time.sleep(0.3)
    if health:
        raise Failure(f"the daemon runs but cannot use Asterisk: {health.get('ari_error')}")
    raise Failure(f"the daemon did not answer within {timeout:.0f} s; see {log}")


def _start_daemon_background(s: Settings) -> subprocess.Popen[bytes] | None:
    """Start `pbx serve` detached (unless one already answers); its log goes to <data dir>/log/pbx.log."""
    if daemon_api.health(s) is not None:
        return None
    log = private_log_file(s.data_dir / "log" / "pbx.log")
    with open(log, "a") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "pbx.cli", "serve", "--logfile", str(log)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )


def _stop_daemon(s: Settings) -> bool:
    pidfile = _pidfile(s)
    try:
        pid = int(pidfile.read_text())
        os.kill(pid, signal.SIGTERM)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return False
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    return True


def up(
    console: Annotated[bool, typer.Option(help="open the console once everything runs")] = True,
) -> None:
    """Set everything up and run the PBX: Asterisk, database, sample organisation, daemon, console."""
    s = settings()
    if s.asterisk.mode == "managed":
        inst = instance(s, install_missing=True)
        inst.start()
        out.print(
            f"[green]✓[/] Asterisk on {s.asterisk.bind} (SIP udp/{s.asterisk.sip_port}, ARI {inst.ari_url})"
        )
    seeded = run(lambda: seed_sample(s))
    if seeded:  # now, before anything else can fail; kept in a file the console cannot cover
        print_accounts(out, s, seeded, save_accounts(s, seeded, create=True))
    health = _wait_for_daemon(s, _start_daemon_background(s))
    api_url = f"http://{s.api.host}:{s.api.port}"
    out.print(f"[green]✓[/] daemon up, API on {api_url} (ARI connected: {health['ari_connected']})")
    if console and (not seeded or pause_before_console(out)):
        _run_console(s)
    out.print("The PBX keeps running; `pbx down` stops it.")


def down() -> None:
    """Stop the daemon and the local Asterisk."""
    s = settings()
    out.print("daemon stopped" if _stop_daemon(s) else "daemon was not running")
    if s.asterisk.mode == "managed":
        try:
            inst = instance(s)
        except Failure:
            return  # never installed: nothing runs
        inst.stop()
        out.print("Asterisk stopped")


def _run_console(s: Settings) -> None:
    from console.app import run_console

    run_console(f"http://{s.api.host}:{s.api.port}", s.api.token)


def console_cmd() -> None:
    """Open the operator console (the daemon must be running)."""
    s = settings()
    _run_console(s)


def seed() -> None:
    """Create the sample organisation (internal numbers 101–105) if the PBX has no numbers yet."""
    s = settings()
    rows = run(lambda: seed_sample(s))
    if rows:
        print_accounts(out, s, rows, save_accounts(s, rows, create=True))
    else:
        out.print("already seeded: nothing to do")
