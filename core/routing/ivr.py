"""IVR menus: what the digits a caller pressed (RFC 4733 DTMF) choose. Pure: no I/O.

A menu plays its prompt, then waits `timeout` seconds for a choice. A choice is one option key, the
repeat key, or (with direct dial) a whole internal number. When a key is both an option and the first
digit of internal numbers, the menu waits `DIGIT_WAIT` seconds for a next digit before taking the option.
Timeouts and invalid choices replay the menu; after `attempts` plays the caller goes to the fallback.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

from core.routing.destinations import Destination, DestinationKind

HANGUP = Destination(DestinationKind.HANGUP)
KEY_RE = re.compile(r"^[0-9*#]$")
DIGIT_WAIT = 2.0  # seconds to wait for the next digit of a number being dialled directly
INVALID_PROMPT = "sound:pm-invalid-option"  # "you have entered an invalid option"
NO_SUCH_NUMBER_PROMPT = "sound:pbx-invalid"  # "that is not a valid extension"


@dataclass(frozen=True)
class IvrInfo:
    """A menu as routing sees it."""

    name: str
    prompt: str  # an ARI media URI: "sound:NAME" (Asterisk's sounds) or "sound:/path/without/extension"
    options: Mapping[str, Destination]  # key → destination
    direct_dial: bool = False  # the caller may dial an internal number
    timeout: int = 5  # seconds to wait for a choice once the prompt ended
    attempts: int = 3  # times the menu is played before the caller goes to `fallback`
    repeat_key: str | None = "*"
    fallback: Destination = HANGUP


class Input(StrEnum):
    """What to do with the digits pressed so far."""

    CHOSEN = "chosen"  # go to `destination`
    MORE = "more"  # wait (DIGIT_WAIT) for another digit
    REPEAT = "repeat"  # play the menu again, without counting an attempt
    INVALID = "invalid"  # no such option or number: say so, then play the menu again
    NOTHING = "nothing"  # no key pressed in time: play the menu again


@dataclass(frozen=True)
class MenuStep:
    """The outcome of the digits so far; `destination` is set when `input` is CHOSEN."""

    input: Input
    destination: Destination | None = None


def _is_number_prefix(digits: str, numbers: Collection[str]) -> bool:
    return any(n.startswith(digits) and n != digits for n in numbers)


def pressed(menu: IvrInfo, digits: str, numbers: Collection[str]) -> MenuStep:
    """The caller has pressed `digits` (so far) in `menu`; `numbers` are the internal numbers that can be
    dialled directly (used only with direct dial)."""
    if len(digits) == 1 and digits == menu.repeat_key:
        return MenuStep(Input.REPEAT)
    if menu.direct_dial and _is_number_prefix(digits, numbers):
        return MenuStep(Input.MORE)
    return digits_complete(menu, digits, numbers)


def digits_complete(menu: IvrInfo, digits: str, numbers: Collection[str]) -> MenuStep:
    """No more digits are coming (or none can follow): what `digits` choose."""
    if menu.direct_dial and len(digits) > 1 and digits in numbers:
        return MenuStep(Input.CHOSEN, Destination(DestinationKind.EXTENSION, digits))
    if digits in menu.options:
        return MenuStep(Input.CHOSEN, menu.options[digits])
    if menu.direct_dial and digits in numbers:
        return MenuStep(Input.CHOSEN, Destination(DestinationKind.EXTENSION, digits))
    return MenuStep(Input.INVALID)
