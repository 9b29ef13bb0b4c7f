"""`pbx record …` and `pbx voicemail`: call recording (policies, recordings, on-demand) and voicemail."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pbx import daemon_api
from pbx.cli.backend import via_daemon_or_local
from pbx.cli.common import dicts, moment, out, seg, settings

record_app = typer.Typer(
    help="Call recording: policies, recordings, on-demand recording.", no_args_is_help=True
)


def voicemail(
    mailbox: Annotated[str | None, typer.Argument(help="only this internal number's box")] = None,
) -> None:
    """Voicemail messages, newest first (send callers there with destination voicemail:101)."""
    s = settings()
    params = {"mailbox": mailbox} if mailbox else {}
    rows = via_daemon_or_local(
        s,
        lambda api: api.get("voicemail", params=params),
        lambda svc, who: svc.recordings.voicemails(who, mailbox),
    )
    table = Table("left at", "mailbox", "from", "length", "file")
    for r in dicts(rows):
        table.add_row(
            moment(r["created_at"]),
            r["mailbox"],
            r["caller"],
            f"{r['duration']:.1f}s",
            r["path"],
        )
    out.print(table)


@record_app.command("policy")
def record_policy(
    target: Annotated[
        str,
        typer.Argument(help="ext:101, group:sales, queue:support, or a routed public number +15550001000"),
    ],
    policy: Annotated[str, typer.Argument(help="always | never | on_demand")],
) -> None:
    """Set whether calls through TARGET are recorded."""
    s = settings()
    via_daemon_or_local(
        s,
        lambda api: api.put("recording-policy", json={"target": target, "policy": policy}),
        lambda svc, who: svc.recordings.set_policy(who, target, policy),
    )
    out.print(f"{target}: recording {policy}")


@record_app.command("list")
def record_list(call_id: Annotated[str | None, typer.Option("--call", help="only this call")] = None) -> None:
    """Recordings, newest first."""
    s = settings()
    params = {"call_id": call_id} if call_id else {}
    rows = via_daemon_or_local(
        s,
        lambda api: api.get("recordings", params=params),
        lambda svc, who: svc.recordings.recordings(who, call_id),
    )
    table = Table("recorded", "call id", "duration", "size", "file")
    for r in dicts(rows):
        table.add_row(
            moment(r["created_at"]),
            r["call_id"],
            f"{r['duration']:.1f}s",
            f"{r['size'] // 1024} KiB",
            r["path"],
        )
    out.print(table)


@record_app.command("start")
def record_start(
    call_id: Annotated[str, typer.Argument(help="a call in progress (see the console)")],
) -> None:
    """Record a call in progress (its policy must be on_demand or always; the daemon must run)."""
    daemon_api.require_daemon(settings(), lambda api: api.post(f"calls/{seg(call_id)}/recording"))
    out.print(f"recording call {call_id}")


@record_app.command("stop")
def record_stop(call_id: Annotated[str, typer.Argument(help="a call in progress")]) -> None:
    """Stop recording a call in progress."""
    daemon_api.require_daemon(settings(), lambda api: api.delete(f"calls/{seg(call_id)}/recording"))
    out.print(f"stopped recording call {call_id}")
