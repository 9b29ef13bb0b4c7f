"""Destinations are written one way everywhere; bad ones get a message showing the right form."""

import pytest

from core.routing.destinations import Destination, DestinationKind, InvalidDestination, parse_destination


@pytest.mark.parametrize(
    ("text", "kind", "target", "written"),
    [
        ("ext:101", DestinationKind.EXTENSION, "101", "ext:101"),
        (" EXT:2001 ", DestinationKind.EXTENSION, "2001", "ext:2001"),
        ("group:Sales", DestinationKind.GROUP, "sales", "group:sales"),
        ("queue:support-2", DestinationKind.QUEUE, "support-2", "queue:support-2"),
        ("ivr:main", DestinationKind.IVR, "main", "ivr:main"),
        ("voicemail:101", DestinationKind.VOICEMAIL, "101", "voicemail:101"),
        ("external:+1 (555) 123-4567", DestinationKind.EXTERNAL, "+15551234567", "external:+15551234567"),
        ("external:+44 20 7946 0000", DestinationKind.EXTERNAL, "+442079460000", "external:+442079460000"),
        ("busy", DestinationKind.BUSY, "", "busy"),
        ("hangup", DestinationKind.HANGUP, "", "hangup"),
    ],
)
def test_valid_destinations_are_normalised(text, kind, target, written):
    dest = parse_destination(text)
    assert dest == Destination(kind, target)
    assert str(dest) == written
    assert parse_destination(written) == dest  # the written form reads back the same


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "unknown destination"),
        ("phone:101", "unknown destination"),
        ("ext:1", "2 to 4 digits"),
        ("ext:10a", "2 to 4 digits"),
        ("voicemail:", "2 to 4 digits"),
        ("busy:101", "takes no target"),
        ("group:", "needs a name"),
        ("queue:two words", "needs a name"),
        ("external:5551234567", "international form"),
        ("external:+1555", "international form"),
        ("external:+1555123&4567", "international form"),
    ],
)
def test_invalid_destinations_say_how_to_write_them(text, message):
    with pytest.raises(InvalidDestination, match=message):
        parse_destination(text)
