"""`pbx`: the command line. The composition root for everything a person runs."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

import typer
from rich.console import Console
from rich.table import Table

from core.config import ConfigError, Settings, ensure_secrets, load_settings
from core.errors import DomainError, NotFound
from pbx import daemon_api
from pbx.accounts import forget_account, pause_before_console, print_accounts, save_accounts
from pbx.errors import Failure, click_errors, fail, refuse_blank_arguments, show_click_error
from pbx.logs import configure_logging, private_log_file
from pbx.seed import seed_sample

T = TypeVar("T")
out = Console(width=None if sys.stdout.isatty() else 200)  # piped: do not squeeze tables to 80

app = typer.Typer(
    help="A self-hosted virtual PBX run by ChatOps.", no_args_is_help=True, add_completion=False
)
asterisk_app = typer.Typer(help="Install and run the local Asterisk.", no_args_is_help=True)
ext_app = typer.Typer(help="Internal numbers (SIP extensions).", no_args_is_help=True)
forward_app = typer.Typer(
    help="Forwarding of internal numbers: always, busy, no_answer (after N seconds), unavailable.",
    no_args_is_help=True,
)
trunk_app = typer.Typer(
    help="SIP trunks to carriers (known by address; optionally with credentials and a registration).",
    no_args_is_help=True,
)
route_app = typer.Typer(help="Inbound routes: where calls to a public number (DID) go.", no_args_is_help=True)
blacklist_app = typer.Typer(
    help="Callers whose calls are not processed (they hear busy); also the anonymous-caller policy.",
    no_args_is_help=True,
)
whitelist_app = typer.Typer(
    help="Callers with a rule of their own, or let through where only listed callers may call.",
    no_args_is_help=True,
)
group_app = typer.Typer(
    help="Internal number groups: members ring all at once or one by one; a fallback when nobody answers.",
    no_args_is_help=True,
)
record_app = typer.Typer(
    help="Call recording: policies, recordings, on-demand recording.", no_args_is_help=True
)
schedule_app = typer.Typer(
    help="Schedules (business hours): open and closed destinations, hours, holidays, override.",
    no_args_is_help=True,
)
dnd_app = typer.Typer(help="Do-not-disturb: callers get busy (or the busy forwarding).", no_args_is_help=True)
ivr_app = typer.Typer(
    help="IVR menus: a prompt, then callers choose by key (reached as ivr:NAME or by an internal number).",
    no_args_is_help=True,
)
queue_app = typer.Typer(
    help="Call queues: callers wait with music until an agent answers (reached as queue:NAME).",
    no_args_is_help=True,
)
agent_app = typer.Typer(
    help="Agents of call queues: add, remove, log in and out, pause and resume.", no_args_is_help=True
)
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


def _errors() -> tuple[type[BaseException], ...]:
    from asterisk.errors import AsteriskError
    from core.daemon import StartupError

    return (ConfigError, DomainError, Failure, AsteriskError, StartupError)


def settings() -> Settings:
    """Settings with secrets generated on first use."""
    return ensure_secrets(load_settings())


def run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(coro_fn())  # type: ignore[arg-type]


def _actor_name() -> str:
    with contextlib.suppress(Exception):
        return getpass.getuser()
    return "cli"


# -- the local Asterisk ------------------------------------------------------------------------
def _instance(s: Settings, *, install_missing: bool = False) -> Any:
    """The local Asterisk instance; installs Asterisk first only where asked to (start, up)."""
    from asterisk.installer import find_system_asterisk, install, load
    from pbx.instance import asterisk_instance

    dist_dir = s.asterisk.dist_dir or s.data_dir / "asterisk" / "dist"
    dist = load(dist_dir) or find_system_asterisk()
    if dist is None:
        if not install_missing:
            raise Failure("Asterisk is not installed yet: run `pbx asterisk install` (or `make up`)")
        dist = install(dist_dir)
    return asterisk_instance(dist, s.data_dir / "asterisk" / "instance", s)


def _require_managed(s: Settings) -> None:
    if s.asterisk.mode != "managed":
        raise Failure(
            "asterisk.mode is 'external': this PBX uses your own Asterisk at "
            f"{s.asterisk.base_url}; manage it with your own tools"
        )


@asterisk_app.command("install")
def asterisk_install(
    force: Annotated[bool, typer.Option(help="unpack again from the cached packages")] = False,
) -> None:
    """Install Asterisk (a system one >= 20 if present, else Debian sid's, unpacked under the data dir)."""
    from asterisk.installer import install

    s = settings()
    dist = install(s.asterisk.dist_dir or s.data_dir / "asterisk" / "dist", force=force)
    out.print(f"[green]Asterisk {dist.version}[/] ready ({dist.kind})")


@asterisk_app.command("start")
def asterisk_start() -> None:
    """Start the local Asterisk; returns once it is fully booted and ARI answers."""
    s = settings()
    _require_managed(s)
    inst = _instance(s, install_missing=True)
    inst.start()
    out.print(f"Asterisk running: SIP udp {s.asterisk.bind}:{s.asterisk.sip_port}, ARI {inst.ari_url}")


@asterisk_app.command("stop")
def asterisk_stop() -> None:
    """Stop the local Asterisk."""
    s = settings()
    _require_managed(s)
    _instance(s).stop()
    out.print("Asterisk stopped")


@asterisk_app.command("status")
def asterisk_status() -> None:
    """Version, uptime, ports, and whether ARI answers."""
    s = settings()
    _require_managed(s)
    st = _instance(s).status()
    table = Table(show_header=False, box=None)
    for key in ("running", "pid", "version", "uptime", "sip_port", "http_port", "ari_ok"):
        table.add_row(key, str(st.get(key)))
    out.print(table)
    if not st.get("running"):
        raise typer.Exit(3)


@asterisk_app.command("cli")
def asterisk_cli(command: Annotated[str, typer.Argument(help='e.g. "pjsip show endpoints"')]) -> None:
    """Run one Asterisk CLI command."""
    s = settings()
    _require_managed(s)
    out.print(_instance(s).cli(command), end="", markup=False, highlight=False)


# -- the daemon --------------------------------------------------------------------------------
def _pidfile(s: Settings) -> Path:
    return s.data_dir / "pbx.pid"


@app.command()
def serve(logfile: Annotated[Path | None, typer.Option(help="log here instead of stderr")] = None) -> None:
    """Run the PBX daemon in the foreground (Ctrl-C stops it)."""
    from core.daemon import serve as serve_daemon

    s = settings()
    configure_logging(s, logfile)
    s.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _pidfile(s).write_text(str(os.getpid()))

    async def main() -> None:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)  # type: ignore[union-attr]
        with contextlib.suppress(asyncio.CancelledError):
            await serve_daemon(s)

    try:
        run(main)
    finally:
        with contextlib.suppress(FileNotFoundError):
            _pidfile(s).unlink()


