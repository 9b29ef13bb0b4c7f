"""`pbx`: the command line. The composition root for everything a person runs: one module a feature."""

from __future__ import annotations

import os
import sys

import typer

from core.config import ConfigError
from core.errors import DomainError
from pbx.cli import audit, calls, daemon, recordings, stats
from pbx.cli.asterisk import asterisk_app
from pbx.cli.caller_lists import blacklist_app, whitelist_app
from pbx.cli.extensions import ext_app
from pbx.cli.forwarding import dnd_app, forward_app
from pbx.cli.groups import group_app
from pbx.cli.ivr import ivr_app
from pbx.cli.missed import missed_app
from pbx.cli.queues import agent_app, queue_app
from pbx.cli.recordings import record_app
from pbx.cli.schedules import schedule_app
from pbx.cli.security import security_app
from pbx.cli.tokens import token_app
from pbx.cli.trunks import route_app, trunk_app
from pbx.cli.users import user_app
from pbx.cli.webhooks import outbox_app, webhook_app
from pbx.errors import Failure, click_errors, fail, refuse_blank_arguments, show_click_error

app = typer.Typer(
    help="A self-hosted virtual PBX run by ChatOps.", no_args_is_help=True, add_completion=False
)
# The order here is the order `pbx --help` lists them in.
app.command()(daemon.serve)
app.command()(daemon.up)
app.command()(daemon.down)
app.command("console")(daemon.console_cmd)
app.command()(daemon.seed)
app.command()(recordings.voicemail)
app.command()(calls.calls)
app.add_typer(missed_app, name="missed")
app.command()(stats.stats)
app.add_typer(asterisk_app, name="asterisk")
app.add_typer(ext_app, name="ext")
app.add_typer(forward_app, name="forward")
app.add_typer(dnd_app, name="dnd")
app.add_typer(trunk_app, name="trunk")
app.add_typer(route_app, name="route")
app.add_typer(blacklist_app, name="blacklist")
app.add_typer(group_app, name="group")
app.add_typer(record_app, name="record")
app.add_typer(schedule_app, name="schedule")
app.add_typer(whitelist_app, name="whitelist")
app.add_typer(ivr_app, name="ivr")
app.add_typer(queue_app, name="queue")
app.add_typer(agent_app, name="agent")
app.add_typer(security_app, name="security")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(webhook_app, name="webhook")
app.add_typer(outbox_app, name="outbox")
app.command()(audit.audit)


def _errors() -> tuple[type[BaseException], ...]:
    from asterisk.errors import AsteriskError
    from core.daemon import StartupError

    return (ConfigError, DomainError, Failure, AsteriskError, StartupError)


def main(argv: list[str] | None = None) -> None:
    """Entry point: every user-facing failure is one clear line, never a traceback."""
    # What the PBX writes (database, logs, recordings, Asterisk's files) is its owner's alone, and so
    # is what the processes it starts (the daemon, Asterisk) write.
    os.umask(0o077)
    command = refuse_blank_arguments(typer.main.get_command(app))
    try:
        rc = command.main(args=argv, prog_name="pbx", standalone_mode=False)
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except _errors() as exc:
        fail(str(exc))
    except typer.Abort:
        sys.exit(130)
    except click_errors() as exc:  # usage errors: the usage line, a hint, `error: ...`, exit 2
        show_click_error(exc)
    except OSError as exc:  # a file or folder the CLI cannot use (permissions, a full disk)
        fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
    except KeyboardInterrupt:
        sys.exit(130)
