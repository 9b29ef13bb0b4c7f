"""Event latency at a steady rate of calls: a domain event's own time to its webhook and its websocket client.

A lab PBX takes `--calls` sipp calls (101 → 102, answered, held 100 ms) at `--rate` calls/s. Each call's
`internal`, `answer` and `hangup` webhooks go to a real HTTP receiver on 127.0.0.1; a websocket client of
/api/events (in its own thread, as a separate client would be) listens at the same time. Latency is the
receive time (wall clock) minus the event's `at` (set when the daemon created the event), for the same
events on both paths; a webhook delivered twice counts once, at its first arrival. Figures are printed
against the targets (never asserted) and written to bench/results/webhook_latency-<UTC time>.json.

    python -m bench.webhook_latency [--calls 200] [--rate 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import statistics
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from websockets.sync.client import connect

from asterisk.installer import install, load
from core.services.auth import SYSTEM
from pbx.lab import LabPbx, lab_pbx
from pbxtest.sipp import SippPhone, run_calls
from pbxtest.webhooks import Receiver

CALLEE, CALLER = "102", "101"
PASSWORDS = {CALLER: "bench-101-pw", CALLEE: "bench-102-pw"}
EVENTS = "internal,answer,hangup"
TYPES = ("CallStarted", "CallAnswered", "CallEnded")  # the domain events of those webhooks
TARGETS_MS = {"websocket": 50.0, "webhook": 200.0}  # p99
WARMUP_CALLS, HOLD_MS = 5, 100
TITLE = "Event latency (event `at` → received)"
RESULTS = Path(__file__).resolve().parent / "results"


def _dist():  # type: ignore[no-untyped-def]
    dist_dir = Path(
        os.environ.get("PBX_ASTERISK__DIST_DIR") or "~/.local/share/pbx/asterisk/dist"
    ).expanduser()
    return load(dist_dir) or install(dist_dir)


class StreamClient:
    """A websocket client of /api/events in a thread of its own: (wall-clock arrival, raw message) pairs."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.received: list[tuple[float, str]] = []
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-ws", daemon=True)

    def _run(self) -> None:
        try:
            headers = {"Authorization": f"Bearer {self.token}"}
            with connect(self.url, additional_headers=headers, open_timeout=10) as ws:
                first = json.loads(ws.recv(timeout=10))
                if first.get("type") != "Snapshot":
                    raise RuntimeError(f"the stream did not start with a snapshot: {first}")
                self.ready.set()
                while not self._stop.is_set():
                    try:
                        message = ws.recv(timeout=0.2)
                    except TimeoutError:
                        continue
                    self.received.append((time.time(), str(message)))
        except Exception as exc:  # a stream closed before stop() included
            self.error = exc
        finally:
            self.ready.set()

    async def start(self) -> StreamClient:
        self._thread.start()
        await asyncio.to_thread(self.ready.wait, 15)
        if self.error or not self._thread.is_alive():
            raise RuntimeError(f"websocket client of {self.url} failed: {self.error!r}")
        return self

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.to_thread(self._thread.join, 5)

    def arrivals(self) -> dict[str, tuple[float, str]]:
        """Event id → (arrival, `at`), the first arrival of each."""
        got: dict[str, tuple[float, str]] = {}
        for wall, message in list(self.received):
            event = json.loads(message)
            if event.get("id") is not None and "at" in event:
                got.setdefault(str(event["id"]), (wall, event["at"]))
        return got


def _webhook_arrivals(receiver: Receiver) -> dict[str, tuple[float, str]]:
    got: dict[str, tuple[float, str]] = {}
    for r in receiver.delivered():
        got.setdefault(r.id, (r.wall, r.data["at"]))
    return got


async def _settle(
    lab: LabPbx, mark: int, calls: int, receiver: Receiver, stream: StreamClient, timeout: float
) -> set[str]:
    """Once the `calls` calls after event `mark` are over and both paths have all their events: the ids."""
    expected: set[str] = set()
    try:
        async with asyncio.timeout(timeout):
            while sum(1 for e in lab.events[mark:] if e.type == "CallEnded") < calls:
                await asyncio.sleep(0.05)
            expected = {str(e.id) for e in lab.events[mark:] if e.type in TYPES}
            while not (expected <= set(_webhook_arrivals(receiver)) and expected <= set(stream.arrivals())):
                await asyncio.sleep(
                    0.25
                )  # not too often: the daemon delivering the last events shares the loop
    except TimeoutError:
        ended = sum(1 for e in lab.events[mark:] if e.type == "CallEnded")
        hooks, ws = len(expected & set(_webhook_arrivals(receiver))), len(expected & set(stream.arrivals()))
        raise RuntimeError(
            f"after {timeout:g} s: {ended}/{calls} calls ended, of {len(expected)} events {hooks} came "
            f"by webhook and {ws} by websocket (websocket error: {stream.error!r})"
        ) from None
    return expected


