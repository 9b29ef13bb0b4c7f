"""IVR menus through the service: validation, one namespace of internal numbers, uploads, audit."""

import wave

import pytest

from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.events import EventBus
from core.models import AuditEntry, Ivr
from core.routing.destinations import parse_destination
from core.services.auth import Actor, AuthService
from core.services.extensions import ExtensionService
from core.services.internal import config
from core.services.ivr import IvrService
from core.services.queues import QueueService

ADMIN = Actor("alice", "admin", "cli")
OPERATOR = Actor("oscar", "operator", "api")


@pytest.fixture
async def ivrs(db, tmp_path):
    for number in ("101", "102"):
        await ExtensionService(AuthService(), EventBus()).add(ADMIN, number)
    return IvrService(AuthService(), EventBus(), tmp_path / "sounds")


async def test_build_a_menu_and_give_it_to_routing(ivrs):
    await ivrs.save(ADMIN, "Sales", prompt="sound:demo-instruct")
    await ivrs.save(
        ADMIN, "main", prompt="sound:main-menu", number="500", direct_dial=True, fallback="ext:101"
    )
    await ivrs.set_option(ADMIN, "main", "1", "ext:102")
    await ivrs.set_option(ADMIN, "main", "2", "IVR:sales")
    await ivrs.set_option(ADMIN, "main", "#", "busy")
    view = await ivrs.save(ADMIN, "main", timeout=3, attempts=2, repeat_key="0")
    assert (view.number, view.options, view.timeout, view.attempts, view.repeat_key, view.fallback) == (
        "500",
        {"#": "busy", "1": "ext:102", "2": "ivr:sales"},
        3,
        2,
        "0",
        "ext:101",
    )
    info = await config.ivr_info("main")
    assert info.options["2"] == parse_destination("ivr:sales") and info.direct_dial
    assert await config.ivr_info("nope") is None
    await ivrs.set_option(ADMIN, "main", "#", None)
    assert "#" not in (await config.ivr_info("main")).options
    actions = [a.action for a in await AuditEntry.filter(target="main").order_by("id")]
    assert actions == ["ivr.save", "ivr.option", "ivr.option", "ivr.option", "ivr.save", "ivr.option"]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (("save", "main"), InvalidInput, "needs a prompt"),
        (("save", "main", {"prompt": "sound:../../etc/passwd"}), InvalidInput, "must be an Asterisk sound"),
        (("save", "main", {"prompt": "file:///x"}), InvalidInput, "must be an Asterisk sound"),
        (("save", "Main Menu", {"prompt": "sound:x"}), InvalidInput, "IVR name"),
        (("save", "main", {"prompt": "sound:x", "timeout": 0}), InvalidInput, "between 1 and 60"),
        (("save", "main", {"prompt": "sound:x", "attempts": 11}), InvalidInput, "between 1 and 10"),
        (
            ("save", "main", {"prompt": "sound:x", "fallback": "ivr:main"}),
            InvalidInput,
            "fall back to itself",
        ),
        (("save", "main", {"prompt": "sound:x", "fallback": "ext:555"}), NotFound, "555 does not exist"),
        (("save", "main", {"prompt": "sound:x", "number": "101"}), Conflict, "already used by a phone"),
        (("save", "main", {"prompt": "sound:x", "repeat_key": "x"}), InvalidInput, "0-9, \\* or #"),
    ],
)
async def test_bad_menus_are_refused_and_nothing_is_written(ivrs, call, error, message):
    method, name, *kwargs = call
    with pytest.raises(error, match=message):
        await getattr(ivrs, method)(ADMIN, name, **(kwargs[0] if kwargs else {}))
    assert await Ivr.all().count() == 0


async def test_bad_options(ivrs):
    await ivrs.save(ADMIN, "main", prompt="sound:x")
    with pytest.raises(InvalidInput, match="needs a destination"):
        await ivrs.set_option(ADMIN, "main", "1", "")
    with pytest.raises(InvalidInput, match="repeats the menu"):
        await ivrs.set_option(ADMIN, "main", "*", "ext:101")
    with pytest.raises(InvalidInput, match="must be one of 0-9"):
        await ivrs.set_option(ADMIN, "main", "12", "ext:101")
    with pytest.raises(NotFound, match="queue vip does not exist"):
        await ivrs.set_option(ADMIN, "main", "1", "queue:vip")
    with pytest.raises(NotFound, match="has no option 5"):
        await ivrs.set_option(ADMIN, "main", "5", None)
    with pytest.raises(NotFound, match="IVR menu nope does not exist"):
        await ivrs.set_option(ADMIN, "nope", "1", "ext:101")
    with pytest.raises(PermissionDenied):
        await ivrs.set_option(OPERATOR, "main", "1", "ext:101")
    assert (await Ivr.get(name="main")).options == {}


async def test_numbers_are_one_namespace(ivrs):
    await ivrs.save(ADMIN, "main", prompt="sound:x", number="500")
    await ivrs.save(ADMIN, "main", number="500")  # its own number again is fine
    with pytest.raises(Conflict, match="already used by ivr:main"):
        await QueueService(AuthService(), EventBus()).save(ADMIN, "support", number="500")
    with pytest.raises(Conflict, match="already used by ivr:main"):
        await ExtensionService(AuthService(), EventBus()).add(ADMIN, "500")
    await ivrs.save(ADMIN, "main", number="")  # gives it up
    await ExtensionService(AuthService(), EventBus()).add(ADMIN, "500")


def write_wav(path, rate=8000, width=2, channels=1):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * rate * channels)


async def test_upload_a_prompt(ivrs, tmp_path):
    await ivrs.save(ADMIN, "main", prompt="sound:x")
    write_wav(tmp_path / "good.wav")
    view = await ivrs.upload_prompt(ADMIN, "main", tmp_path / "good.wav")
    assert view.prompt == f"sound:{tmp_path / 'sounds' / 'ivr-main'}"
    assert (tmp_path / "sounds" / "ivr-main.wav").read_bytes() == (tmp_path / "good.wav").read_bytes()
    write_wav(tmp_path / "cd.wav", rate=44100, channels=2)
    with pytest.raises(InvalidInput, match=r"44100 Hz, 16-bit, 2 channel.*sox"):
        await ivrs.upload_prompt(ADMIN, "main", tmp_path / "cd.wav")
    (tmp_path / "text.wav").write_text("not audio")
    with pytest.raises(InvalidInput, match="is not a WAV file"):
        await ivrs.upload_prompt(ADMIN, "main", tmp_path / "text.wav")
    with pytest.raises(InvalidInput, match="no file"):
        await ivrs.upload_prompt(ADMIN, "main", tmp_path / "missing.wav")
    assert (await Ivr.get(name="main")).prompt == view.prompt  # failures changed nothing
