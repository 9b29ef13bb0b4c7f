"""SIP accounts as a person gets them: printed once, and kept in a file only they can read, so that the
passwords `pbx up` prints are not lost when the console covers the screen."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from core.config import Settings

FILE_NAME = "sip-accounts.txt"
HEADER = """\
# SIP accounts of this PBX, written by `pbx` (mode 0600: only you can read it).
# Register a softphone with: username = the number, the password below, server {server} (UDP).
# `pbx ext add`, `pbx ext set NUMBER --password/--new-password` and `pbx ext rm` keep this file current
# while it exists (changes made through the API are not written here). Delete it once your phones are set
# up; `pbx ext set NUMBER --new-password` gives a number a new password at any time.
number\tname\tpassword
"""


def accounts_path(s: Settings) -> Path:
    """<data dir>/sip-accounts.txt."""
    return s.data_dir / FILE_NAME


def _server(s: Settings) -> str:
    return f"{s.asterisk.bind}:{s.asterisk.sip_port}"


def _read(path: Path) -> dict[str, tuple[str, str]]:
    accounts: dict[str, tuple[str, str]] = {}
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return accounts
    for line in lines:
        number, _, rest = line.partition("\t")
        name, _, password = rest.partition("\t")
        if number and not number.startswith("#") and number != "number" and password:
            accounts[number] = (name, password)
    return accounts


def _write(s: Settings, accounts: dict[str, tuple[str, str]]) -> Path:
    path = accounts_path(s)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(f"{n}\t{name}\t{pw}\n" for n, (name, pw) in sorted(accounts.items()))
    tmp = path.with_name(f".{FILE_NAME}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(HEADER.format(server=_server(s)) + body)
    os.replace(tmp, path)
    return path


def save_accounts(s: Settings, rows: list[dict[str, Any]], *, create: bool) -> Path | None:
    """Write these accounts' passwords into the file (replacing older lines of the same numbers). Without
    `create`, only a file that exists is updated (whoever deleted it does not want it back)."""
    path = accounts_path(s)
    if not create and not path.exists():
        return None
    accounts = _read(path)
    for r in rows:
        accounts[r["number"]] = (r.get("name") or "", r["sip_password"])
    return _write(s, accounts)


def forget_account(s: Settings, number: str) -> None:
    """Take a deleted number out of the file, if there is one."""
    path = accounts_path(s)
    accounts = _read(path)
    if accounts.pop(number.strip(), None) is not None:
        _write(s, accounts)


def print_accounts(out: Console, s: Settings, rows: list[dict[str, Any]], saved: Path | None) -> None:
    """The accounts with their passwords, and where they are kept (if anywhere)."""
    title = (
        f"SIP accounts (passwords also saved in {saved})"
        if saved
        else ("SIP accounts (passwords are shown this once)")
    )
    table = Table(title=title)
    for col in ("number", "name", "password", "server"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["number"], r["name"], r["sip_password"], f"{_server(s)} (UDP)")
    out.print(table)
    if saved:
        out.print(
            f"The passwords are kept in {saved} (mode 0600: only you can read it).",
            highlight=False,
            soft_wrap=True,
        )


def pause_before_console(out: Console) -> bool:
    """On a terminal, wait for Enter so the passwords just printed can be copied before the console covers
    them (not on a pipe or in a script). False when the person would rather not open the console."""
    if not sys.stdin.isatty():
        return True
    try:
        input("Press Enter to open the console (Ctrl-C: not now) ")
    except (EOFError, KeyboardInterrupt):
        out.print()
        return False
    return True
