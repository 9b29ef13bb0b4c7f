"""`pbx security …`: addresses banned for guessing SIP passwords, and lifting a ban."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pbx.cli.backend import via_daemon_or_local
from pbx.cli.common import dicts, moment, out, seg, settings

security_app = typer.Typer(
    help="Protection against SIP password guessing: banned addresses.", no_args_is_help=True
)


@security_app.command("bans")
def security_bans() -> None:
    """Addresses Asterisk refuses right now, with when the ban ends and what they tried."""
    s = settings()
    rows = via_daemon_or_local(
        s, lambda api: api.get("security/bans"), lambda svc, who: svc.security.bans(who)
    )
    table = Table("address", "banned until (UTC)", "failures", "numbers tried")
    for r in dicts(rows):
        until = moment(r["until"])
        table.add_row(r["address"], until, str(r["failures"]), ", ".join(r["numbers"]))
    out.print(table)


@security_app.command("unban")
def security_unban(
    address: Annotated[str, typer.Argument(help="the banned IP address, e.g. 203.0.113.7")],
) -> None:
    """Let a banned address in again now (without a daemon: as soon as the daemon starts)."""
    s = settings()
    via_daemon_or_local(
        s,
        lambda api: api.delete(f"security/bans/{seg(address)}"),
        lambda svc, who: svc.security.unban(who, address),
    )
    out.print(f"{address.strip()} unbanned")
