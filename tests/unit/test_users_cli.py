"""`pbx user`, `pbx token` and `pbx audit` as a user runs them, with and without the daemon: the token alone
on the last line, stored hashed, refused once its user is removed; bad input one line."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.unit.cli_harness import free_port, one_error_line, run_pbx, serving


@pytest.fixture
def data_dir(monkeypatch) -> Path:
    monkeypatch.setenv("PBX_API__PORT", str(free_port()))  # no daemon there until a test starts one
    return Path(os.environ["PBX_DATA_DIR"])


def ok(*args: str) -> str:
    result = run_pbx(*args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def db_rows(data_dir: Path, query: str) -> list[tuple]:
    with sqlite3.connect(data_dir / "pbx.sqlite3") as db:
        return db.execute(query).fetchall()


def test_users_and_tokens_without_a_daemon(data_dir):
    assert run_pbx("ext", "add", "101").returncode == 0
    assert "user alice added (operator at ext:101)" in ok(
        "user", "add", "alice", "--role", "operator", "--scope", "ext:101"
    )
    changed = ok(
        "user",
        "set",
        "alice",
        "--grant",
        "calls.listen",
        "--revoke",
        "calls.record",
        "--slack-user-id",
        "U1ABC",
    )
    assert "user alice updated: operator at ext:101, +calls.listen -calls.record" in changed
    listed = ok("user", "list")
    assert "admin" in listed and "alice" in listed and "U1ABC" in listed  # the daemon's admin is there first

    created = ok("token", "create", "alice", "--name", "laptop", "--expires", "30d")
    token = created.strip().splitlines()[-1]
    assert len(token) >= 40 and " " not in token and "shown this once" in created
    hashes = db_rows(data_dir, "SELECT token_hash FROM apitoken")
    assert hashes == [(hashlib.sha256(token.encode()).hexdigest(),)]  # stored hashed, never as such
    tokens = ok("token", "list", "alice")
    assert "laptop" in tokens and "valid" in tokens and token not in tokens
    assert "laptop" in ok("token", "list", "--all")
    assert "laptop" not in ok("token", "list")  # the admin's own (it has none)
    assert "token laptop of alice revoked" in ok("token", "revoke", "alice", "laptop")
    assert "user alice removed" in ok("user", "rm", "alice")

    audit = ok("audit", "--last", "5")
    for action in ("user.remove", "token.revoke", "token.create", "user.update"):
        assert action in audit
    assert "calls.listen" in audit  # what changed, in short
    assert "alice" not in ok("user", "list")
    details = " ".join(str(r) for r in db_rows(data_dir, "SELECT action, target, detail FROM auditentry"))
    assert token not in details and hashes[0][0] not in details


def test_the_last_line_alone_is_the_token_for_a_pipe(data_dir):
    assert run_pbx("user", "add", "bot", "--role", "viewer").returncode == 0
    result = run_pbx("token", "create", "bot")
    *_, last = result.stdout.splitlines()
    assert last == last.strip() and last.isascii() and len(last) == 43  # 32 random bytes, base64url
    assert result.stdout.endswith(last + "\n")


def test_users_and_tokens_through_the_daemon(data_dir, tmp_path):
    log = tmp_path / "serve.log"
    with serving(log):
        port = os.environ["PBX_API__PORT"]
        assert run_pbx("ext", "add", "101").returncode == 0
        ok("user", "add", "olga", "--role", "staff", "--scope", "ext:101")
        token = ok("token", "create", "olga", "--expires", "1d").strip().splitlines()[-1]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/api", trust_env=False) as api:
            own = {"Authorization": f"Bearer {token}"}
            assert [e["number"] for e in api.get("/extensions", headers=own).json()] == ["101"]
            assert api.get("/users", headers=own).status_code == 403  # a staff member does not read users
            assert "olga" in ok("user", "list")
            assert "default" in ok("token", "list", "olga")
            ok("user", "rm", "olga")
            assert api.get("/extensions", headers=own).status_code == 401  # its token died with it
        audit = ok("audit", "--user", "admin")
        assert "user.remove" in audit and "token.create" in audit and "cli" in audit
        refused = one_error_line(run_pbx("user", "rm", "admin"))
        assert refused == "error: admin is the first admin and cannot be removed"
    assert token not in log.read_text()
    rows = db_rows(
        data_dir, "SELECT actor, source, action, target, ok FROM auditentry WHERE action LIKE 'user.%'"
    )
    assert ("admin", "cli", "user.remove", "olga", 1) in rows


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("user", "add", "bob", "--role", "god"), "unknown role 'god': use one of admin, supervisor"),
        (
            ("user", "add", "bob", "--role", "staff", "--scope", "everyone"),
            "use org, group:NAME or ext:NUMBER",
        ),
        (("user", "add", "bob", "--role", "staff", "--scope", "group:nosuch"), "group nosuch does not exist"),
        (("user", "add", "no way", "--role", "staff"), "user name 'no way' must be letters, digits"),
        (("user", "set", "admin"), "nothing to change: give --role"),
        (("user", "set", "admin", "--role", "viewer"), "admin is the first admin"),
        (("user", "set", "nobody", "--grant", "calls.everything"), "unknown permission 'calls.everything'"),
        (("user", "rm", "nobody"), "user nobody does not exist"),
        (("token", "create", "admin", "--expires", "5y"), "expiry '5y' must be"),
        (("token", "create", "nobody"), "user nobody does not exist"),
        (("token", "list", "admin", "--all"), "give a USER or --all, not both"),
        (("token", "revoke", "admin", "nope"), "user admin has no token named nope"),
    ],
)
def test_bad_input_is_one_line(data_dir, args, message):
    line = one_error_line(run_pbx(*args))
    assert message in line, line


def test_a_usage_error_of_audit_is_the_usage_line(data_dir):
    result = run_pbx("audit", "--last", "0")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
