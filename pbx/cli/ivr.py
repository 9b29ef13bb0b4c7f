"""`pbx ivr …`: IVR menus, their options and prompts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pbx.cli.backend import via_daemon_or_local
from pbx.cli.common import as_dict, dicts, out, seg, settings
from pbx.errors import Failure

ivr_app = typer.Typer(
    help="IVR menus: a prompt, then callers choose by key (reached as ivr:NAME or by an internal number).",
    no_args_is_help=True,
)


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
    menu = as_dict(
        via_daemon_or_local(
            s,
            lambda api: api.put(f"ivrs/{seg(name)}", json=body),
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
    path = f"ivrs/{seg(name)}/options/{seg(key)}"
    via_daemon_or_local(
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
    menu = as_dict(
        via_daemon_or_local(
            s,
            lambda api: api.put(
                f"ivrs/{seg(name)}/prompt",
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
    rows = via_daemon_or_local(s, lambda api: api.get("ivrs"), lambda svc, who: svc.ivrs.menus(who))
    table = Table(
        "menu", "number", "prompt", "options", "direct dial", "timeout", "attempts", "repeat", "fallback"
    )
    for r in dicts(rows):
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
    via_daemon_or_local(
        s, lambda api: api.delete(f"ivrs/{seg(name)}"), lambda svc, who: svc.ivrs.remove(who, name)
    )
    out.print(f"IVR {name} removed")
