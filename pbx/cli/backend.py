"""Where a command's work is done: through the running daemon's API, or, when no daemon runs, on the
database directly through the services (as the local administrator, refusals audited)."""

from __future__ import annotations

import contextlib
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import typer

from core.config import Settings
from core.errors import DomainError
from pbx import daemon_api
from pbx.cli.common import T, run

Local = Callable[[Any, Any], Awaitable[T]]  # (services, actor) -> the answer


def via_daemon_or_local(s: Settings, remote: daemon_api.Remote, local: Local[T]) -> T | Any:
    """Use the running daemon's API (which provisions Asterisk at once); without one, change the database."""
    try:
        return daemon_api.request(s, remote)
    except daemon_api.DaemonNotRunning:
        pass
    return in_database(s, local)


def in_database(s: Settings, local: Local[T]) -> T:
    """`local(services, actor)` on the database itself, whether or not a daemon runs."""
    from core.events import EventBus
    from core.notify import Outbox
    from core.notify.webhooks.channel import WebhookChannel
    from core.services import Services

    async def go() -> T:
        async with _db(s):
            # Notifications of what is done here are written to the outbox; the daemon delivers them.
            bus, webhooks = EventBus(), WebhookChannel(s.webhooks, s.api.base_url)
            await webhooks.load()
            bus.outbox = Outbox(s.outbox)
            bus.outbox.add_channel(webhooks)
            services, who = Services.build(s, bus), _local_actor()
            async with _refusals_audited(services.auth, who):
                return await local(services, who)

    return run(go)


def _actor_name() -> str:
    with contextlib.suppress(Exception):
        return getpass.getuser()
    return "cli"


@contextlib.asynccontextmanager
async def _db(s: Settings):  # type: ignore[no-untyped-def]
    from core.db import database

    async with database(s):
        yield


def _local_actor() -> Any:
    from core.services.auth import Actor

    # Whoever can run the CLI can read the database file: they are the local administrator.
    return Actor(_actor_name(), "admin", "cli", "local")


def _command_line() -> tuple[str, str]:
    """The command being run (`pbx ext rm`) and its arguments (`555`; secrets are options, never arguments),
    for the audit log."""
    from pbx.cli import app  # the root of the commands, which imports this module

    command: Any = typer.main.get_command(app)
    names, args = ["pbx"], sys.argv[1:]
    while args and args[0] in (getattr(command, "commands", None) or {}):
        names.append(args[0])
        command = command.commands[args.pop(0)]
    arguments: list[str] = []
    with contextlib.suppress(Exception):
        given = command.make_context(names[-1], args, resilient_parsing=True).params
        kinds = {param.name: param.param_type_name for param in command.params}
        arguments = [str(v) for k, v in given.items() if kinds.get(k) == "argument" and v is not None]
    return " ".join(names), " ".join(arguments)


@contextlib.asynccontextmanager
async def _refusals_audited(auth: Any, who: Any):  # type: ignore[no-untyped-def]
    """Without a daemon the CLI audits its own refusals (with one, the API does): the command, its
    arguments as the target, and the error shown."""
    try:
        yield
    except DomainError as exc:
        await auth.refused(who, *_command_line(), exc)
        raise