def _latencies(arrivals: dict[str, tuple[float, str]], ids: set[str]) -> list[float]:
    return [
        (wall - datetime.fromisoformat(at).timestamp()) * 1000
        for event_id, (wall, at) in arrivals.items()
        if event_id in ids
    ]


def _figures(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"count": 0, "p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
    p99 = statistics.quantiles(values, n=100, method="inclusive")[98] if len(values) > 1 else values[0]
    return {
        "count": len(values),
        "p50_ms": round(statistics.median(values), 3),
        "p99_ms": round(p99, 3),
        "max_ms": round(max(values), 3),
    }


def _git_revision() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            check=False,
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def _write_result(now: datetime, calls: int, rate: float, figures: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"webhook_latency-{now.strftime('%Y%m%dT%H%M%SZ')}.json"
    result = {
        "benchmark": "webhook_latency",
        "date": now.isoformat(),
        "machine": {"node": platform.node(), "cpu_count": os.cpu_count()},
        "git_revision": _git_revision(),
        "settings": {"calls": calls, "rate": rate, "hold_ms": HOLD_MS, "warmup_calls": WARMUP_CALLS},
        "targets_p99_ms": TARGETS_MS,
        "figures": figures,
    }
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


def _print(console: Console, calls: int, rate: float, figures: dict[str, Any]) -> None:
    table = Table(title=f"{TITLE}, {calls} calls, {rate:g} calls/s")
    for col in ("path", "count", "p50 ms", "p99 ms", "max ms", "p99 target", "result"):
        table.add_column(col, justify="left" if col == "path" else "right")
    for path in ("websocket", "webhook"):
        f, target = figures[path], TARGETS_MS[path]
        verdict = "[green]pass[/]" if f["count"] and f["p99_ms"] <= target else "[red]fail[/]"
        row = (str(f["count"]), f"{f['p50_ms']:.2f}", f"{f['p99_ms']:.2f}", f"{f['max_ms']:.2f}")
        table.add_row(path, *row, f"≤ {target:g} ms", verdict)
    console.print(table)


async def main(calls: int = 200, rate: float = 20) -> dict[str, Any]:
    """Run the benchmark; returns {"websocket": {...}, "webhook": {...}} (count, p50_ms, p99_ms, max_ms)."""
    dist = await asyncio.to_thread(_dist)
    receiver = Receiver().start()
    try:
        with tempfile.TemporaryDirectory(prefix="pbx-bench-") as tmp:
            async with lab_pbx(
                Path(tmp),
                dist,
                PASSWORDS,
                log_level="WARNING",
                webhooks={"allow_private": True},
                outbox={"backoff_base": 0.2},
            ) as lab:
                await lab.daemon.services.webhooks.add(SYSTEM, receiver.url, EVENTS)
                await lab.daemon.webhooks.load()
                api = f"ws://{lab.settings.api.host}:{lab.daemon.api_port}/api/events"
                stream = await StreamClient(api, lab.settings.api.token).start()
                try:
                    async with SippPhone(CALLEE, PASSWORDS[CALLEE], lab.sip_port, "answer"):
                        # warm-up: the first calls pay for caches, lazy loading and the first connections
                        mark = len(lab.events)
                        await run_calls(
                            CALLER,
                            PASSWORDS[CALLER],
                            CALLEE,
                            lab.sip_port,
                            WARMUP_CALLS,
                            rate,
                            hold_ms=HOLD_MS,
                        )
                        await _settle(lab, mark, WARMUP_CALLS, receiver, stream, timeout=30)
                        mark = len(lab.events)
                        await run_calls(
                            CALLER, PASSWORDS[CALLER], CALLEE, lab.sip_port, calls, rate, hold_ms=HOLD_MS
                        )
                        ids = await _settle(lab, mark, calls, receiver, stream, timeout=60)
                finally:
                    await stream.stop()
    finally:
        receiver.stop()
    figures = {
        "websocket": _figures(_latencies(stream.arrivals(), ids)),
        "webhook": _figures(_latencies(_webhook_arrivals(receiver), ids)),
        "events": len(ids),
    }
    console = Console()
    _print(console, calls, rate, figures)
    path = _write_result(datetime.now(UTC), calls, rate, figures)
    console.print(f"(the {len(ids)} events of {calls} calls on both paths; result written to {path})")
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="calls measured (after a warm-up of 5)")
    parser.add_argument("--rate", type=float, default=20, help="calls per second")
    args = parser.parse_args()
    logging.getLogger("asyncari").setLevel(logging.ERROR)  # its "Event not recognized" of each call
    asyncio.run(main(calls=args.calls, rate=args.rate))
