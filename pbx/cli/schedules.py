"""`pbx schedule …`: schedules (business hours): destinations, hours, holidays, override."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pbx.cli.backend import via_daemon_or_local
from pbx.cli.common import dicts, out, seg, settings
from pbx.errors import Failure

schedule_app = typer.Typer(
    help="Schedules (business hours): open and closed destinations, hours, holidays, override.",
    no_args_is_help=True,
)


@schedule_app.command("set")
def schedule_set(
    name: Annotated[str, typer.Argument(help="e.g. office (reached as schedule:office)")],
    open_to: Annotated[str, typer.Option("--open", help="destination while open, e.g. group:sales")],
    closed_to: Annotated[str, typer.Option("--closed", help="destination while closed, e.g. voicemail:101")],
    timezone: Annotated[str, typer.Option(help="e.g. Europe/Berlin")] = "UTC",
) -> None:
    """Create or change a schedule."""
    s = settings()
    body = {"timezone": timezone, "open": open_to, "closed": closed_to}
    via_daemon_or_local(
        s,
        lambda api: api.put(f"schedules/{seg(name)}", json=body),
        lambda svc, who: svc.schedules.save(
            who, name, timezone=timezone, open_to=open_to, closed_to=closed_to
        ),
    )
    out.print(f"schedule {name}: open → {open_to}, closed → {closed_to} ({timezone})")


@schedule_app.command("hours")
def schedule_hours(
    name: Annotated[str, typer.Argument(help="the schedule")],
    hours: Annotated[list[str], typer.Argument(help='e.g. "mon-fri 09:00-17:00" "sat 10:00-14:00"')],
) -> None:
    """Set the opening hours (replacing the old ones)."""
    s = settings()
    pairs = []
    for item in hours:
        days, _, span = item.strip().partition(" ")
        if not span:
            raise Failure(f'{item!r}: write DAYS HH:MM-HH:MM, e.g. "mon-fri 09:00-17:00"')
        pairs.append((days, span.strip()))
    via_daemon_or_local(
        s,
        lambda api: api.put(f"schedules/{seg(name)}/hours", json={"hours": pairs}),
        lambda svc, who: svc.schedules.set_hours(who, name, pairs),
    )
    out.print(f"schedule {name}: {'; '.join(hours)}")


@schedule_app.command("holiday")
def schedule_holiday(
    name: Annotated[str, typer.Argument(help="the schedule")],
    day: Annotated[str, typer.Argument(help="YYYY-MM-DD")],
    label: Annotated[str, typer.Option("--name", help="e.g. Christmas")] = "",
) -> None:
    """Close the schedule all day on DAY."""
    s = settings()
    via_daemon_or_local(
        s,
        lambda api: api.post(f"schedules/{seg(name)}/holidays", json={"day": day, "name": label}),
        lambda svc, who: svc.schedules.add_holiday(who, name, day, label),
    )
    out.print(f"schedule {name}: closed on {day}")


@schedule_app.command("override")
def schedule_override(
    name: Annotated[str, typer.Argument(help="the schedule")],
    state: Annotated[str, typer.Argument(help="open | closed | auto (back to the clock)")],
) -> None:
    """Force a schedule open or closed (until `auto`)."""
    s = settings()
    via_daemon_or_local(
        s,
        lambda api: api.put(f"schedules/{seg(name)}/override", json={"state": state}),
        lambda svc, who: svc.schedules.set_override(who, name, state),
    )
    out.print(f"schedule {name}: {state}")


@schedule_app.command("list")
def schedule_list() -> None:
    """Schedules, their hours, and whether they are open now."""
    s = settings()
    rows = via_daemon_or_local(
        s, lambda api: api.get("schedules"), lambda svc, who: svc.schedules.schedules(who)
    )
    table = Table("schedule", "now", "open →", "closed →", "hours", "holidays", "timezone")
    for r in dicts(rows):
        now = ("open" if r["open_now"] else "closed") + (
            f" (forced {r['override']})" if r["override"] else ""
        )
        table.add_row(
            r["name"],
            now,
            r["open_destination"],
            r["closed_destination"],
            "\n".join(r["hours"]),
            "\n".join(r["holidays"]),
            r["timezone"],
        )
    out.print(table)
