"""`pbx queue …` and `pbx agent …`: call queues, their agents, and what is happening in them now."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any

import typer
from rich.table import Table

from core.config import Settings
from core.errors import NotFound
from pbx import daemon_api
from pbx.cli.backend import via_daemon_or_local
from pbx.cli.common import as_dict, dicts, out, seg, settings

queue_app = typer.Typer(
    help="Call queues: callers wait with music until an agent answers (reached as queue:NAME).",
    no_args_is_help=True,
)
agent_app = typer.Typer(
    help="Agents of call queues: add, remove, log in and out, pause and resume.", no_args_is_help=True
)

STRATEGIES = (
    "ring_all | longest_idle | round_robin | top_down | least_talk_time | fewest_calls | sequential | random"
)


@queue_app.command("add")
def queue_add(
    name: Annotated[str, typer.Argument(help="e.g. support (reached as queue:support)")],
    number: Annotated[
        str | None, typer.Option(help='an internal number that reaches the queue, e.g. 600 ("" = none)')
    ] = None,
    strategy: Annotated[str | None, typer.Option(help=f"which agents are rung: {STRATEGIES}")] = None,
    agent_timeout: Annotated[int | None, typer.Option(help="seconds an agent rings")] = None,
    max_wait: Annotated[int | None, typer.Option(help="seconds a caller waits before the overflow")] = None,
    overflow: Annotated[
        str | None,
        typer.Option(help="where callers go after --max-wait or with nobody logged in, e.g. voicemail:101"),
    ] = None,
    wrapup: Annotated[int | None, typer.Option(help="seconds an agent rests after a queue call")] = None,
    announce_every: Annotated[
        int | None, typer.Option(help="seconds between position announcements (0 = never)")
    ] = None,
    music: Annotated[str | None, typer.Option(help="music on hold class, e.g. default")] = None,
) -> None:
    """Create a queue or change it: only the options given change (agents are kept)."""
    s = settings()
    body = {
        "number": number,
        "strategy": strategy,
        "agent_timeout": agent_timeout,
        "max_wait": max_wait,
        "overflow": overflow,
        "wrapup": wrapup,
        "announce_every": announce_every,
        "music": music,
    }
    queue = as_dict(
        via_daemon_or_local(
            s,
            lambda api: api.put(f"queues/{seg(name)}", json=body),
            lambda svc, who: svc.queues.save(who, name, **body),
        )
    )
    reached = f", internal number {queue['number']}" if queue["number"] else ""
    out.print(f"queue {queue['name']}: {queue['strategy']}{reached}", highlight=False)


def _agents_text(agents: list[dict[str, Any]]) -> str:
    marks = [
        a["number"] + ("" if a["logged_in"] else " (out)") + (" (paused)" if a["paused"] else "")
        for a in agents
    ]
    return ", ".join(marks)


@queue_app.command("list")
def queue_list() -> None:
    """Queues, their settings and agents."""
    s = settings()
    rows = via_daemon_or_local(s, lambda api: api.get("queues"), lambda svc, who: svc.queues.queues(who))
    table = Table(
        "queue", "number", "strategy", "agents", "agent timeout", "max wait", "overflow", "wrap-up", "music"
    )
    for r in dicts(rows):
        table.add_row(
            r["name"],
            r["number"] or "",
            r["strategy"],
            _agents_text(r["agents"]),
            f"{r['agent_timeout']} s",
            f"{r['max_wait']} s",
            r["overflow"],
            f"{r['wrapup']} s",
            r["music"],
        )
    out.print(table)


async def _local_queue(svc: Any, who: Any, name: str) -> Any:
    wanted = name.strip().lower()
    for queue in await svc.queues.queues(who):
        if queue.name == wanted:
            return queue
    raise NotFound(f"queue {wanted} does not exist")


def _live_queue(s: Settings, name: str) -> dict[str, Any] | None:
    """The queue's live state from the running daemon (None: no daemon runs)."""
    try:
        live = daemon_api.request(s, lambda api: api.get("queues/live"))
    except daemon_api.DaemonNotRunning:
        return None
    empty = {"queue": name, "agents": [], "waiting": []}
    return next((q for q in live if q["queue"] == name), empty)


