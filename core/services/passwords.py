"""SIP passwords: what a person may choose, and what the PBX generates.

A SIP account's username is its internal number, and anyone on the network may try passwords against it,
so a person-chosen password must be more than long: not one character repeated, not a run along the
keyboard or the alphabet, not a common password (also in l33t spelling or with digits added), not built on
the number itself, and with enough different characters.
"""

from __future__ import annotations

import itertools
import re
import secrets

from core.errors import InvalidInput

PASSWORD_RE = re.compile(r"^[A-Za-z0-9._~!@%^*+=-]{8,64}$")
MIN_LENGTH = 8
MIN_DISTINCT = 5

# Runs a person types without thinking: digits, the alphabet, keyboard rows (both ways).
_RUNS = ("01234567890", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl", "zxcvbnm", "qwertzuiop")
_NEIGHBOURS = {
    (run[i], run[i + 1]) for base in _RUNS for run in (base, base[::-1]) for i in range(len(run) - 1)
}
# The core of the most common passwords (after l33t spelling is undone and digits/symbols at the end
# are cut), and common whole ones that survive that cut.
COMMON = frozenset(
    """password passwort passwd pass secret qwerty qwertz azerty letmein welcome admin administrator root
    changeme default guest user login test testing master dragon monkey shadow sunshine princess football
    baseball soccer iloveyou trustno superman batman starwars whatever freedom hello access asterisk voip
    sip phone telephone pbx extension office company iloveu abc abcd asdf zxcv
    1q2w3e4r 1qaz2wsx zaq12wsx q1w2e3r4 a1b2c3d4 1a2b3c4d aa123456 abc123 qwe123""".split()
)
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})


def _mostly_a_run(text: str) -> bool:
    """12345678, abcdefgh, qwertyui, 87654321, abcd1234: nearly every step goes to a neighbour."""
    steps = [(a, b) in _NEIGHBOURS for a, b in itertools.pairwise(text)]
    return len(steps) > 0 and sum(steps) >= 0.75 * len(steps)


def _common(text: str) -> bool:
    low = text.lower()
    if low in COMMON:
        return True
    core = low.rstrip("0123456789._~!@%^*+=-").lstrip("0123456789._~!@%^*+=-")
    return core in COMMON or core.translate(_LEET) in COMMON or low.translate(_LEET) in COMMON


def weakness(password: str, number: str | None = None) -> str | None:
    """Why a person-chosen SIP password is weak, or None when it is not (its format is checked apart)."""
    low = password.lower()
    if number and number in password:
        rest = password.replace(number, "")
        if len(rest) < MIN_LENGTH or weakness(rest) is not None:
            return f"it is built on the internal number {number}, which is the account's public username"
    if len(set(low)) == 1:
        return "it is one character repeated"
    if _mostly_a_run(low):
        return "it is a sequence (a run like 1234…, abcd… or qwer…)"
    if _common(password):
        return "it is a common password"
    if len(set(low)) < MIN_DISTINCT:
        return f"it has fewer than {MIN_DISTINCT} different characters"
    return None


def validate_password(password: str | None, number: str | None = None) -> str:
    """A SIP password a person chose: 8–64 characters of letters, digits and . _ ~ ! @ % ^ * + = -, and
    not weak. The message never repeats the password."""
    if not PASSWORD_RE.fullmatch(password or ""):
        raise InvalidInput("SIP password must be 8 to 64 characters of letters, digits and ._~!@%^*+=-")
    assert password is not None
    reason = weakness(password, number)
    if reason is not None:
        raise InvalidInput(
            f"SIP password is too weak: {reason}; omit --password to get a strong generated one "
            "(pbx ext set NUMBER --new-password)"
        )
    return password


def generate_password(number: str | None = None) -> str:
    """A random SIP password: 16 hex digits (64 random bits; hex keeps softphone entry easy). One that
    would pass for weak by chance (it contains the number, say) is drawn again, so a generated password
    is always accepted where a person's would be."""
    while True:
        password = secrets.token_hex(8)
        if weakness(password, number) is None:
            return password
