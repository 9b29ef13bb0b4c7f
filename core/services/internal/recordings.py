"""The index of the files Asterisk writes: recordings of calls and voicemail messages, filed (and announced)
as the call path reports them done."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import wave
from pathlib import Path

from core.events import EventBus, RecordingSaved, VoicemailLeft
from core.models import Call, MissedCall, Recording, Voicemail

logger = logging.getLogger(__name__)


def _wav_seconds(path: Path) -> float:
    with contextlib.suppress(wave.Error, EOFError, OSError), wave.open(str(path), "rb") as wav:
        return round(wav.getnframes() / float(wav.getframerate()), 2)
    return 0.0


class RecordingIndex:
    """Files finished recordings and voicemail messages once Asterisk has closed them."""

    def __init__(self, bus: EventBus, directory: Path, fmt: str = "wav") -> None:
        self._bus = bus
        self.directory = directory
        self.format = fmt

    async def index(self, call: Call, name: str, wait: float = 3.0) -> Recording | None:
        """Record a finished recording in the index once Asterisk has closed its file."""
        facts = await self._file(name, wait)
        if facts is None:
            return None
        path, duration, size = facts
        row = await Recording.create(
            call=call, name=name, path=str(path), format=self.format, duration=duration, size=size
        )
        await self._bus.publish(
            RecordingSaved(
                call_id=call.call_id,
                caller=call.caller,
                callee=call.callee,
                name=name,
                path=str(path),
                duration=duration,
                size=size,
            )
        )
        return row

    async def index_voicemail(self, call: Call, mailbox: str, caller: str, name: str) -> Voicemail | None:
        """File a message once Asterisk has closed it; announce it."""
        facts = await self._file(name)
        if facts is None:
            return None
        path, duration, size = facts
        row = await Voicemail.create(
            mailbox=mailbox, call=call, caller=caller, path=str(path), duration=duration, size=size
        )
        await MissedCall.filter(call_id=call.call_id).update(voicemail_id=row.id)  # the message it left
        await self._bus.publish(
            VoicemailLeft(
                call_id=call.call_id,
                caller=call.caller,
                callee=call.callee,
                mailbox=mailbox,
                path=str(path),
                duration=duration,
                voicemail_id=row.id,
            )
        )
        return row

    async def _file(self, name: str, wait: float = 3.0) -> tuple[Path, float, int] | None:
        """Path, duration and size of recording `name` once Asterisk has written it; None if it never does."""
        path = self.directory / f"{name}.{self.format}"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while not path.exists() and loop.time() < deadline:
            await asyncio.sleep(0.05)
        if not path.exists():
            logger.warning("recording %s was not written by Asterisk", name)
            return None
        duration = await asyncio.to_thread(_wav_seconds, path) if self.format == "wav" else 0.0
        return path, duration, path.stat().st_size
