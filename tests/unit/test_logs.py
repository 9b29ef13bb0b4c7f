"""No secret reaches the daemon's log in any form, tracebacks included, and the log is its owner's only."""

import base64
import logging
import stat

import httpx
import pytest

from core.config import Settings
from pbx.logs import configure_logging

ARI_PASSWORD = "4f1c2e9a0b7d4e5f8a6b3c2d1e0f9a8b"
TOKEN = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f"


@pytest.fixture
def daemon_log(tmp_path):
    """The daemon's logging, configured as `pbx serve --logfile` does it."""
    settings = Settings(data_dir=tmp_path, asterisk={"ari_password": ARI_PASSWORD}, api={"token": TOKEN})
    path = tmp_path / "log" / "pbx.log"
    saved = logging.root.handlers[:]
    configure_logging(settings, path)
    yield path
    for handler in logging.root.handlers:
        handler.close()
    logging.root.handlers = saved


def test_every_form_of_a_secret_is_masked_in_messages_and_tracebacks(daemon_log):
    log = logging.getLogger("asyncari.test")
    basic = base64.b64encode(f"pbx:{ARI_PASSWORD}".encode()).decode()
    url = f"http://127.0.0.1:9/ari/events?app=pbx&api_key=pbx%3A{ARI_PASSWORD}"
    try:  # a real failing request, as asyncari makes them: the URL lands in the exception text
        httpx.get(url, headers={"Authorization": f"Basic {basic}"}, timeout=1)
    except httpx.HTTPError as exc:
        log.error("websocket to %s failed", exc.request.url, exc_info=True)
    log = logging.getLogger("core.test")
    log.warning("GET /ari/events?api_key=pbx:%s&app=pbx", ARI_PASSWORD)
    log.warning("headers {'authorization': 'Basic %s'} and Authorization: Bearer %s", basic, TOKEN)
    log.warning("connecting to ws://pbx:%s@127.0.0.1:8088/ari", ARI_PASSWORD)
    log.warning("bad config {'password': 'carrier-pw-77', 'token': '%s'}", TOKEN)
    log.warning("nothing secret here: 101 called 102")
    text = daemon_log.read_text()
    for form in (ARI_PASSWORD, TOKEN, basic, "carrier-pw-77", "pbx%3A4f1c"):
        assert form not in text
    assert "Traceback" in text and "ConnectError" in text  # the traceback is kept, masked
    assert "api_key=***" in text and "Basic ***" in text and "Bearer ***" in text
    assert "ws://***@127.0.0.1:8088/ari" in text and "'password': '***'" in text
    assert "nothing secret here: 101 called 102" in text


def test_the_log_file_is_its_owners_only_even_when_it_existed(tmp_path, daemon_log):
    logging.getLogger("pbx").warning("hello")
    assert stat.S_IMODE(daemon_log.stat().st_mode) == 0o600
    assert stat.S_IMODE(daemon_log.parent.stat().st_mode) == 0o700
    old = tmp_path / "old" / "pbx.log"
    old.parent.mkdir()
    old.write_text("from an older version\n")
    old.chmod(0o644)
    configure_logging(Settings(data_dir=tmp_path), old)
    assert stat.S_IMODE(old.stat().st_mode) == 0o600


def test_webhook_secrets_and_signatures_are_masked(daemon_log):
    from core.notify.webhooks.signing import generate_secret, headers

    secret = generate_secret()
    signed = headers([secret], "41", 1700000000, b"{}")
    logging.getLogger("core.test").warning("sent %s with %s", signed, secret)
    text = daemon_log.read_text()
    assert secret not in text and secret.removeprefix("whsec_") not in text
    assert signed["webhook-signature"] not in text and "webhook-id" in text
