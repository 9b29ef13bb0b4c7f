"""`pbx webhook …`: integrators' webhook subscriptions (the secret printed once), tests and delivery logs;
`pbx outbox …`: outgoing notifications waiting, delivered or dead-lettered, and sending dead ones again."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from pbx.cli.backend import via_daemon_or_local
from pbx.cli.common import as_dict, dicts, moment, out, seg, settings
from pbx.errors import Failure

webhook_app = typer.Typer(
    help="Webhooks to integrators: signed POSTs of call and queue events.", no_args_is_help=True
)
outbox_app = typer.Typer(
    help="Outgoing notifications: waiting, delivered, dead-lettered.", no_args_is_help=True
)


def _scope(row: dict[str, Any]) -> str:
    for key, label in (("number", "ext"), ("group", "group"), ("queue", "queue")):
        if row.get(key):
            return f"{label}:{row[key]}"
    return "org"


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """A subscription with its secret as the API answers it; the local service gives the two apart."""
    return as_dict(row["webhook"]) | {"secret": row["secret"]} if "webhook" in row else row


def _print_secret(row: dict[str, Any], what: str) -> None:
    out.print(f"webhook {row['id']} {what}; its secret is shown this once, keep it now:", markup=False)
    print(row["secret"], flush=True)  # alone and plain on the last line: `| tail -1`


@webhook_app.command("add")
def webhook_add(
    url: Annotated[str, typer.Argument(help="the receiver, e.g. https://crm.example.com/pbx-events")],
    events: Annotated[str, typer.Option(help="event types, comma-separated (e.g. hangup,missed), or all")],
    number: Annotated[str | None, typer.Option(help="only events of this internal number")] = None,
    group: Annotated[str | None, typer.Option(help="only events of this group's numbers")] = None,
    queue: Annotated[str | None, typer.Option(help="only events of this queue")] = None,
    format: Annotated[str, typer.Option(help="json (the default) or form")] = "json",
    secret: Annotated[
        str | None, typer.Option(help="whsec_<base64> to sign with (default: one generated and printed)")
    ] = None,
) -> None:
    """Subscribe a URL to events; without --secret a generated one is printed alone on the last line."""
    s = settings()
    body = {"url": url, "events": events, "number": number, "group": group, "queue": queue, "format": format}
    if secret is not None:
        body["secret"] = secret
    row = as_dict(
        via_daemon_or_local(
            s,
            lambda api: api.post("webhooks", json=body),
            lambda svc, who: svc.webhooks.add(who, url, events, number, group, queue, format, secret),
        )
    )
    row = _flat(row)
    if secret is None:
        _print_secret(row, f"added for {', '.join(row['events'])} ({_scope(row)})")
    else:
        out.print(f"webhook {row['id']} added for {', '.join(row['events'])} ({_scope(row)})", markup=False)


@webhook_app.command("list")
def webhook_list() -> None:
    """The subscriptions: what each sends where, its state, and what waits for it (never a secret)."""
    s = settings()
    rows = via_daemon_or_local(
        s, lambda api: api.get("webhooks"), lambda svc, who: svc.webhooks.webhooks(who)
    )
    table = Table("id", "url", "events", "scope", "format", "state", "pending", "dead")
    for r in dicts(rows):
        state = "active" if r["active"] else f"ended: {r['ended_reason']}"
        if r["active"] and r["rotating_until"]:
            state = f"active (old secret until {moment(r['rotating_until'])})"
        table.add_row(
            str(r["id"]), r["url"], ",".join(r["events"]), _scope(r), r["format"], state,
            str(r["pending"]), str(r["dead"]),
        )  # fmt: skip
    out.print(table)


@webhook_app.command("rm")
def webhook_rm(
    webhook: Annotated[str, typer.Argument(help="the subscription's id (see pbx webhook list)")],
) -> None:
    """Remove a subscription (what waits for it in the outbox is dropped)."""
    s = settings()
    via_daemon_or_local(
        s,
        lambda api: api.delete(f"webhooks/{seg(webhook)}"),
        lambda svc, who: svc.webhooks.remove(who, webhook),
    )
    out.print(f"webhook {webhook.strip()} removed", markup=False)


@webhook_app.command("test")
def webhook_test(webhook: Annotated[str, typer.Argument(help="the subscription's id")]) -> None:
    """Send a test event (type `test`) to this subscription, through the outbox; see pbx webhook log ID."""
    s = settings()
    answer = via_daemon_or_local(
        s,
        lambda api: api.post(f"webhooks/{seg(webhook)}/test"),
        lambda svc, who: svc.webhooks.test(who, webhook),
    )
    event_id = answer["event_id"] if isinstance(answer, dict) else answer
    out.print(
        f"test event {event_id} queued for webhook {webhook.strip()} (see pbx webhook log {webhook.strip()})"
    )


@webhook_app.command("rotate")
def webhook_rotate(
    webhook: Annotated[str, typer.Argument(help="the subscription's id")],
    secret: Annotated[str | None, typer.Option(help="the new secret (default: one generated)")] = None,
) -> None:
    """A new secret; for 24 hours deliveries are signed with the old one too, so the receiver can switch."""
    s = settings()
    body = {"secret": secret} if secret is not None else {}
    row = as_dict(
        via_daemon_or_local(
            s,
            lambda api: api.post(f"webhooks/{seg(webhook)}/rotate", json=body),
            lambda svc, who: svc.webhooks.rotate(who, webhook, secret),
        )
    )
    row = _flat(row)
    if secret is None:
        _print_secret(row, "has a new secret (the old one signs too for 24 hours)")
    else:
        out.print(f"webhook {row['id']} has a new secret (the old one signs too for 24 hours)", markup=False)


@webhook_app.command("log")
def webhook_log(
    webhook: Annotated[str, typer.Argument(help="the subscription's id")],
    limit: Annotated[int, typer.Option(min=1, max=1000, help="how many attempts")] = 50,
) -> None:
    """The latest delivery attempts to this subscription, newest first."""
    s = settings()
    rows = via_daemon_or_local(
        s,
        lambda api: api.get(f"webhooks/{seg(webhook)}/log", params={"limit": limit}),
        lambda svc, who: svc.webhooks.log(who, webhook, limit),
    )
    table = Table("at (UTC)", "item", "event id", "event", "answer", "ms", "item state")
    for r in dicts(rows):
        answer = str(r["status_code"]) if r["status_code"] else r["error"]
        table.add_row(
            moment(r["at"]), str(r["item"]), r["event_id"], r["event"], answer, str(r["ms"]), r["item_status"]
        )
    out.print(table)


@outbox_app.command("list")
def outbox_list(
    dead: Annotated[bool, typer.Option("--dead", help="only dead-lettered items")] = False,
    pending: Annotated[bool, typer.Option("--pending", help="only items waiting to go")] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="how many, newest first")] = 100,
) -> None:
    """Outgoing notifications, newest first: where each goes, its state, attempts and last error."""
    if dead and pending:
        raise Failure("give --dead or --pending, not both")
    status = "dead" if dead else "pending" if pending else None
    s = settings()
    params: dict[str, Any] = {"limit": limit} | ({"status": status} if status else {})
    rows = via_daemon_or_local(
        s, lambda api: api.get("outbox", params=params), lambda svc, who: svc.outbox.items(who, status, limit)
    )
    table = Table(
        "id", "to", "event id", "event", "call", "state", "attempts", "next / done (UTC)", "last error"
    )
    for r in dicts(rows):
        when = r["next_attempt_at"] if r["status"] == "pending" else r["finished_at"]
        table.add_row(
            str(r["id"]), f"{r['channel']}:{r['destination']}", r["event_id"], r["event"], r["call_id"] or "",
            r["status"], str(r["attempts"]), moment(when), r["last_error"],
        )  # fmt: skip
    out.print(table)


@outbox_app.command("retry")
def outbox_retry(
    item: Annotated[str | None, typer.Argument(help="a dead item's id (see pbx outbox list --dead)")] = None,
    every: Annotated[bool, typer.Option("--all", help="every dead item")] = False,
) -> None:
    """Send a dead-lettered item (or --all of them) again."""
    if (item is None) == (not every):
        raise Failure("give a dead item's ID or --all (see pbx outbox list --dead)")
    if item is not None and not item.strip().isdigit():
        raise Failure(f"outbox item {item.strip()!r} must be a number (see pbx outbox list --dead)")
    s = settings()
    body: dict[str, Any] = {"id": int(item)} if item is not None else {"all": True}
    answer = via_daemon_or_local(
        s, lambda api: api.post("outbox/retry", json=body), lambda svc, who: svc.outbox.retry(who, item)
    )
    count = answer["retried"] if isinstance(answer, dict) else answer
    out.print(f"{count} dead item{'s' if count != 1 else ''} sent again")
