"""The daemon's logging: one file (0600), and no secret in it in any form.

Redaction works on the formatted text, traceback included: asyncari and httpx put the ARI password in
URLs (`api_key=pbx:…`, percent-encoded as `pbx%3A…`), HTTP clients in `Authorization` headers (Basic is
base64 of `user:password`), and URLs may carry `user:password@`. Known secrets are replaced in each of
those encodings; the usual shapes of credentials are masked whatever their value.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from urllib.parse import quote, quote_plus

from core.config import Settings

MASK = "***"

# the shapes credentials take in URLs, headers and reprs, whatever their value
_PATTERNS = [
    # ?api_key=user:pw / &api_key=… (asyncari's websocket and REST URLs)
    (re.compile(r"(?i)\b(api_key=)[^&\s'\"<>]+"), rf"\g<1>{MASK}"),
    # Authorization: Basic …, 'authorization': 'Bearer …', Authorization=Digest …
    (
        re.compile(r"(?i)\b((?:proxy-)?authorization['\"]?\s*[:=]\s*[\[(]?['\"]?\s*)(\w+\s+)?[^\s'\",\])}]+"),
        rf"\g<1>\g<2>{MASK}",
    ),
    # scheme://user:password@host
    (re.compile(r"\b([a-z][a-z0-9+.-]*://[^/\s:@'\"]+):[^@\s/'\"]+@"), rf"\g<1>:{MASK}@"),
    # password=…, "password": "…", secret: …, token=…
    (
        re.compile(
            r"(?i)\b((?:[a-z_]*_)?(?:password|passwd|secret|token|md5_cred)['\"]?\s*[:=]\s*['\"]?)[^\s'\",&}]+"
        ),
        rf"\g<1>{MASK}",
    ),
    # webhook secrets (whsec_<base64>) and webhook signatures (v1,<base64>), wherever they appear
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=]+"), f"whsec_{MASK}"),
    (re.compile(r"\bv1,[A-Za-z0-9+/]{43}="), f"v1,{MASK}"),
]


def secret_forms(secret: str, user: str | None = None) -> set[str]:
    """Every way `secret` can appear in a log line: as is, URL-encoded, and with `user` as the
    `user:secret` of URLs and the base64 of HTTP Basic auth."""
    if not secret:
        return set()
    forms = {secret, quote(secret, safe=""), quote_plus(secret)}
    if user:
        pair = f"{user}:{secret}"
        forms |= {pair, quote(pair, safe=""), quote_plus(pair), base64.b64encode(pair.encode()).decode()}
    return {f for f in forms if len(f) >= 4}


class Redactor:
    """Masks known secrets (in all their forms) and credential-shaped values in a text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # longest first, so that `user:secret` goes before `secret` alone
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


class RedactingFormatter(logging.Formatter):
    """A formatter whose whole output (message, traceback, stack) has its secrets masked."""

    def __init__(self, redact: Redactor, fmt: str | None = None) -> None:
        super().__init__(fmt)
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self._redact(super().format(record))


def redactor_for(s: Settings) -> Redactor:
    """The secrets of these settings, in every form they can take."""
    forms = secret_forms(s.asterisk.ari_password, s.asterisk.ari_user) | secret_forms(s.api.token)
    return Redactor(forms)


def private_log_file(path: Path) -> Path:
    """Create the log file (and its folder) readable by its owner only; tighten an existing one."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    os.chmod(path, 0o600)
    return path


def configure_logging(s: Settings, logfile: Path | None = None) -> None:
    """Root logging for `pbx serve`: stderr, or `logfile` (0600); every handler redacts."""
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if logfile:
        handlers = [logging.FileHandler(private_log_file(logfile))]
    formatter = RedactingFormatter(redactor_for(s), "%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in handlers:
        handler.setFormatter(formatter)
    logging.basicConfig(level=s.log_level.upper(), handlers=handlers, force=True)
    logging.captureWarnings(True)  # warnings go through the redacting handler too
    for noisy in ("httpx", "httpcore", "tortoise", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # asyncari warns about every event it has no model class for; our supervisor reports what matters
    for chatty in ("asyncari", "asyncswagger11"):
        logging.getLogger(chatty).setLevel(logging.ERROR)
    _log_uncaught_exceptions()


def _log_uncaught_exceptions() -> None:
    """An exception nobody caught is logged (so redacted), not printed raw to stderr."""
    log = logging.getLogger("pbx")

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        log.critical("uncaught exception", exc_info=(kind, exc, tb))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            hook(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = hook
    threading.excepthook = thread_hook
