"""`pbx stats`: queue figures (service level, waits, abandons) with their agents, and calls per internal
number and group, over a period (today by default)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from pbx.cli.backend import via_daemon_or_local
from pbx.cli.common import dicts, out, settings


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _bar(value: float, width: int = 10) -> str:
    filled = round(max(0.0, min(1.0, value)) * width)
    return "█" * filled + "░" * (width - filled)


def stats(
    queue: Annotated[str | None, typer.Option(help="one queue only")] = None,
    since: Annotated[
        str | None, typer.Option("--from", help="today (the default), yesterday, 24h, 7d, 2w or a date")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--to", help="now (the default) or a date (to its end)")
    ] = None,
) -> None:
    """Queue statistics (and, without --queue, calls per internal number and group) over a period."""
    s = settings()
    params = {k: v for k, v in {"queue": queue, "from": since, "to": until}.items() if v}
    queues = via_daemon_or_local(
        s,
        lambda api: api.get("stats/queues", params=params),
        lambda svc, who: svc.stats.queues(who, queue, since, until),
    )
    rows = dicts(queues)
    if rows:
        out.print(
            f"from {rows[0]['from'][:16].replace('T', ' ')} to {rows[0]['to'][:16].replace('T', ' ')} UTC"
        )
    table = Table(
        "queue", "offered", "answered", "abandoned", "short", "adj. rate", "overflow", "waiting", "avg wait",
        "longest", "ASA", "service level", "of answered", title="Queues",
    )  # fmt: skip
    for q in rows:
        table.add_row(
            q["queue"], str(q["offered"]), str(q["answered"]),
            f"{q['abandoned']} {_pct(q['abandon_rate'])}", str(q["short_abandoned"]),
            _pct(q["abandon_rate_adjusted"]),
            str(q["timed_out"] + q["no_agents"]), str(q["waiting"]), f"{q['average_wait']:.1f}s",
            f"{q['longest_wait']:.1f}s", f"{q['average_speed_of_answer']:.1f}s",
            f"{_bar(q['service_level'])} {_pct(q['service_level'])} ≤{q['service_level_seconds']}s",
            _pct(q["service_level_of_answered"]),
        )  # fmt: skip
    out.print(table)
    agents = Table(
        "queue", "agent", "calls", "talk", "avg talk", "logged in", "paused", "wrap-up", title="Agents"
    )
    for q in rows:
        for a in q["agents"]:
            agents.add_row(
                q["queue"], a["agent"], str(a["calls"]), _span(a["talk_seconds"]),
                f"{a['average_talk']:.0f}s", _span(a["login_seconds"]), _span(a["pause_seconds"]),
                _span(a["wrapup_seconds"]),
            )  # fmt: skip
    out.print(agents)
    if queue is not None:
        return
    _others(s, since, until)


def _others(s: Any, since: str | None, until: str | None) -> None:
    params = {k: v for k, v in {"from": since, "to": until}.items() if v}
    numbers = via_daemon_or_local(
        s,
        lambda api: api.get("stats/numbers", params=params),
        lambda svc, who: svc.stats.numbers(who, since, until),
    )
    table = Table("number", "answered", "missed", "avg talk", title="Internal numbers")
    for n in dicts(numbers):
        table.add_row(n["number"], str(n["answered"]), str(n["missed"]), f"{n['average_talk']:.0f}s")
    out.print(table)
    groups = via_daemon_or_local(
        s,
        lambda api: api.get("stats/groups", params=params),
        lambda svc, who: svc.stats.groups(who, since, until),
    )
    table = Table("group", "offered", "answered", "missed", "avg talk", title="Groups")
    for g in dicts(groups):
        table.add_row(
            g["group"], str(g["offered"]), str(g["answered"]), str(g["missed"]), f"{g['average_talk']:.0f}s"
        )
    out.print(table)


def _span(seconds: float) -> str:
    minutes, sec = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{sec:02d}" if hours else f"{minutes}:{sec:02d}"
