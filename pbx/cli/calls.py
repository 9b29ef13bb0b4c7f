"""`pbx calls`: recent call records, read from the database (registered by pbx.cli)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pbx.cli.backend import in_database
from pbx.cli.common import moment, out, settings


def calls(last: Annotated[int, typer.Option("--last", min=1, max=1000, help="how many")] = 20) -> None:
    """Recent call records, newest first."""
    rows = in_database(settings(), lambda svc, who: svc.history.recent(who, last))
    table = Table(
        "started",
        "caller",
        "callee",
        "answered by",
        "disposition",
        "outcome",
        "SIP",
        "wait",
        "talk",
        "call id",
    )
    for c in rows:
        table.add_row(
            moment(c["started_at"]),
            c["caller"],
            c["callee"],
            c["answered_by"] or "",
            c["disposition"],
            c["outcome"] or "",
            str(c["sip_code"] or ""),
            f"{c['wait_seconds']:.1f}s",
            f"{c['talk_seconds']:.1f}s",
            c["call_id"],
        )
    out.print(table)
