"""Table tests for IVR menu choices (core/routing/ivr.py)."""

import pytest

from core.routing.destinations import parse_destination
from core.routing.ivr import Input, IvrInfo, MenuStep, digits_complete, pressed

NUMBERS = ["101", "102", "103", "2000"]
OPTIONS = {
    "1": parse_destination("ext:102"),
    "2": parse_destination("ivr:sales"),
    "#": parse_destination("busy"),
}


def menu(direct_dial=False, repeat_key="*"):
    return IvrInfo("main", "sound:main", OPTIONS, direct_dial, repeat_key=repeat_key)


def chosen(dest):
    return MenuStep(Input.CHOSEN, parse_destination(dest))


@pytest.mark.parametrize(
    ("direct_dial", "digits", "expected"),
    [
        (False, "1", chosen("ext:102")),
        (False, "2", chosen("ivr:sales")),
        (False, "#", chosen("busy")),
        (False, "*", MenuStep(Input.REPEAT)),
        (False, "9", MenuStep(Input.INVALID)),
        (False, "10", MenuStep(Input.INVALID)),  # without direct dial, numbers are not choices
        # with direct dial, a key that begins internal numbers waits for the next digit
        (True, "1", MenuStep(Input.MORE)),
        (True, "10", MenuStep(Input.MORE)),
        (True, "103", chosen("ext:103")),
        (True, "109", MenuStep(Input.INVALID)),
        (True, "2", MenuStep(Input.MORE)),  # 2000 begins with 2
        (True, "2000", chosen("ext:2000")),
        (True, "#", chosen("busy")),
        (True, "*", MenuStep(Input.REPEAT)),
        (True, "9", MenuStep(Input.INVALID)),
    ],
)
def test_pressed(direct_dial, digits, expected):
    assert pressed(menu(direct_dial), digits, NUMBERS) == expected


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("1", chosen("ext:102")),  # no second digit came: the option
        ("2", chosen("ivr:sales")),
        ("10", MenuStep(Input.INVALID)),  # half a number
        ("103", chosen("ext:103")),
    ],
)
def test_digits_complete_after_the_digit_wait(digits, expected):
    assert digits_complete(menu(direct_dial=True), digits, NUMBERS) == expected


def test_an_option_key_that_is_also_a_whole_number_prefers_the_option():
    numbers = ["10", "1"]  # a 1-digit "number" cannot exist, but the option wins anyway
    assert digits_complete(menu(direct_dial=True), "1", numbers) == chosen("ext:102")


def test_no_repeat_key():
    assert pressed(menu(repeat_key=None), "*", NUMBERS) == MenuStep(Input.INVALID)