def _log_tail(path: Path, lines: int = 3) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_for_daemon(
    s: Settings, proc: subprocess.Popen[bytes] | None, timeout: float = 30
) -> dict[str, Any]:
    """Until the daemon answers and is connected to Asterisk; a clear error naming the cause otherwise."""
    log = s.data_dir / "log" / "pbx.log"
    deadline = time.monotonic() + timeout
    health: dict[str, Any] = {}
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise Failure(f"the daemon exited at start: {_log_tail(log)}")
        health = daemon_api.health(s) or {}
        if health.get("ari_connected"):
            return health
        time.sleep(0.3)
    if health:
        raise Failure(f"the daemon runs but cannot use Asterisk: {health.get('ari_error')}")
    raise Failure(f"the daemon did not answer within {timeout:.0f} s; see {log}")


def _start_daemon_background(s: Settings) -> subprocess.Popen[bytes] | None:
    """Start `pbx serve` detached (unless one already answers); its log goes to <data dir>/log/pbx.log."""
    if daemon_api.health(s) is not None:
        return None
    log = private_log_file(s.data_dir / "log" / "pbx.log")
    with open(log, "a") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "pbx.cli", "serve", "--logfile", str(log)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )


def _stop_daemon(s: Settings) -> bool:
    pidfile = _pidfile(s)
    try:
        pid = int(pidfile.read_text())
        os.kill(pid, signal.SIGTERM)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return False
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    return True


@app.command()
def up(
    console: Annotated[bool, typer.Option(help="open the console once everything runs")] = True,
) -> None:
    """Set everything up and run the PBX: Asterisk, database, sample organisation, daemon, console."""
    s = settings()
    if s.asterisk.mode == "managed":
        inst = _instance(s, install_missing=True)
        inst.start()
        out.print(
            f"[green]✓[/] Asterisk on {s.asterisk.bind} (SIP udp/{s.asterisk.sip_port}, ARI {inst.ari_url})"
        )
    seeded = run(lambda: seed_sample(s))
    if seeded:  # now, before anything else can fail; kept in a file the console cannot cover
        print_accounts(out, s, seeded, save_accounts(s, seeded, create=True))
    health = _wait_for_daemon(s, _start_daemon_background(s))
    api_url = f"http://{s.api.host}:{s.api.port}"
    out.print(f"[green]✓[/] daemon up, API on {api_url} (ARI connected: {health['ari_connected']})")
    if console and (not seeded or pause_before_console(out)):
        _run_console(s)
    out.print("The PBX keeps running; `pbx down` stops it.")


@app.command()
def down() -> None:
    """Stop the daemon and the local Asterisk."""
    s = settings()
    out.print("daemon stopped" if _stop_daemon(s) else "daemon was not running")
    if s.asterisk.mode == "managed":
        try:
            inst = _instance(s)
        except Failure:
            return  # never installed: nothing runs
        inst.stop()
        out.print("Asterisk stopped")


def _run_console(s: Settings) -> None:
    from console.app import run_console

    run_console(f"http://{s.api.host}:{s.api.port}", s.api.token)


@app.command("console")
def console_cmd() -> None:
    """Open the operator console (the daemon must be running)."""
    s = settings()
    _run_console(s)


# -- data: seed, internal numbers, calls -------------------------------------------------------
@contextlib.asynccontextmanager
async def _db(s: Settings):  # type: ignore[no-untyped-def]
    from core.db import database

    async with database(s):
        yield


@app.command()
def seed() -> None:
    """Create the sample organisation (internal numbers 101–105) if the PBX has no numbers yet."""
    s = settings()
    rows = run(lambda: seed_sample(s))
    if rows:
        print_accounts(out, s, rows, save_accounts(s, rows, create=True))
    else:
        out.print("already seeded: nothing to do")


