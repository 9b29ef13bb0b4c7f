"""`pbx blacklist …` and `pbx whitelist …`: callers blocked or let through, and the anonymous-caller
policy."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pbx.cli.backend import via_daemon_or_local
from pbx.cli.common import as_dict, dicts, moment, out, seg, settings

blacklist_app = typer.Typer(
    help="Callers whose calls are not processed (they hear busy); also the anonymous-caller policy.",
    no_args_is_help=True,
)
whitelist_app = typer.Typer(
    help="Callers with a rule of their own, or let through where only listed callers may call.",
    no_args_is_help=True,
)


@blacklist_app.command("add")
def blacklist_add(
    number: Annotated[
        str, typer.Argument(help="+15557654321 or national 5557654321 (or a prefix like +1900 with --prefix)")
    ],
    prefix: Annotated[bool, typer.Option(help="block every number starting with NUMBER, e.g. +1900")] = False,
    note: Annotated[str, typer.Option(help="why")] = "",
    force: Annotated[
        bool, typer.Option("--force", help="accept a prefix that blocks whole countries, e.g. +1")
    ] = False,
) -> None:
    """Block a caller: their calls are not processed, they hear busy. Says how many distinct callers of
    the last 30 days the entry would have blocked."""
    s = settings()
    body = {"number": number, "prefix": prefix, "note": note, "force": force}
    row = as_dict(
        via_daemon_or_local(
            s,
            lambda api: api.post("blacklist", json=body),
            lambda svc, who: svc.caller_lists.block(who, number, prefix=prefix, note=note, force=force),
        )
    )
    callers = row["would_have_blocked"]
    seen = f" (it would have blocked {callers} distinct caller(s) in the last 30 days)" if prefix else ""
    out.print(f"{row['pattern']}{'…' if prefix else ''} blocked{seen}", highlight=False)


@blacklist_app.command("list")
def blacklist_list() -> None:
    """The blacklist with how often each entry blocked a call."""
    s = settings()
    rows = via_daemon_or_local(
        s, lambda api: api.get("blacklist"), lambda svc, who: svc.caller_lists.blacklist(who)
    )
    table = Table("number or prefix", "hits", "last hit", "note")
    for r in dicts(rows):
        last = moment(r["last_hit_at"])
        table.add_row(r["pattern"] + ("…" if r["is_prefix"] else ""), str(r["hits"]), last, r["note"])
    out.print(table)


@blacklist_app.command("rm")
def blacklist_rm(number: Annotated[str, typer.Argument(help="the number or prefix")]) -> None:
    """Unblock a number or prefix."""
    s = settings()
    via_daemon_or_local(
        s,
        lambda api: api.delete(f"blacklist/{seg(number)}"),
        lambda svc, who: svc.caller_lists.unblock(who, number),
    )
    out.print(f"{number} unblocked")


@blacklist_app.command("anonymous")
def blacklist_anonymous(
    policy: Annotated[str, typer.Argument(help="allow | busy | a destination such as ext:101")],
) -> None:
    """What happens to callers who withhold their number."""
    s = settings()
    via_daemon_or_local(
        s,
        lambda api: api.put("policy/anonymous", json={"policy": policy}),
        lambda svc, who: svc.caller_lists.set_anonymous_policy(who, policy),
    )
    out.print(f"anonymous callers: {policy}")


@whitelist_app.command("add")
def whitelist_add(
    number: Annotated[str, typer.Argument(help="+15557654321, or national 5557654321")],
    route: Annotated[str | None, typer.Option(help="this caller's own rule, e.g. ext:103")] = None,
    note: Annotated[str, typer.Option(help="who it is")] = "",
) -> None:
    """Put a caller on the whitelist (with a personal rule, or just let through)."""
    s = settings()
    body = {"destination": route, "note": note}
    row = as_dict(
        via_daemon_or_local(
            s,
            lambda api: api.put(f"whitelist/{seg(number)}", json=body),
            lambda svc, who: svc.caller_lists.allow(who, number, destination=route, note=note),
        )
    )
    rule = row["destination"]
    out.print(f"{row['number']} whitelisted{f' → {rule}' if rule else ''}", highlight=False)


@whitelist_app.command("list")
def whitelist_list() -> None:
    """The whitelist."""
    s = settings()
    rows = via_daemon_or_local(
        s, lambda api: api.get("whitelist"), lambda svc, who: svc.caller_lists.whitelist(who)
    )
    table = Table("number", "own rule", "note")
    for r in dicts(rows):
        table.add_row(r["number"], r["destination"] or "usual route", r["note"])
    out.print(table)


@whitelist_app.command("rm")
def whitelist_rm(number: Annotated[str, typer.Argument(help="the number")]) -> None:
    """Take a caller off the whitelist."""
    s = settings()
    via_daemon_or_local(
        s,
        lambda api: api.delete(f"whitelist/{seg(number)}"),
        lambda svc, who: svc.caller_lists.disallow(who, number),
    )
    out.print(f"{number} removed from the whitelist")