@queue_app.command("show")
def queue_show(name: Annotated[str, typer.Argument(help="the queue")]) -> None:
    """A queue's settings and agents; with the daemon running, also what each agent is doing now and who
    is waiting."""
    s = settings()
    q = as_dict(
        via_daemon_or_local(
            s, lambda api: api.get(f"queues/{seg(name)}"), lambda svc, who: _local_queue(svc, who, name)
        )
    )
    live = _live_queue(s, q["name"])
    settings_table = Table(show_header=False, box=None)
    for key, value in (
        ("queue", q["name"]),
        ("number", q["number"] or ""),
        ("strategy", q["strategy"]),
        ("agent timeout", f"{q['agent_timeout']} s"),
        ("max wait", f"{q['max_wait']} s"),
        ("overflow", q["overflow"]),
        ("wrap-up", f"{q['wrapup']} s"),
        ("announce every", f"{q['announce_every']} s" if q["announce_every"] else "never"),
        ("music", q["music"]),
        ("recording", q["recording"]),
    ):
        settings_table.add_row(key, value)
    out.print(settings_table)
    states = {a["number"]: a for a in live["agents"]} if live else {}
    agents = Table("agent", "kind", "rings", "wrap-up", "rests after busy / no answer / reject", "logged in")
    agents.add_column("paused")
    if live is not None:
        for column in ("now", "calls", "talk time"):
            agents.add_column(column)
    for a in q["agents"]:
        row = [
            a["number"],
            "remote" if a["remote"] else "local",
            f"{a['timeout'] if a['timeout'] is not None else q['agent_timeout']} s",
            f"{a['wrapup'] if a['wrapup'] is not None else q['wrapup']} s",
            f"{a['delay_busy']} / {a['delay_no_answer']} / {a['delay_reject']} s",
            "yes" if a["logged_in"] else "no",
            "yes" if a["paused"] else "",
        ]
        if live is not None:
            now = states.get(a["number"], {})
            row += [now.get("state", "?"), str(now.get("calls", "")), f"{now.get('talk_seconds', 0):.0f} s"]
        agents.add_row(*row)
    out.print(agents)
    if live is None:
        out.print("(the daemon is not running: no live state)")
        return
    waiting = Table("position", "caller", "waited", "state", "call id", title="waiting callers")
    for w in live["waiting"]:
        waiting.add_row(
            str(w["position"]), w["caller"], f"{w['waited_seconds']:.0f} s", w["state"], w["call_id"]
        )
    out.print(waiting if live["waiting"] else "nobody waiting")


@queue_app.command("rm")
def queue_rm(name: Annotated[str, typer.Argument(help="the queue")]) -> None:
    """Delete a queue and its agents."""
    s = settings()
    via_daemon_or_local(
        s, lambda api: api.delete(f"queues/{seg(name)}"), lambda svc, who: svc.queues.remove(who, name)
    )
    out.print(f"queue {name} removed")


QueueArg = Annotated[str, typer.Argument(help="the queue")]
AgentArg = Annotated[
    str, typer.Argument(help="an internal number, or an outside number (+1…, or national) for a remote agent")
]


@agent_app.command("add")
def agent_add(
    queue: QueueArg,
    number: AgentArg,
    timeout: Annotated[
        int | None, typer.Option(help="seconds this agent rings (default: the queue's)")
    ] = None,
    wrapup: Annotated[
        int | None, typer.Option(help="seconds this agent rests after a call (default: the queue's)")
    ] = None,
    delay_busy: Annotated[
        int | None, typer.Option(help="seconds before offering again after busy (10)")
    ] = None,
    delay_no_answer: Annotated[
        int | None, typer.Option(help="seconds before offering again after no answer (10)")
    ] = None,
    delay_reject: Annotated[
        int | None, typer.Option(help="seconds before offering again after a rejected call (30)")
    ] = None,
) -> None:
    """Add an agent (logged in) at the end of a queue's list; an outside number is called through the
    trunk."""
    s = settings()
    given = {
        "timeout": timeout,
        "wrapup": wrapup,
        "delay_busy": delay_busy,
        "delay_no_answer": delay_no_answer,
        "delay_reject": delay_reject,
    }
    body = {k: v for k, v in given.items() if v is not None}
    agent = as_dict(
        via_daemon_or_local(
            s,
            lambda api: api.post(f"queues/{seg(queue)}/agents/{seg(number)}", json=body),
            lambda svc, who: svc.queues.add_agent(who, queue, number, **body),
        )
    )
    kind = "remote agent" if agent["remote"] else "agent"
    out.print(f"queue {queue}: {kind} {agent['number']} added, logged in", highlight=False)


@agent_app.command("rm")
def agent_rm(queue: QueueArg, number: AgentArg) -> None:
    """Take an agent out of a queue."""
    s = settings()
    via_daemon_or_local(
        s,
        lambda api: api.delete(f"queues/{seg(queue)}/agents/{seg(number)}"),
        lambda svc, who: svc.queues.remove_agent(who, queue, number),
    )
    out.print(f"queue {queue}: agent {number} removed", highlight=False)


def _agent_action(queue: str, number: str, action: str) -> None:
    """login | logout | pause | resume, through the daemon when it runs."""
    s = settings()

    def local(svc: Any, who: Any) -> Awaitable[Any]:
        if action in ("login", "logout"):
            return svc.queues.login(who, queue, number, action == "login")
        return svc.queues.pause(who, queue, number, action == "pause")

    agent = as_dict(
        via_daemon_or_local(
            s, lambda api: api.post(f"queues/{seg(queue)}/agents/{seg(number)}/{action}"), local
        )
    )
    state = ("logged in" if agent["logged_in"] else "logged out") + (", paused" if agent["paused"] else "")
    out.print(f"queue {queue}: agent {agent['number']} {state}", highlight=False)


@agent_app.command("login")
def agent_login(queue: QueueArg, number: AgentArg) -> None:
    """Log an agent in: the queue offers it calls again."""
    _agent_action(queue, number, "login")


@agent_app.command("logout")
def agent_logout(queue: QueueArg, number: AgentArg) -> None:
    """Log an agent out: the queue offers it no calls."""
    _agent_action(queue, number, "logout")


@agent_app.command("pause")
def agent_pause(queue: QueueArg, number: AgentArg) -> None:
    """Pause an agent: still logged in, but offered no calls until resumed."""
    _agent_action(queue, number, "pause")


@agent_app.command("resume")
def agent_resume(queue: QueueArg, number: AgentArg) -> None:
    """Resume a paused agent."""
    _agent_action(queue, number, "resume")
