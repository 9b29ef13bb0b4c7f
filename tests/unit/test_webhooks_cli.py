"""`pbx webhook`, `pbx outbox`, `pbx missed` and `pbx stats` as a user runs them, with and without the
daemon: the generated secret alone on the last line, never listed; bad input one line."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tests.unit.cli_harness import free_port, one_error_line, run_pbx, serving


@pytest.fixture
def data_dir(monkeypatch) -> Path:
    monkeypatch.setenv("PBX_API__PORT", str(free_port()))  # no daemon there until a test starts one
    monkeypatch.setenv("PBX_WEBHOOKS__ALLOW_PRIVATE", "true")  # the receivers here are on 127.0.0.1
    return Path(os.environ["PBX_DATA_DIR"])


def ok(*args: str) -> str:
    result = run_pbx(*args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_webhooks_without_a_daemon(data_dir):
    assert run_pbx("ext", "add", "102").returncode == 0
    out = ok("webhook", "add", "http://127.0.0.1:9/h", "--events", "hangup,missed", "--number", "102")
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("whsec_") and len(secret) > 40
    listed = ok("webhook", "list")
    assert "hangup,missed" in listed and "ext:102" in listed and secret not in listed
    assert "test event" in ok("webhook", "test", "1")
    assert " test " in ok("outbox", "list", "--pending")  # written for the daemon to deliver
    chosen = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"
    out = ok(
        "webhook", "add", "http://127.0.0.1:9/g", "--events", "all", "--secret", chosen, "--format", "form"
    )
    assert chosen not in out
    assert "new secret" in ok("webhook", "rotate", "2")
    assert "removed" in ok("webhook", "rm", "2")
    with sqlite3.connect(data_dir / "pbx.sqlite3") as db:
        audited = " ".join(str(r) for r in db.execute("SELECT action, target, detail FROM auditentry"))
    assert "webhook.add" in audited and secret not in audited and chosen not in audited


def test_through_the_daemon(data_dir, tmp_path):
    with serving(tmp_path / "serve.log"):
        out = ok("webhook", "add", "http://127.0.0.1:9/h", "--events", "all")
        assert out.strip().splitlines()[-1].startswith("whsec_")
        assert "active" in ok("webhook", "list")
        assert "0 dead items sent again" in ok("outbox", "retry", "--all")
        assert "id" in ok("outbox", "list", "--dead")
        assert "id" in ok("missed", "--open", "--since", "today")
        assert "Queues" in ok("stats", "--from", "7d")
        assert ok("webhook", "log", "1")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("webhook", "add", "ftp://x/h", "--events", "hangup"), "must be an http(s) URL"),
        (
            ("webhook", "add", "http://127.0.0.1:9/h", "--events", "hangup,bogus"),
            "unknown webhook event 'bogus'",
        ),
        (("webhook", "add", "http://127.0.0.1:9/h", "--events", "all", "--secret", "short"), "whsec_"),
        (("webhook", "add", "http://127.0.0.1:9/h", "--events", "all", "--format", "xml"), "json or form"),
        (("webhook", "rm", "7"), "webhook 7 does not exist"),
        (("outbox", "retry"), "give a dead item's ID or --all"),
        (("outbox", "retry", "x"), "must be a number"),
        (("outbox", "list", "--dead", "--pending"), "not both"),
        (("missed", "handle", "3"), "missed call 3 does not exist"),
        (("missed", "--since", "soon"), "--since 'soon' must be"),
        (("stats", "--queue", "nope"), "queue nope does not exist"),
        (("stats", "--from", "today", "--to", "yesterday"), "must end after it starts"),
    ],
)
def test_bad_input_is_one_line(data_dir, args, message):
    assert message in one_error_line(run_pbx(*args))


def test_receivers_inside_the_network_are_refused_by_default(data_dir, monkeypatch):
    monkeypatch.delenv("PBX_WEBHOOKS__ALLOW_PRIVATE")
    line = one_error_line(run_pbx("webhook", "add", "http://192.168.1.5/h", "--events", "hangup"))
    assert "webhooks.allow_private" in line
