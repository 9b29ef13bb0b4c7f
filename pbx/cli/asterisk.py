"""`pbx asterisk …`: install and run the local Asterisk (and find it, for the other commands)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from core.config import Settings
from pbx.cli.common import out, settings
from pbx.errors import Failure

asterisk_app = typer.Typer(help="Install and run the local Asterisk.", no_args_is_help=True)


def instance(s: Settings, *, install_missing: bool = False) -> Any:
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


def require_managed(s: Settings) -> None:
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
    require_managed(s)
    inst = instance(s, install_missing=True)
    inst.start()
    out.print(f"Asterisk running: SIP udp {s.asterisk.bind}:{s.asterisk.sip_port}, ARI {inst.ari_url}")


@asterisk_app.command("stop")
def asterisk_stop() -> None:
    """Stop the local Asterisk."""
    s = settings()
    require_managed(s)
    instance(s).stop()
    out.print("Asterisk stopped")


@asterisk_app.command("status")
def asterisk_status() -> None:
    """Version, uptime, ports, and whether ARI answers."""
    s = settings()
    require_managed(s)
    st = instance(s).status()
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
    require_managed(s)
    out.print(instance(s).cli(command), end="", markup=False, highlight=False)
