"""Following Asterisk's security log through restarts, rotation, truncation and odd lines."""

import os

from core.security import LogFollower
from core.security.follower import MAX_LINE


class Lines:
    def __init__(self, fail_on: str | None = None):
        self.seen: list[str] = []
        self.fail_on = fail_on

    async def __call__(self, line: str) -> None:
        if line == self.fail_on:
            raise RuntimeError("handler broke")
        self.seen.append(line)


def append(path, text: str) -> None:
    with open(path, "a") as f:
        f.write(text)


async def test_only_lines_written_after_the_start_are_read(tmp_path):
    log = tmp_path / "security.log"
    log.write_text("old 1\nold 2\n")
    lines = Lines()
    f = LogFollower(log, lines)
    await f.poll()
    append(log, "new 1\nnew ")
    await f.poll()
    assert lines.seen == ["new 1"]  # a half-written line waits for its end
    append(log, "2\n")
    await f.poll()
    assert lines.seen == ["new 1", "new 2"]


async def test_a_log_that_appears_later_is_read_from_its_start(tmp_path):
    log = tmp_path / "security.log"
    lines = Lines()
    f = LogFollower(log, lines)
    await f.poll()  # no file yet (Asterisk not started)
    log.write_text("banner\nfirst\n")
    await f.poll()
    assert lines.seen == ["banner", "first"]


async def test_rotation_reads_the_rest_of_the_old_file_then_the_new_one(tmp_path):
    log = tmp_path / "security.log"
    log.write_text("")
    lines = Lines()
    f = LogFollower(log, lines)
    await f.poll()
    append(log, "a\n")
    await f.poll()
    append(log, "b\n")  # written just before `logger rotate`
    os.rename(log, tmp_path / "security.log.0")
    await f.poll()  # renamed away, not created again yet
    log.write_text("c\n")
    await f.poll()
    append(log, "d\n")
    await f.poll()
    assert lines.seen == ["a", "b", "c", "d"]


async def test_a_truncated_log_is_read_again_from_its_start(tmp_path):
    log = tmp_path / "security.log"
    log.write_text("")
    lines = Lines()
    f = LogFollower(log, lines)
    await f.poll()
    append(log, "a long first line\n")
    await f.poll()
    log.write_text("x\n")  # copytruncate, then a new line
    await f.poll()
    assert lines.seen == ["a long first line", "x"]


async def test_odd_lines_and_a_failing_handler_do_not_stop_it(tmp_path):
    log = tmp_path / "security.log"
    log.write_text("")
    lines = Lines(fail_on="boom")
    f = LogFollower(log, lines)
    await f.poll()
    log.write_bytes(b"\xff\xfe not utf-8\n\n" + b"y" * (MAX_LINE + 10) + b"\nboom\nafter\r\n")
    await f.poll()
    assert lines.seen == ["\ufffd\ufffd not utf-8", "after"]  # the overlong line was dropped
