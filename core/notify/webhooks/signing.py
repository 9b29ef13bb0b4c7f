"""Signatures as Standard Webhooks has them (https://www.standardwebhooks.com): the receiver checks
`webhook-signature` = `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, keyed with the
secret `whsec_<base64 key>`. During a rotation the body is signed with both secrets, space-separated."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets

from core.errors import InvalidInput

PREFIX = "whsec_"
KEY_BYTES = 32
_PLAIN = re.compile(r"^[\x21-\x7e]{16,100}$")


def generate_secret() -> str:
    """A new secret in the Standard Webhooks form."""
    return PREFIX + base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def key_of(secret: str) -> bytes:
    """The HMAC key of a secret: the decoded base64 of `whsec_…`, else the secret's own bytes."""
    if secret.startswith(PREFIX):
        return base64.b64decode(secret.removeprefix(PREFIX))
    return secret.encode()


def check_secret(secret: str) -> str:
    """A secret someone chose: `whsec_<base64>` of 24 to 64 bytes, or 16 to 100 printable characters."""
    text = (secret or "").strip()
    if text.startswith(PREFIX):
        try:
            size = len(base64.b64decode(text.removeprefix(PREFIX), validate=True))
        except (binascii.Error, ValueError):
            size = 0
        if 24 <= size <= 64:
            return text
    elif _PLAIN.fullmatch(text):
        return text
    raise InvalidInput(
        "a webhook secret must be whsec_ followed by the base64 of 24 to 64 random bytes, or 16 to 100 "
        "printable characters without spaces (leave --secret out to have one generated)"
    )


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 signature>` of one message with one secret."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key_of(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secrets_: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every secret given (the new one first)."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, msg_id, timestamp, body) for s in secrets_),
    }


def verify(
    secret: str, header_values: dict[str, str], body: bytes, tolerance: int = 300, now: int = 0
) -> bool:
    """Whether a message carries a valid signature for `secret` (what a receiver does; tests use it)."""
    msg_id, stamp = header_values.get("webhook-id", ""), header_values.get("webhook-timestamp", "")
    if not stamp.isdigit() or (now and abs(now - int(stamp)) > tolerance):
        return False
    expected = signature(secret, msg_id, int(stamp), body)
    return any(
        hmac.compare_digest(expected, given) for given in header_values.get("webhook-signature", "").split()
    )