def _local_actor() -> Any:
    from core.services.auth import Actor

    # Whoever can run the CLI can read the database file: they are the local administrator.
    return Actor(_actor_name(), "admin", "cli", "local")


def _command_line() -> tuple[str, str]:
    """The command being run (`pbx ext rm`) and its arguments (`555`; secrets are options, never arguments),
    for the audit log."""
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


def _dicts(rows: Any) -> list[dict[str, Any]]:
    """Rows as the API returns them (dicts), whether they came from the API or from a local service."""
    return [row if isinstance(row, dict) else asdict(row) for row in rows]


def _dict(row: Any) -> dict[str, Any]:
    """One row as the API returns it."""
    return row if isinstance(row, dict) else asdict(row)


def _seg(text: str) -> str:
    """A path segment for the API: IVR keys * and # and the + of remote agents survive the URL."""
    return quote(text, safe="")


def _via_daemon_or_local(
    s: Settings,
    remote: daemon_api.Remote,
    local: Callable[[Any, Any], Awaitable[T]],
) -> T | Any:
    """Use the running daemon's API (which provisions Asterisk at once); without one, change the database."""
    try:
        return daemon_api.request(s, remote)
    except daemon_api.DaemonNotRunning:
        pass
    from core.events import EventBus
    from core.services import Services

    async def go() -> T:
        async with _db(s):
            services, who = Services.build(s, EventBus()), _local_actor()
            async with _refusals_audited(services.auth, who):
                return await local(services, who)

    return run(go)


@ext_app.command("add")
def ext_add(
    number: Annotated[str, typer.Argument(help="2–4 digits")],
    name: Annotated[str, typer.Option(help="display name")] = "",
    password: Annotated[str | None, typer.Option(help="SIP password (generated when omitted)")] = None,
) -> None:
    """Add an internal number; its SIP password is printed once."""
    s = settings()
    body = {"number": number, "name": name, "password": password}
    result = _via_daemon_or_local(
        s,
        lambda api: api.post("extensions", json=body),
        lambda svc, who: svc.extensions.add(who, number, name, password),
    )
    row = _dict(result)
    print_accounts(out, s, [row], save_accounts(s, [row], create=False))


@ext_app.command("list")
def ext_list() -> None:
    """List internal numbers (with registration state when the daemon runs)."""
    s = settings()
    rows = _via_daemon_or_local(
        s, lambda api: api.get("extensions"), lambda svc, who: svc.extensions.list(who)
    )
    table = Table("number", "name", "enabled", "do not disturb", "registered")
    for r in _dicts(rows):
        reg = r.get("registered")
        table.add_row(
            r["number"],
            r["name"],
            "yes" if r["enabled"] else "no",
            "on" if r.get("dnd") else "",
            "?" if reg is None else ("yes" if reg else "no"),
        )
    out.print(table)


@ext_app.command("rm")
def ext_rm(number: Annotated[str, typer.Argument(help="the internal number to delete")]) -> None:
    """Delete an internal number."""
    s = settings()
    _via_daemon_or_local(
        s,
        lambda api: api.delete(f"extensions/{_seg(number)}"),
        lambda svc, who: svc.extensions.remove(who, number),
    )
    forget_account(s, number)
    out.print(f"internal number {number} removed")


