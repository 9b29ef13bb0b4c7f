"""Webhook signatures as Standard Webhooks has them, checked against its test vector and its reference
library; the address rule; backoff and Retry-After."""

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from core.errors import InvalidInput
from core.notify.backoff import MAX_RETRY_AFTER, backoff, retry_after
from core.notify.webhooks import addresses, signing


def test_the_signature_matches_the_standard_webhooks_test_vector():
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    got = signing.signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert got == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_reference_library_verifies_our_headers_with_either_secret_during_a_rotation():
    new, old = signing.generate_secret(), signing.generate_secret()
    body = b'{"event":"hangup"}'
    now = int(datetime.now(UTC).timestamp())
    headers = signing.headers([new, old], "42", now, body)
    assert headers["webhook-signature"].count("v1,") == 2
    assert Webhook(new).verify(body, headers) == {"event": "hangup"}
    assert Webhook(old).verify(body, headers) == {"event": "hangup"}
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.generate_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(b'{"event":"answer"}', headers)  # the body is what is signed


def test_generated_secrets_are_whsec_base64_of_32_random_bytes_and_differ():
    a, b = signing.generate_secret(), signing.generate_secret()
    assert a.startswith("whsec_") and a != b
    assert len(signing.key_of(a)) == 32
    assert signing.check_secret(a) == a


@pytest.mark.parametrize("bad", ["", "short", "whsec_!!!", "whsec_" + "QUJD", "has a space in it ok"])
def test_a_bad_secret_is_refused_with_the_rule(bad):
    with pytest.raises(InvalidInput, match="whsec_ followed by the base64"):
        signing.check_secret(bad)


def test_a_plain_secret_of_printable_characters_is_its_own_key():
    assert signing.key_of(signing.check_secret("s3cret-of-16chars")) == b"s3cret-of-16chars"


@pytest.mark.parametrize(
    "url", ["ftp://x.example/h", "not a url", "http://", "https://user:pw@crm.example.com/h", "http://[::1"]
)
def test_a_bad_url_is_refused(url):
    with pytest.raises(InvalidInput):
        addresses.check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/h",
        "http://10.1.2.3/h",
        "http://[::1]/h",
        "http://169.254.169.254/x",
        "http://localhost/",
    ],
)
async def test_receivers_inside_the_network_are_refused_unless_allowed(url):
    refused = await addresses.refusal(url, allow_private=False)
    assert refused and "webhooks.allow_private" in refused
    assert await addresses.refusal(url, allow_private=True) is None


async def test_a_public_address_is_allowed_and_a_name_that_does_not_resolve_is_said_so():
    assert (
        await addresses.refusal("http://192.0.2.10/h", allow_private=False) is not None
    )  # TEST-NET: not global
    assert await addresses.refusal("http://8.8.8.8/h", allow_private=False) is None
    assert "does not resolve" in (await addresses.refusal("http://no-such-host.invalid/h", True) or "")


def test_backoff_doubles_up_to_the_cap_with_jitter():
    rng = random.Random(1)
    delays = [backoff(n, 1.0, 60.0, rng) for n in range(1, 10)]
    for n, delay in enumerate(delays, start=1):
        full = min(60.0, 2 ** (n - 1))
        assert full / 2 <= delay <= full
    assert max(delays) <= 60


def test_retry_after_in_seconds_or_as_a_date_capped_at_an_hour():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after("120") == 120
    assert retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30
    assert retry_after("999999") == MAX_RETRY_AFTER
    assert retry_after("soon") is None and retry_after(None) is None


def test_a_request_goes_to_the_address_that_was_checked_with_its_own_host_and_server_name():
    assert addresses.pinned("https://crm.example.com/h?x=1", "203.0.113.9") == (
        "https://203.0.113.9/h?x=1",
        "crm.example.com",
        "crm.example.com",
    )
    assert addresses.pinned("http://crm.example.com:8080/h", "2001:db8::5") == (
        "http://[2001:db8::5]:8080/h",
        "crm.example.com:8080",
        "crm.example.com",
    )


async def test_resolving_gives_the_address_to_use_or_the_refusal():
    allowed = await addresses.resolve("http://localhost:9/h", allow_private=True)
    assert allowed.refusal is None and allowed.address in ("127.0.0.1", "::1")
    refused = await addresses.resolve("http://localhost:9/h", allow_private=False)
    assert refused.address is None and "webhooks.allow_private" in (refused.refusal or "")
