"""Follows a log file that another process appends to, like `tail -F`.

Survives the file not existing yet, being rotated (renamed or removed, then created again: the rest of the
old file is read first), truncated, or reopened by a restarted Asterisk. Lines are handed over complete;
an overlong line is dropped. A failing handler is logged and the next line is read: nothing in a line can
stop the follower.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import BinaryIO

logger = logging.getLogger(__name__)

MAX_LINE = 64 * 1024  # bytes; a security event is well under 1 KiB
READ_CHUNK = 256 * 1024  # bytes read per step, so a burst does not hold the event loop


class LogFollower:
    """Calls `on_line` for every line appended to `path` after the follower started.

    `from_end`: when the file exists at the start, begin at its end (what was logged before the daemon
    started is not replayed). A file that appears later, or replaces a rotated one, is read from the start.
    """

    def __init__(
        self,
        path: Path,
        on_line: Callable[[str], Awaitable[None]],
        interval: float = 0.25,
        from_end: bool = True,
    ) -> None:
        self.path = path
        self._on_line = on_line
        self.interval = interval
        self._from_end = from_end
        self._fh: BinaryIO | None = None
        self._ino: tuple[int, int] | None = None
        self._partial = b""
        self._skipping = False  # inside an overlong line: drop until its end
        self.lines = 0  # lines handed over (for health and tests)

    async def run(self) -> None:
        """Follow until cancelled."""
        try:
            while True:
                try:
                    await self.poll()
                except asyncio.CancelledError:
                    raise
                except Exception:  # an unexpected I/O error: try again at the next interval
                    logger.exception("reading %s failed", self.path)
                    self._close()
                await asyncio.sleep(self.interval)
        finally:
            self._close()

    async def poll(self) -> None:
        """Read whatever was appended since the last poll."""
        if self._fh is None:
            self._open()
            if self._fh is None:
                return
        assert self._fh is not None
        try:
            st = os.stat(self.path)
            current: tuple[int, int] | None = (st.st_dev, st.st_ino)
        except FileNotFoundError:
            current = None
        if current != self._ino:  # rotated or removed: finish the old file, then take the new one
            await self._drain()
            self._close()
            self._open()
            if self._fh is None:
                return
        elif st.st_size < self._fh.tell():  # truncated in place
            self._fh.seek(0)
            self._partial, self._skipping = b"", False
        await self._drain()

    def _open(self) -> None:
        try:
            fh = open(self.path, "rb")  # kept open across polls on purpose
        except FileNotFoundError:
            self._from_end = False  # it will be a new file: read it all
            return
        st = os.fstat(fh.fileno())
        if self._from_end:
            fh.seek(0, os.SEEK_END)
            self._from_end = False
        self._fh, self._ino = fh, (st.st_dev, st.st_ino)
        self._partial, self._skipping = b"", False

    def _close(self) -> None:
        if self._fh is not None:
            self._fh.close()
        self._fh, self._ino = None, None

    async def _drain(self) -> None:
        assert self._fh is not None
        while chunk := self._fh.read(READ_CHUNK):
            *lines, self._partial = (self._partial + chunk).split(b"\n")
            for raw in lines:
                if self._skipping:
                    self._skipping = False
                elif len(raw) > MAX_LINE:
                    logger.warning("dropped a line over %d bytes in %s", MAX_LINE, self.path)
                else:
                    await self._deliver(raw)
            if len(self._partial) > MAX_LINE:
                logger.warning("dropped a line over %d bytes in %s", MAX_LINE, self.path)
                self._partial, self._skipping = b"", True
            await asyncio.sleep(0)  # let other tasks run between chunks

    async def _deliver(self, raw: bytes) -> None:
        line = raw.decode("utf-8", errors="replace").rstrip("\r")
        if not line.strip():
            return
        self.lines += 1
        try:
            await self._on_line(line)
        except Exception:
            logger.exception("handling a line of %s failed", self.path)
