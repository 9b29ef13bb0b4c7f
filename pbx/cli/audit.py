"""`pbx audit`: the audit log, newest first (registered by pbx.cli)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from pbx.cli.backend import via_daemon_or_local
from pbx.cli.common import dicts, moment, out, settings

DETAIL_MAX = 80


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or "-"
    return "-" if value is None or value == "" else str(value)


def short_detail(detail: dict[str, Any]) -> str:
    """A row's detail in a few words: the error of a refusal, what changed (`role: staff→operator`), or
    the fields recorded."""
    if not detail:
        return ""
    if "error" in detail:
        text = str(detail["error"])
    elif isinstance(detail.get("before"), dict) and isinstance(detail.get("after"), dict):
        before, after = detail["before"], detail["after"]
        changed = [k for k in after if before.get(k) != after[k]]
        text = "; ".join(f"{k}: {_value(before.get(k))}→{_value(after[k])}" for k in changed)
    else:
        fields = detail.get("after") if isinstance(detail.get("after"), dict) else detail
        shown = {k: v for k, v in fields.items() if v not in (None, "", []) and not isinstance(v, dict)}
        text = " ".join(f"{k}={_value(v)}" for k, v in shown.items())
    return text if len(text) <= DETAIL_MAX else text[: DETAIL_MAX - 1] + "…"


def audit(
    user: Annotated[str | None, typer.Option(help="only this user's actions")] = None,
    last: Annotated[int, typer.Option("--last", min=1, max=1000, help="how many rows")] = 20,
) -> None:
    """The audit log, newest first: who acted, through what, on what, and what was refused."""
    s = settings()
    params: dict[str, Any] = {"last": last} | ({"user": user} if user else {})
    rows = via_daemon_or_local(
        s, lambda api: api.get("audit", params=params), lambda svc, who: svc.audit.recent(who, user, last)
    )
    table = Table("time (UTC)", "who", "surface", "action", "target", "ok", "detail")
    for r in dicts(rows):
        table.add_row(
            moment(r["at"]),
            r["actor"],
            r["source"],
            r["action"],
            r["target"],
            "yes" if r["ok"] else "no",
            short_detail(r["detail"]),
        )
    out.print(table)