@ext_app.command("set")
def ext_set(
    number: Annotated[str, typer.Argument(help="the internal number")],
    name: Annotated[str | None, typer.Option(help="display name")] = None,
    enabled: Annotated[bool | None, typer.Option("--enabled/--disabled", help="enable or disable")] = None,
    outbound: Annotated[
        str | None, typer.Option(help="outside calls allowed: internal | local | national | international")
    ] = None,
    caller_id: Annotated[
        str | None,
        typer.Option(help='public number shown on outside calls, +1… or national ("" = the trunk\'s)'),
    ] = None,
    password: Annotated[
        str | None, typer.Option(help="a new SIP password you choose (at least 8 characters, not weak)")
    ] = None,
    new_password: Annotated[
        bool, typer.Option("--new-password", help="a new generated SIP password, printed once")
    ] = False,
) -> None:
    """Change an internal number (its SIP password too)."""
    if password is not None and new_password:
        raise Failure("give either --password P or --new-password, not both")
    if new_password:
        from core.services.passwords import generate_password

        password = generate_password(number.strip())
    s = settings()
    changes = {
        "name": name,
        "enabled": enabled,
        "outbound": outbound,
        "external_caller_id": caller_id,
        "password": password,
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        raise Failure(
            "nothing to change: give --name, --enabled/--disabled, --outbound, --caller-id, --password "
            "or --new-password"
        )
    row = _dict(
        _via_daemon_or_local(
            s,
            lambda api: api.patch(f"extensions/{_seg(number)}", json=changes),
            lambda svc, who: svc.extensions.update(who, number, **changes),
        )
    )
    if password is None:
        out.print(f"internal number {row['number']} updated")
        return
    row["sip_password"] = password  # phones need it now: shown this once (and kept in the file, if any)
    print_accounts(out, s, [row], save_accounts(s, [row], create=False))
    out.print(f"internal number {row['number']} updated; its phone must register with the new password")


@trunk_app.command("add")
def trunk_add(
    name: Annotated[str, typer.Argument(help="e.g. carrier")],
    host: Annotated[str, typer.Option(help="the carrier's address; calls from it are outside calls")],
    caller_id: Annotated[str, typer.Option(help="shown on outgoing calls, e.g. +15550001000 (or national)")],
    port: Annotated[int, typer.Option(help="the carrier's SIP port")] = 5060,
    username: Annotated[
        str | None, typer.Option(help="your username at the carrier, to answer its digest challenges")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(help="your password at the carrier; asked for (hidden) or read from stdin if omitted"),
    ] = None,
    register: Annotated[
        bool, typer.Option("--register/--no-register", help="keep a SIP registration at the carrier")
    ] = False,
) -> None:
    """Add a trunk: known by the carrier's address, optionally with credentials and a registration."""
    s = settings()
    if username and password is None:
        password = _read_secret(f"password of {username} at the carrier")
    body = {
        "name": name,
        "host": host,
        "port": port,
        "caller_id": caller_id,
        "username": username,
        "password": password,
        "registers": register,
    }
    result = _via_daemon_or_local(
        s,
        lambda api: api.post("trunks", json=body),
        lambda svc, who: svc.trunks.add(who, name, host, port, caller_id, username, password, register),
    )
    row = result if isinstance(result, dict) else asdict(result)
    how = ""
    if row.get("username"):
        how = f", {'registers' if row.get('registers') else 'authenticates'} as {row['username']}"
    out.print(f"trunk {row['name']} added ({row['host']}:{row['port']}{how})")


def _read_secret(prompt: str) -> str:
    """A secret typed at a hidden prompt, or the first line of stdin when it is not a terminal."""
    if sys.stdin.isatty():
        return str(typer.prompt(prompt, hide_input=True))
    return sys.stdin.readline().rstrip("\r\n")


@trunk_app.command("list")
def trunk_list() -> None:
    """List trunks; the live registration state comes from the local Asterisk."""
    s = settings()
    rows = _dicts(
        _via_daemon_or_local(s, lambda api: api.get("trunks"), lambda svc, who: svc.trunks.trunks(who))
    )
    from core.services.provisioning import trunk_endpoint_id

    states = _registration_states(s) if any(r.get("registers") for r in rows) else {}
    table = Table("name", "host", "port", "caller ID", "enabled", "username", "registers", "registration")
    for r in rows:
        registers = bool(r.get("registers"))
        table.add_row(
            r["name"],
            r["host"],
            str(r["port"]),
            r["caller_id"],
            "yes" if r["enabled"] else "no",
            r.get("username") or "",
            "yes" if registers else "no",
            states.get(trunk_endpoint_id(r["name"]), "?").lower() if registers else "",
        )
    out.print(table)


def _registration_states(s: Settings) -> dict[str, str]:
    """Live registration states from the local Asterisk ({} for an external one or when it is down)."""
    if s.asterisk.mode != "managed":
        return {}
    from asterisk.errors import AsteriskError

    try:
        return dict(_instance(s).outbound_registrations())
    except (Failure, AsteriskError):
        return {}


@trunk_app.command("rm")
def trunk_rm(name: Annotated[str, typer.Argument(help="the trunk")]) -> None:
    """Delete a trunk."""
    s = settings()
    _via_daemon_or_local(
        s, lambda api: api.delete(f"trunks/{_seg(name)}"), lambda svc, who: svc.trunks.remove(who, name)
    )
    out.print(f"trunk {name} removed")


@route_app.command("set")
def route_set(
    did: Annotated[str, typer.Argument(help="the public number, e.g. +15550001000 (or national)")],
    destination: Annotated[str, typer.Argument(help="ext:101, busy or hangup")],
    whitelist_only: Annotated[
        bool, typer.Option(help="only callers on the whitelist get through; the others hear busy")
    ] = False,
) -> None:
    """Send calls to a public number to a destination."""
    s = settings()
    body = {"destination": destination, "whitelist_only": whitelist_only}
    row = _dict(
        _via_daemon_or_local(
            s,
            lambda api: api.put(f"routes/{_seg(did)}", json=body),
            lambda svc, who: svc.trunks.set_route(who, did, destination, whitelist_only),
        )
    )
    only = " (whitelisted callers only)" if whitelist_only else ""
    out.print(f"{row['did']} → {row['destination']}{only}", highlight=False)


@route_app.command("list")
def route_list() -> None:
    """List inbound routes."""
    s = settings()
    rows = _via_daemon_or_local(s, lambda api: api.get("routes"), lambda svc, who: svc.trunks.routes(who))
    table = Table("public number", "destination", "whitelisted callers only")
    for r in _dicts(rows):
        table.add_row(r["did"], r["destination"], "yes" if r["whitelist_only"] else "")
    out.print(table)


@route_app.command("rm")
def route_rm(did: Annotated[str, typer.Argument(help="the public number")]) -> None:
    """Delete the route of a public number."""
    s = settings()
    _via_daemon_or_local(
        s, lambda api: api.delete(f"routes/{_seg(did)}"), lambda svc, who: svc.trunks.remove_route(who, did)
    )
    out.print(f"route for {did} removed")


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
    row = _dict(
        _via_daemon_or_local(
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
    rows = _via_daemon_or_local(
        s, lambda api: api.get("blacklist"), lambda svc, who: svc.caller_lists.blacklist(who)
    )
    table = Table("number or prefix", "hits", "last hit", "note")
    for r in _dicts(rows):
        last = (r["last_hit_at"] or "")[:19].replace("T", " ")
        table.add_row(r["pattern"] + ("…" if r["is_prefix"] else ""), str(r["hits"]), last, r["note"])
    out.print(table)


@blacklist_app.command("rm")
def blacklist_rm(number: Annotated[str, typer.Argument(help="the number or prefix")]) -> None:
    """Unblock a number or prefix."""
    s = settings()
    _via_daemon_or_local(
        s,
        lambda api: api.delete(f"blacklist/{_seg(number)}"),
        lambda svc, who: svc.caller_lists.unblock(who, number),
    )
    out.print(f"{number} unblocked")


@blacklist_app.command("anonymous")
def blacklist_anonymous(
    policy: Annotated[str, typer.Argument(help="allow | busy | a destination such as ext:101")],
) -> None:
    """What happens to callers who withhold their number."""
    s = settings()
    _via_daemon_or_local(
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
    row = _dict(
        _via_daemon_or_local(
            s,
            lambda api: api.put(f"whitelist/{_seg(number)}", json=body),
            lambda svc, who: svc.caller_lists.allow(who, number, destination=route, note=note),
        )
    )
    rule = row["destination"]
    out.print(f"{row['number']} whitelisted{f' → {rule}' if rule else ''}", highlight=False)


@whitelist_app.command("list")
def whitelist_list() -> None:
    """The whitelist."""
    s = settings()
    rows = _via_daemon_or_local(
        s, lambda api: api.get("whitelist"), lambda svc, who: svc.caller_lists.whitelist(who)
    )
    table = Table("number", "own rule", "note")
    for r in _dicts(rows):
        table.add_row(r["number"], r["destination"] or "usual route", r["note"])
    out.print(table)


@whitelist_app.command("rm")
def whitelist_rm(number: Annotated[str, typer.Argument(help="the number")]) -> None:
    """Take a caller off the whitelist."""
    s = settings()
    _via_daemon_or_local(
        s,
        lambda api: api.delete(f"whitelist/{_seg(number)}"),
        lambda svc, who: svc.caller_lists.disallow(who, number),
    )
    out.print(f"{number} removed from the whitelist")


@group_app.command("set")
def group_set(
    name: Annotated[str, typer.Argument(help="e.g. sales (reached as group:sales)")],
    strategy: Annotated[
        str, typer.Option(help="ring_all | hunt | round_robin | random | least_recent")
    ] = "ring_all",
    member_timeout: Annotated[int, typer.Option(help="seconds each member rings (one-by-one)")] = 15,
    timeout: Annotated[int, typer.Option(help="seconds the whole group may take")] = 60,
    fallback: Annotated[
        str | None, typer.Option(help="where calls go when nobody answers, e.g. ext:105")
    ] = None,
) -> None:
    """Create a group or change its settings."""
    s = settings()
    body = {"strategy": strategy, "member_timeout": member_timeout, "timeout": timeout, "fallback": fallback}
    _via_daemon_or_local(
        s,
        lambda api: api.put(f"groups/{_seg(name)}", json=body),
        lambda svc, who: svc.groups.save(who, name, **body),
    )
    out.print(f"group {name}: {strategy}")


@group_app.command("members")
def group_members(
    name: Annotated[str, typer.Argument(help="the group")],
    numbers: Annotated[list[str], typer.Argument(help="internal numbers, in ring order")],
) -> None:
    """Set a group's members (replacing the old list)."""
    s = settings()
    _via_daemon_or_local(
        s,
        lambda api: api.put(f"groups/{_seg(name)}/members", json={"members": numbers}),
        lambda svc, who: svc.groups.set_members(who, name, numbers),
    )
    out.print(f"group {name}: {' '.join(numbers)}")


@group_app.command("list")
def group_list() -> None:
    """Groups with their members."""
    s = settings()
    rows = _via_daemon_or_local(s, lambda api: api.get("groups"), lambda svc, who: svc.groups.groups(who))
    table = Table("group", "strategy", "members", "member timeout", "timeout", "fallback")
    for r in _dicts(rows):
        table.add_row(
            r["name"],
            r["strategy"],
            " ".join(r["members"]),
            f"{r['member_timeout']} s",
            f"{r['timeout']} s",
            r["fallback"] or "",
        )
    out.print(table)


@group_app.command("rm")
def group_rm(name: Annotated[str, typer.Argument(help="the group")]) -> None:
    """Delete a group."""
    s = settings()
    _via_daemon_or_local(
        s, lambda api: api.delete(f"groups/{_seg(name)}"), lambda svc, who: svc.groups.remove(who, name)
    )
    out.print(f"group {name} removed")


# -- IVR menus ---------------------------------------------------------------------------------
@ivr_app.command("add")
def ivr_add(
    name: Annotated[str, typer.Argument(help="e.g. main (reached as ivr:main)")],
    prompt: Annotated[
        str | None,
        typer.Option(help="an Asterisk sound, e.g. sound:demo-instruct (needed for a new menu)"),
    ] = None,
    number: Annotated[
        str | None, typer.Option(help='an internal number that reaches the menu, e.g. 500 ("" = none)')
    ] = None,
    direct_dial: Annotated[
        bool | None,
        typer.Option(
            "--direct-dial/--no-direct-dial", help="callers may dial an internal number at the prompt"
        ),
    ] = None,
    timeout: Annotated[int | None, typer.Option(help="seconds to wait for a key after the prompt")] = None,
    attempts: Annotated[int | None, typer.Option(help="plays of the menu before the fallback")] = None,
    repeat_key: Annotated[
        str | None, typer.Option(help='the key that plays the menu again, e.g. "*" ("" = none)')
    ] = None,
    fallback: Annotated[
        str | None, typer.Option(help="where callers go after the last attempt, e.g. ext:101")
    ] = None,
) -> None:
    """Create an IVR menu or change it: only the options given change (a new menu needs --prompt)."""
    s = settings()
    body = {
        "prompt": prompt,
        "number": number,
        "direct_dial": direct_dial,
        "timeout": timeout,
        "attempts": attempts,
        "repeat_key": repeat_key,
        "fallback": fallback,
    }
    menu = _dict(
        _via_daemon_or_local(
            s,
            lambda api: api.put(f"ivrs/{_seg(name)}", json=body),
            lambda svc, who: svc.ivrs.save(who, name, **body),
        )
    )
    reached = f", internal number {menu['number']}" if menu["number"] else ""
    out.print(f"IVR {menu['name']}: prompt {menu['prompt']}{reached}", highlight=False)


@ivr_app.command("option")
def ivr_option(
    name: Annotated[str, typer.Argument(help="the menu")],
    key: Annotated[str, typer.Argument(help="0-9, * or # (quote * and # in the shell)")],
    destination: Annotated[
        str | None, typer.Argument(help="e.g. ext:102, ivr:sales, queue:support, voicemail:101")
    ] = None,
    remove: Annotated[bool, typer.Option("--remove", help="take the option away")] = False,
) -> None:
    """Send callers who press KEY to DESTINATION (or, with --remove, take the option away)."""
    if remove == (destination is not None):
        raise Failure("give either a DESTINATION or --remove, e.g. pbx ivr option main 1 ext:102")
    s = settings()
    path = f"ivrs/{_seg(name)}/options/{_seg(key)}"
    _via_daemon_or_local(
        s,
        (lambda api: api.delete(path))
        if remove
        else (lambda api: api.put(path, json={"destination": destination})),
        lambda svc, who: svc.ivrs.set_option(who, name, key, destination),
    )
    out.print(f"IVR {name}: key {key} {'removed' if remove else f'→ {destination}'}", highlight=False)


@ivr_app.command("prompt")
def ivr_prompt(
    name: Annotated[str, typer.Argument(help="the menu")],
    file: Annotated[Path, typer.Argument(help="a WAV file: 8000 Hz, 16-bit, mono")],
) -> None:
    """Use a recording as the menu's prompt. With the daemon running, the file is sent to it over the API
    (so it works from any machine that reaches the API); without one, it is copied into the sounds
    directory directly."""
    if not file.is_file():
        raise Failure(f"no file {file}")
    s = settings()
    menu = _dict(
        _via_daemon_or_local(
            s,
            lambda api: api.put(
                f"ivrs/{_seg(name)}/prompt",
                content=file.read_bytes(),
                params={"filename": str(file)},
                headers={"Content-Type": "audio/wav"},
            ),
            lambda svc, who: svc.ivrs.upload_prompt(who, name, file),
        )
    )
    out.print(f"IVR {menu['name']}: prompt {menu['prompt']} (from {file})", highlight=False)


@ivr_app.command("list")
def ivr_list() -> None:
    """IVR menus with their options."""
    s = settings()
    rows = _via_daemon_or_local(s, lambda api: api.get("ivrs"), lambda svc, who: svc.ivrs.menus(who))
    table = Table(
        "menu", "number", "prompt", "options", "direct dial", "timeout", "attempts", "repeat", "fallback"
    )
    for r in _dicts(rows):
        table.add_row(
            r["name"],
            r["number"] or "",
            r["prompt"],
            ", ".join(f"{key}→{dest}" for key, dest in r["options"].items()),
            "yes" if r["direct_dial"] else "no",
            f"{r['timeout']} s",
            str(r["attempts"]),
            r["repeat_key"] or "",
            r["fallback"],
        )
    out.print(table)


@ivr_app.command("rm")
def ivr_rm(name: Annotated[str, typer.Argument(help="the menu")]) -> None:
    """Delete an IVR menu."""
    s = settings()
    _via_daemon_or_local(
        s, lambda api: api.delete(f"ivrs/{_seg(name)}"), lambda svc, who: svc.ivrs.remove(who, name)
    )
    out.print(f"IVR {name} removed")


# -- call queues -------------------------------------------------------------------------------
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
    queue = _dict(
        _via_daemon_or_local(
            s,
            lambda api: api.put(f"queues/{_seg(name)}", json=body),
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
    rows = _via_daemon_or_local(s, lambda api: api.get("queues"), lambda svc, who: svc.queues.queues(who))
    table = Table(
        "queue", "number", "strategy", "agents", "agent timeout", "max wait", "overflow", "wrap-up", "music"
    )
    for r in _dicts(rows):
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
    q = _dict(
        _via_daemon_or_local(
            s, lambda api: api.get(f"queues/{_seg(name)}"), lambda svc, who: _local_queue(svc, who, name)
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
    _via_daemon_or_local(
        s, lambda api: api.delete(f"queues/{_seg(name)}"), lambda svc, who: svc.queues.remove(who, name)
    )
    out.print(f"queue {name} removed")


# -- queue agents ------------------------------------------------------------------------------
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
    agent = _dict(
        _via_daemon_or_local(
            s,
            lambda api: api.post(f"queues/{_seg(queue)}/agents/{_seg(number)}", json=body),
            lambda svc, who: svc.queues.add_agent(who, queue, number, **body),
        )
    )
    kind = "remote agent" if agent["remote"] else "agent"
    out.print(f"queue {queue}: {kind} {agent['number']} added, logged in", highlight=False)


@agent_app.command("rm")
def agent_rm(queue: QueueArg, number: AgentArg) -> None:
    """Take an agent out of a queue."""
    s = settings()
    _via_daemon_or_local(
        s,
        lambda api: api.delete(f"queues/{_seg(queue)}/agents/{_seg(number)}"),
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

    agent = _dict(
        _via_daemon_or_local(
            s, lambda api: api.post(f"queues/{_seg(queue)}/agents/{_seg(number)}/{action}"), local
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


@app.command()
def voicemail(
    mailbox: Annotated[str | None, typer.Argument(help="only this internal number's box")] = None,
) -> None:
    """Voicemail messages, newest first (send callers there with destination voicemail:101)."""
    s = settings()
    params = {"mailbox": mailbox} if mailbox else {}
    rows = _via_daemon_or_local(
        s,
        lambda api: api.get("voicemail", params=params),
        lambda svc, who: svc.recordings.voicemails(who, mailbox),
    )
    table = Table("left at", "mailbox", "from", "length", "file")
    for r in _dicts(rows):
        table.add_row(
            r["created_at"][:19].replace("T", " "),
            r["mailbox"],
            r["caller"],
            f"{r['duration']:.1f}s",
            r["path"],
        )
    out.print(table)


@schedule_app.command("set")
def schedule_set(
    name: Annotated[str, typer.Argument(help="e.g. office (reached as schedule:office)")],
    open_to: Annotated[str, typer.Option("--open", help="destination while open, e.g. group:sales")],
    closed_to: Annotated[str, typer.Option("--closed", help="destination while closed, e.g. voicemail:101")],
    timezone: Annotated[str, typer.Option(help="e.g. Europe/Berlin")] = "UTC",
) -> None:
    """Create or change a schedule."""
    s = settings()
    body = {"timezone": timezone, "open": open_to, "closed": closed_to}
    _via_daemon_or_local(
        s,
        lambda api: api.put(f"schedules/{_seg(name)}", json=body),
        lambda svc, who: svc.schedules.save(
            who, name, timezone=timezone, open_to=open_to, closed_to=closed_to
        ),
    )
    out.print(f"schedule {name}: open → {open_to}, closed → {closed_to} ({timezone})")


@schedule_app.command("hours")
def schedule_hours(
    name: Annotated[str, typer.Argument(help="the schedule")],
    hours: Annotated[list[str], typer.Argument(help='e.g. "mon-fri 09:00-17:00" "sat 10:00-14:00"')],
) -> None:
    """Set the opening hours (replacing the old ones)."""
    s = settings()
    pairs = []
    for item in hours:
        days, _, span = item.strip().partition(" ")
        if not span:
            raise Failure(f'{item!r}: write DAYS HH:MM-HH:MM, e.g. "mon-fri 09:00-17:00"')
        pairs.append((days, span.strip()))
    _via_daemon_or_local(
        s,
        lambda api: api.put(f"schedules/{_seg(name)}/hours", json={"hours": pairs}),
        lambda svc, who: svc.schedules.set_hours(who, name, pairs),
    )
    out.print(f"schedule {name}: {'; '.join(hours)}")


@schedule_app.command("holiday")
def schedule_holiday(
    name: Annotated[str, typer.Argument(help="the schedule")],
    day: Annotated[str, typer.Argument(help="YYYY-MM-DD")],
    label: Annotated[str, typer.Option("--name", help="e.g. Christmas")] = "",
) -> None:
    """Close the schedule all day on DAY."""
    s = settings()
    _via_daemon_or_local(
        s,
        lambda api: api.post(f"schedules/{_seg(name)}/holidays", json={"day": day, "name": label}),
        lambda svc, who: svc.schedules.add_holiday(who, name, day, label),
    )
    out.print(f"schedule {name}: closed on {day}")


@schedule_app.command("override")
def schedule_override(
    name: Annotated[str, typer.Argument(help="the schedule")],
    state: Annotated[str, typer.Argument(help="open | closed | auto (back to the clock)")],
) -> None:
    """Force a schedule open or closed (until `auto`)."""
    s = settings()
    _via_daemon_or_local(
        s,
        lambda api: api.put(f"schedules/{_seg(name)}/override", json={"state": state}),
        lambda svc, who: svc.schedules.set_override(who, name, state),
    )
    out.print(f"schedule {name}: {state}")


@schedule_app.command("list")
def schedule_list() -> None:
    """Schedules, their hours, and whether they are open now."""
    s = settings()
    rows = _via_daemon_or_local(
        s, lambda api: api.get("schedules"), lambda svc, who: svc.schedules.schedules(who)
    )
    table = Table("schedule", "now", "open →", "closed →", "hours", "holidays", "timezone")
    for r in _dicts(rows):
        now = ("open" if r["open_now"] else "closed") + (
            f" (forced {r['override']})" if r["override"] else ""
        )
        table.add_row(
            r["name"],
            now,
            r["open_destination"],
            r["closed_destination"],
            "\n".join(r["hours"]),
            "\n".join(r["holidays"]),
            r["timezone"],
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
    _via_daemon_or_local(
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
    rows = _via_daemon_or_local(
        s,
        lambda api: api.get("recordings", params=params),
        lambda svc, who: svc.recordings.recordings(who, call_id),
    )
    table = Table("recorded", "call id", "duration", "size", "file")
    for r in _dicts(rows):
        table.add_row(
            r["created_at"][:19].replace("T", " "),
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
    daemon_api.require_daemon(settings(), lambda api: api.post(f"calls/{_seg(call_id)}/recording"))
    out.print(f"recording call {call_id}")


@record_app.command("stop")
def record_stop(call_id: Annotated[str, typer.Argument(help="a call in progress")]) -> None:
    """Stop recording a call in progress."""
    daemon_api.require_daemon(settings(), lambda api: api.delete(f"calls/{_seg(call_id)}/recording"))
    out.print(f"stopped recording call {call_id}")


@forward_app.command("set")
def forward_set(
    number: Annotated[str, typer.Argument(help="the internal number whose calls are forwarded")],
    condition: Annotated[str, typer.Argument(help="always | busy | no_answer | unavailable")],
    destination: Annotated[str, typer.Argument(help="ext:102, busy or hangup")],
    ring_seconds: Annotated[int | None, typer.Option(help="no_answer: ring this long first")] = None,
) -> None:
    """Forward NUMBER's calls to DESTINATION when CONDITION holds (replaces the rule for CONDITION)."""
    s = settings()
    body = {"destination": destination, "ring_seconds": ring_seconds}
    _via_daemon_or_local(
        s,
        lambda api: api.put(f"extensions/{_seg(number)}/forwarding/{_seg(condition)}", json=body),
        lambda svc, who: svc.forwarding.set(who, number, condition, destination, ring_seconds),
    )
    after = f" after {ring_seconds} s" if ring_seconds else ""
    out.print(f"{number}: {condition}{after} → {destination}")


@forward_app.command("clear")
def forward_clear(
    number: Annotated[str, typer.Argument(help="the internal number")],
    condition: Annotated[str, typer.Argument(help="always | busy | no_answer | unavailable")],
) -> None:
    """Remove one forwarding rule."""
    s = settings()
    _via_daemon_or_local(
        s,
        lambda api: api.delete(f"extensions/{_seg(number)}/forwarding/{_seg(condition)}"),
        lambda svc, who: svc.forwarding.clear(who, number, condition),
    )
    out.print(f"{number}: no {condition} forwarding")


@forward_app.command("list")
def forward_list(
    number: Annotated[str | None, typer.Argument(help="only this internal number")] = None,
) -> None:
    """Forwarding rules."""
    s = settings()
    params = {"number": number} if number else {}
    rows = _via_daemon_or_local(
        s, lambda api: api.get("forwarding", params=params), lambda svc, who: svc.forwarding.list(who, number)
    )
    table = Table("number", "condition", "destination", "ring seconds")
    for r in _dicts(rows):
        table.add_row(r["number"], r["condition"], r["destination"], str(r["ring_seconds"] or ""))
    out.print(table)


def _set_dnd(number: str, on: bool) -> None:
    s = settings()
    _via_daemon_or_local(
        s,
        lambda api: api.patch(f"extensions/{_seg(number)}", json={"dnd": on}),
        lambda svc, who: svc.forwarding.set_dnd(who, number, on),
    )
    out.print(f"{number}: do-not-disturb {'on' if on else 'off'}")


@dnd_app.command("on")
def dnd_on(number: Annotated[str, typer.Argument(help="the internal number")]) -> None:
    """Switch do-not-disturb on."""
    _set_dnd(number, True)


@dnd_app.command("off")
def dnd_off(number: Annotated[str, typer.Argument(help="the internal number")]) -> None:
    """Switch do-not-disturb off."""
    _set_dnd(number, False)


@app.command()
def calls(last: Annotated[int, typer.Option("--last", min=1, max=1000, help="how many")] = 20) -> None:
    """Recent call records, newest first."""
    from core.services.auth import AuthService
    from core.services.calls import CallHistory

    s = settings()

    async def go() -> list[dict[str, Any]]:
        async with _db(s):
            auth, who = AuthService(), _local_actor()
            async with _refusals_audited(auth, who):
                return await CallHistory(auth).recent(who, last)

    table = Table("started", "caller", "callee", "disposition", "SIP", "duration", "call id")
    for c in run(go):
        table.add_row(
            c["started_at"][:19].replace("T", " "),
            c["caller"],
            c["callee"],
            c["disposition"],
            str(c["sip_code"] or ""),
            f"{c['duration']:.1f}s",
            c["call_id"],
        )
    out.print(table)


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


from pbx.cli_security import security_commands  # noqa: E402  # feature modules of the CLI

app.add_typer(security_commands(sys.modules[__name__]), name="security")

if __name__ == "__main__":
    main()
