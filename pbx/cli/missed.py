"""`pbx missed`: inbound calls no person answered, open ones first; `pbx missed handle ID` marks one."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pbx.cli.backend import via_daemon_or_local
from pbx.cli.common import dicts, moment, out, seg, settings

missed_app = typer.Typer(help="Missed calls: who called, where it ended, and who returned or handled it.")


@missed_app.callback(invoke_without_command=True)
def missed(
    ctx: typer.Context,
    open_only: Annotated[bool, typer.Option("--open", help="only those nobody returned or handled")] = False,
    since: Annotated[
        str | None, typer.Option(help="today, yesterday, 24h, 7d, 2w or a date (2026-12-01)")
    ] = None,
) -> None:
    """Missed calls, open ones first (newest first within each)."""
    if ctx.invoked_subcommand is not None:
        return
    s = settings()
    params = {k: v for k, v in {"open": "true" if open_only else None, "since": since}.items() if v}
    rows = via_daemon_or_local(
        s,
        lambda api: api.get("missed", params=params),
        lambda svc, who: svc.missed.missed(who, open_only, since),
    )
    table = Table("id", "when (UTC)", "caller", "called", "ended", "reason", "waited", "status", "by")
    for r in dicts(rows):
        caller = f"{r['caller']} ({r['caller_name']})" if r["caller_name"] else r["caller"]
        status = r["status"] if r["status"] == "open" else f"{r['status']} {moment(r['resolved_at'])}"
        table.add_row(
            str(r["id"]), moment(r["at"]), caller, r["callee"], r["ended"], r["reason"],
            f"{r['waited_seconds']:.0f}s", status, r["resolved_by"] or "",
        )  # fmt: skip
    out.print(table)


@missed_app.command("handle")
def missed_handle(
    missed_id: Annotated[str, typer.Argument(help="the missed call's id (see pbx missed)")],
) -> None:
    """Mark a missed call handled (by you, now)."""
    s = settings()
    via_daemon_or_local(
        s,
        lambda api: api.post(f"missed/{seg(missed_id)}/handle"),
        lambda svc, who: svc.missed.handle(who, missed_id),
    )
    out.print(f"missed call {missed_id.strip()} marked handled", markup=False)
