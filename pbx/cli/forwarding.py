"""`pbx forward …` and `pbx dnd …`: forwarding rules and do-not-disturb of internal numbers."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pbx.cli.backend import via_daemon_or_local
from pbx.cli.common import dicts, out, seg, settings

forward_app = typer.Typer(
    help="Forwarding of internal numbers: always, busy, no_answer (after N seconds), unavailable.",
    no_args_is_help=True,
)
dnd_app = typer.Typer(help="Do-not-disturb: callers get busy (or the busy forwarding).", no_args_is_help=True)


@forward_app.command("set")
def forward_set(
    number: Annotated[str, typer.Argument(help="the internal number whose calls are forwarded")],
    condition: Annotated[str, typer.Argument(help="always | busy | no_answer | unavailable")],
    destination: Annotated[str, typer.Argument(help="ext:102, busy or hangup")],
    ring_seconds: Annotated[int | None, typer.Option(help="no_answer: ring this long first")] = None,
) -> None:
    """Forward NUMBER's calls to DESTINATION when CONDITION holds (replaces the rule for CONDITION)."""
    s = settings()
    body = {"destination": destination, "ring_seconds": ring_seconds}
    via_daemon_or_local(
        s,
        lambda api: api.put(f"extensions/{seg(number)}/forwarding/{seg(condition)}", json=body),
        lambda svc, who: svc.forwarding.set(who, number, condition, destination, ring_seconds),
    )
    after = f" after {ring_seconds} s" if ring_seconds else ""
    out.print(f"{number}: {condition}{after} → {destination}")


@forward_app.command("clear")
def forward_clear(
    number: Annotated[str, typer.Argument(help="the internal number")],
    condition: Annotated[str, typer.Argument(help="always | busy | no_answer | unavailable")],
) -> None:
    """Remove one forwarding rule."""
    s = settings()
    via_daemon_or_local(
        s,
        lambda api: api.delete(f"extensions/{seg(number)}/forwarding/{seg(condition)}"),
        lambda svc, who: svc.forwarding.clear(who, number, condition),
    )
    out.print(f"{number}: no {condition} forwarding")


@forward_app.command("list")
def forward_list(
    number: Annotated[str | None, typer.Argument(help="only this internal number")] = None,
) -> None:
    """Forwarding rules."""
    s = settings()
    params = {"number": number} if number else {}
    rows = via_daemon_or_local(
        s, lambda api: api.get("forwarding", params=params), lambda svc, who: svc.forwarding.list(who, number)
    )
    table = Table("number", "condition", "destination", "ring seconds")
    for r in dicts(rows):
        table.add_row(r["number"], r["condition"], r["destination"], str(r["ring_seconds"] or ""))
    out.print(table)


def _set_dnd(number: str, on: bool) -> None:
    s = settings()
    via_daemon_or_local(
        s,
        lambda api: api.patch(f"extensions/{seg(number)}", json={"dnd": on}),
        lambda svc, who: svc.forwarding.set_dnd(who, number, on),
    )
    out.print(f"{number}: do-not-disturb {'on' if on else 'off'}")


@dnd_app.command("on")
def dnd_on(number: Annotated[str, typer.Argument(help="the internal number")]) -> None:
    """Switch do-not-disturb on."""
    _set_dnd(number, True)


@dnd_app.command("off")
def dnd_off(number: Annotated[str, typer.Argument(help="the internal number")]) -> None:
    """Switch do-not-disturb off."""
    _set_dnd(number, False)
