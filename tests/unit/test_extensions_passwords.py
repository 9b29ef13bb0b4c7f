"""SIP passwords: a person's choice is refused when weak (with the rule named), generated ones are strong,
and `pbx ext set --password/--new-password` changes a number's password with and without the daemon."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
from pathlib import Path

import pytest

from core.errors import InvalidInput
from core.events import EventBus
from core.models import AuditEntry, Extension
from core.services.auth import Actor, AuthService
from core.services.extensions import ExtensionService
from core.services.passwords import generate_password, validate_password
from core.services.provisioning import sip_digest
from tests.unit.cli_harness import one_error_line, run_pbx, serving
from tests.unit.daemon_process import free_port

ADMIN = Actor("alice", "admin", "cli")


@pytest.fixture
def service():
    return ExtensionService(AuthService(), EventBus())


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("12345678", "sequence"),
        ("87654321", "sequence"),
        ("abcdefgh", "sequence"),
        ("qwertyuiop", "sequence"),
        ("abcd1234", "sequence"),
        ("aaaaaaaa", "one character repeated"),
        ("password", "common password"),
        ("Password1!", "common password"),
        ("P@ssw0rd", "common password"),
        ("letmein2024", "common password"),
        ("1q2w3e4r", "common password"),
        ("101101101", "built on the internal number 101"),
        ("ext101ext101", "built on the internal number 101"),
        ("101secret99", "built on the internal number 101"),
        ("zz99zz99xx", "fewer than 5 different characters"),
    ],
)
async def test_weak_passwords_are_refused_naming_the_rule(db, service, password, rule):
    with pytest.raises(InvalidInput) as refused:
        await service.add(ADMIN, "101", password=password)
    message = str(refused.value)
    assert rule in message and "omit --password" in message
    assert repr(password) not in message  # a refusal never repeats the secret
    await service.add(ADMIN, "101")  # nothing was half-written: the number is still free
    with pytest.raises(InvalidInput, match=rule):
        await service.update(ADMIN, "101", password=password)


async def test_the_refusal_names_the_rule_not_the_password(db, service):
    messages = set()
    for password in ("Sunshine2024", "Dragon!!", "M0nkey123"):
        with pytest.raises(InvalidInput) as refused:
            await service.add(ADMIN, "101", password=password)
        messages.add(str(refused.value))
    assert len(messages) == 1  # the same words whatever the password was


@pytest.mark.parametrize(
    ("number", "password"),
    [
        ("101", "pw-101-secret"),  # what the integration tests register with
        ("105", "pw-105-secret"),
        ("101", "reception-pw"),
        ("101", "bench-101-pw"),  # the benchmark's phones
        ("9101", "bench-9101-pw"),
        ("150", "x7Kq9mLp"),
        ("150", "correct-horse-battery"),
    ],
)
async def test_reasonable_passwords_are_accepted(db, service, number, password):
    view = await service.add(ADMIN, number, password=password)
    assert view.sip_password == password
    assert (await Extension.get(number=number)).sip_digest == sip_digest(number, password)


def test_generated_passwords_are_strong_and_never_refused():
    drawn = {generate_password("101") for _ in range(3000)}
    assert len(drawn) == 3000  # 64 random bits each: no repeats
    for password in drawn:
        assert re.fullmatch(r"[0-9a-f]{16}", password)
        assert validate_password(password, "101") == password  # a person could have chosen it


async def test_a_changed_password_is_audited_but_never_written_there(db, service):
    await service.add(ADMIN, "101")
    await service.update(ADMIN, "101", password="n3w-Secret-101x")
    audit = await AuditEntry.get(action="extension.update")
    assert audit.detail["password_changed"] is True and "n3w-Secret-101x" not in str(audit.detail)


# -- from the command line -----------------------------------------------------------------------
def stored_digest(data_dir: Path, number: str) -> str:
    with sqlite3.connect(data_dir / "pbx.sqlite3") as db:
        row = db.execute("SELECT sip_digest FROM extension WHERE number = ?", (number,)).fetchone()
    return str(row[0])


def shown_password(stdout: str, number: str) -> str:
    row = next(line for line in stdout.splitlines() if f" {number} " in line)
    return re.findall(r"[0-9a-f]{16}", row)[0]


@pytest.fixture
def data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("PBX_API__PORT", str(free_port()))
    return tmp_path / "data"


def test_the_command_line_refuses_a_weak_password(data_dir):
    line = one_error_line(run_pbx("ext", "add", "150", "--password", "12345678"))
    assert "SIP password is too weak: it is a sequence" in line and "omit --password" in line
    assert "150" not in run_pbx("ext", "list").stdout


def check_password_changes(data_dir: Path) -> None:
    accounts = data_dir / "sip-accounts.txt"
    chosen = run_pbx("ext", "set", "101", "--password", "Blue-Otter-42")
    assert chosen.returncode == 0, chosen.stderr
    assert "Blue-Otter-42" in chosen.stdout and stored_digest(data_dir, "101") == sip_digest(
        "101", "Blue-Otter-42"
    )
    assert "101\tReception\tBlue-Otter-42" in accounts.read_text()  # the accounts file follows

    before = stored_digest(data_dir, "102")
    old = next(line for line in accounts.read_text().splitlines() if line.startswith("102\t")).split("\t")[2]
    fresh = run_pbx("ext", "set", "102", "--new-password")
    assert fresh.returncode == 0, fresh.stderr
    new = shown_password(fresh.stdout, "102")
    after = stored_digest(data_dir, "102")
    assert after != before and after == sip_digest("102", new)  # printed once, and in effect
    assert f"102\tSales\t{new}" in accounts.read_text() and old not in accounts.read_text()
    assert new not in run_pbx("ext", "list").stdout  # never shown again
    assert stat.S_IMODE(os.stat(accounts).st_mode) == 0o600

    weak = one_error_line(run_pbx("ext", "set", "103", "--password", "qwertyui"))
    assert "too weak" in weak
    both = one_error_line(run_pbx("ext", "set", "103", "--password", "Blue-Otter-42", "--new-password"))
    assert "either --password P or --new-password" in both


def test_ext_set_changes_the_password_without_a_daemon(data_dir):
    assert run_pbx("seed").returncode == 0
    check_password_changes(data_dir)


def test_ext_set_changes_the_password_through_the_daemon(data_dir, tmp_path):
    assert run_pbx("seed").returncode == 0
    with serving(tmp_path / "serve.log"):
        check_password_changes(data_dir)
