"""Call set-up time through our Stasis app vs. a plain dialplan Dial(), on the same Asterisk, in one run.

Both paths ring the same registered sipp phone from a sipp caller; set-up time is the caller's
authenticated INVITE → 200 OK, read from sipp's message trace (µs resolution). The baseline caller is an
endpoint whose context is `bench-direct` (`Dial(PJSIP/${EXTEN})`, no Stasis). Runs alternate between the
two paths so drift on the machine hits both alike. Prints medians, p90 and their ratio.

    python -m bench.call_setup [--calls 60] [--rounds 3] [--rate 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from asterisk.installer import install, load
from core.models import Extension
from core.services.provisioning import endpoint_fields, sip_digest
from pbx.lab import lab_pbx
from pbxtest.sipp import SippPhone, run_calls

CALLEE, CALLER, BASELINE_CALLER = "102", "101", "9101"
PASSWORDS = {CALLER: "bench-101-pw", CALLEE: "bench-102-pw"}
BASELINE_PASSWORD = "bench-9101-pw"
TARGET_RATIO = 1.5


async def _add_baseline_caller(lab) -> None:
    """A phone account like ours, but whose calls go straight to the dialplan's Dial(), bypassing our app."""
    digest = sip_digest(BASELINE_CALLER, BASELINE_PASSWORD)
    account = Extension(number=BASELINE_CALLER, name="bench", sip_digest=digest, enabled=True)
    objects = endpoint_fields(account, lab.settings.asterisk.bind, context="bench-direct")
    for object_type, fields in objects.items():
        await lab.daemon.ari.client.push_config(object_type, BASELINE_CALLER, fields)


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) >= 2 else values[0]


def _dist():  # type: ignore[no-untyped-def]
    dist_dir = Path(
        os.environ.get("PBX_ASTERISK__DIST_DIR") or "~/.local/share/pbx/asterisk/dist"
    ).expanduser()
    return load(dist_dir) or install(dist_dir)


async def main(calls: int, rounds: int, rate: float) -> float:
    dist = await asyncio.to_thread(_dist)
    stasis: list[float] = []
    baseline: list[float] = []
    with tempfile.TemporaryDirectory(prefix="pbx-bench-") as tmp:
        async with lab_pbx(Path(tmp), dist, PASSWORDS, log_level="WARNING") as lab:
            await _add_baseline_caller(lab)
            async with SippPhone(CALLEE, PASSWORDS[CALLEE], lab.sip_port, "answer"):
                # warm-up: first calls pay for caches and lazy loading on both paths
                await run_calls(CALLER, PASSWORDS[CALLER], CALLEE, lab.sip_port, 5, rate, hold_ms=100)
                await run_calls(
                    BASELINE_CALLER, BASELINE_PASSWORD, CALLEE, lab.sip_port, 5, rate, hold_ms=100
                )
                for _ in range(rounds):
                    stasis += await run_calls(
                        CALLER, PASSWORDS[CALLER], CALLEE, lab.sip_port, calls, rate, hold_ms=100
                    )
                    baseline += await run_calls(
                        BASELINE_CALLER, BASELINE_PASSWORD, CALLEE, lab.sip_port, calls, rate, hold_ms=100
                    )
            answered = sum(1 for e in lab.events if e.type == "CallAnswered")
    med_s, med_b = statistics.median(stasis), statistics.median(baseline)
    ratio = med_s / med_b
    table = Table(title=f"Call set-up (INVITE → 200 OK), {len(stasis)} calls per path, {rate:g} calls/s")
    for col in ("path", "median ms", "p90 ms", "min ms", "max ms"):
        table.add_column(col, justify="right" if col != "path" else "left")
    for name, values in (("Stasis app (pbx)", stasis), ("dialplan Dial() (baseline)", baseline)):
        table.add_row(
            name,
            f"{statistics.median(values):.2f}",
            f"{_pct(values, 90):.2f}",
            f"{min(values):.2f}",
            f"{max(values):.2f}",
        )
    console = Console()
    console.print(table)
    verdict = "[green]within[/]" if ratio <= TARGET_RATIO else "[red]over[/]"
    console.print(
        f"ratio of medians (Stasis / dialplan): [bold]{ratio:.2f}[/] — {verdict} the target {TARGET_RATIO}"
    )
    console.print(f"(the daemon recorded {answered} answered calls through the Stasis path)")
    return ratio


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=60, help="calls per path per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--rate", type=float, default=10, help="calls per second")
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.rounds, args.rate))
