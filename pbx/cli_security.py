"""`pbx security …`: addresses banned for guessing SIP passwords, and lifting a ban.

Built by `security_commands(cli)` from the CLI module's own helpers (passed in rather than imported, so
`python -m pbx.cli` and the `pbx` script share one set, with one error type for `main()` to report).
"""

from __future__ import annotations

from types import ModuleType
from typing import Annotated

import typer
from rich.table import Table


def security_commands(cli: ModuleType) -> typer.Typer:
    """The `security` command group, over the helpers of `cli` (pbx.cli)."""
    group = typer.Typer(
        help="Protection against SIP password guessing: banned addresses.", no_args_is_help=True
    )

    @group.command("bans")
    def security_bans() -> None:
        """Addresses Asterisk refuses right now, with when the ban ends and what they tried."""
        s = cli.settings()
        rows = cli._via_daemon_or_local(
            s, lambda api: api.get("security/bans"), lambda svc, who: svc.security.bans(who)
        )
        table = Table("address", "banned until (UTC)", "failures", "numbers tried")
        for r in cli._dicts(rows):
            until = str(r["until"])[:19].replace("T", " ")
            table.add_row(r["address"], until, str(r["failures"]), ", ".join(r["numbers"]))
        cli.out.print(table)

    @group.command("unban")
    def security_unban(
        address: Annotated[str, typer.Argument(help="the banned IP address, e.g. 203.0.113.7")],
    ) -> None:
        """Let a banned address in again now (without a daemon: as soon as the daemon starts)."""
        s = cli.settings()
        cli._via_daemon_or_local(
            s,
            lambda api: api.delete(f"security/bans/{cli._seg(address)}"),
            lambda svc, who: svc.security.unban(who, address),
        )
        cli.out.print(f"{address.strip()} unbanned")

    return group
