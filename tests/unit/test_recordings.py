"""Recording policies, the recordings index and retention (real WAV files on disk)."""

import wave
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import InvalidInput
from core.events import EventBus
from core.models import Call, EventRecord, Queue, Recording
from core.routing.recording import RecordingPolicy, recording_policy
from core.services.auth import Actor, AuthService
from core.services.extensions import ExtensionService
from core.services.internal.recordings import RecordingIndex
from core.services.recordings import RecordingService

ADMIN = Actor("alice", "admin", "cli")


def write_wav(path, seconds):
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\0\0" * int(8000 * seconds))


@pytest.mark.parametrize(
    ("policies", "expected"),
    [
        ([], RecordingPolicy.NEVER),
        (["never", "never"], RecordingPolicy.NEVER),
        (["never", "on_demand"], RecordingPolicy.ON_DEMAND),
        (["on_demand", "always", "never"], RecordingPolicy.ALWAYS),
    ],
)
def test_the_strongest_policy_wins(policies, expected):
    assert recording_policy(policies) == expected


@pytest.fixture
async def service(db, tmp_path):
    await ExtensionService(AuthService(), EventBus()).add(ADMIN, "101")
    return RecordingService(AuthService(), EventBus(), tmp_path)


async def call_row(call_id="c1"):
    return await Call.create(call_id=call_id, caller="101", callee="102", started_at=datetime.now(UTC))


@pytest.fixture
def index(db, tmp_path):
    return RecordingIndex(EventBus(), tmp_path)


async def test_index_reads_duration_and_size(service, index, tmp_path):
    write_wav(tmp_path / "c1.wav", 2.5)
    row = await index.index(await call_row(), "c1")
    assert (row.duration, row.size) == (2.5, (tmp_path / "c1.wav").stat().st_size)
    event = await EventRecord.get(type="RecordingSaved")
    assert (event.payload["name"], event.payload["duration"]) == ("c1", 2.5)
    (view,) = await service.recordings(ADMIN, "c1")
    assert view.path == str(tmp_path / "c1.wav")


async def test_a_recording_asterisk_never_wrote_is_not_indexed(service, index):
    assert await index.index(await call_row(), "missing", wait=0.2) is None
    assert await Recording.all().count() == 0


async def test_retention_deletes_old_files_and_rows(service, index, tmp_path):
    for name in ("old", "new"):
        write_wav(tmp_path / f"{name}.wav", 0.1)
        await index.index(await call_row(name), name)
    await Recording.filter(name="old").update(created_at=datetime.now(UTC) - timedelta(days=40))
    assert await service.purge(0) == 0  # 0 keeps everything
    assert await service.purge(30) == 1
    assert not (tmp_path / "old.wav").exists() and (tmp_path / "new.wav").exists()
    assert [r.name for r in await Recording.all()] == ["new"]


async def test_policies_by_target(service):
    assert await service.set_policy(ADMIN, "ext:101", "Always") == "always"
    event = await EventRecord.filter(type="ExtensionUpdated").order_by("-id").first()
    assert event.payload["recording"] == "always"  # routing hears of it
    with pytest.raises(InvalidInput, match="must be always, never or on_demand"):
        await service.set_policy(ADMIN, "ext:101", "sometimes")
    with pytest.raises(InvalidInput, match="does not exist"):
        await service.set_policy(ADMIN, "group:nope", "always")
    with pytest.raises(InvalidInput, match="queue:vip does not exist"):
        await service.set_policy(ADMIN, "queue:vip", "always")
    await Queue.create(name="vip")
    assert await service.set_policy(ADMIN, "queue:vip", "on_demand") == "on_demand"
    assert (await Queue.get(name="vip")).recording == "on_demand"
    with pytest.raises(InvalidInput, match="record what"):
        await service.set_policy(ADMIN, "ivr:main", "always")


async def test_voicemail_is_filed_and_announced(service, index, tmp_path):
    write_wav(tmp_path / "vm-c9.wav", 3.0)
    message = await index.index_voicemail(await call_row("c9"), "101", "+15557654321", "vm-c9")
    assert (message.mailbox, message.caller, message.duration) == ("101", "+15557654321", 3.0)
    (view,) = await service.voicemails(ADMIN, "101")
    assert view.path.endswith("vm-c9.wav")
    event = await EventRecord.get(type="VoicemailLeft")
    assert (event.payload["mailbox"], event.payload["duration"]) == ("101", 3.0)
