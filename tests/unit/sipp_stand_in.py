"""A stand-in PBX for the sipp harness tests: sipp itself, running a UAS scenario on loopback (one of our
phone_*.xml behind a 401 digest challenge, or a minimal registrar)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
from pathlib import Path

import pytest

from pbxtest import sipp
from pbxtest.sipp import CallResult, free_port_pair, free_udp_port

needs_sipp = pytest.mark.skipif(shutil.which(sipp.SIPP_BIN) is None, reason="sipp not installed")

CHALLENGE = """\
  <recv request="INVITE"></recv>
  <send><![CDATA[

      SIP/2.0 401 Unauthorized
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag07[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      WWW-Authenticate: Digest realm="test", nonce="abc123", algorithm=MD5
      Content-Length: 0

    ]]></send>
  <recv request="ACK"></recv>
"""

REGISTRAR = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="test registrar">
  <recv request="REGISTER"></recv>
  <send><![CDATA[

      SIP/2.0 401 Unauthorized
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag07[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      WWW-Authenticate: Digest realm="test", nonce="abc123", algorithm=MD5
      Content-Length: 0

    ]]></send>
  <recv request="REGISTER"></recv>
  <send><![CDATA[

      SIP/2.0 FINAL
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag07[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Contact:]
      Content-Length: 0

    ]]></send>
</scenario>
"""


async def _wait_bound(port: int, proc, timeout: float = 3.0) -> None:
    """Until sipp holds the UDP port (our own bind fails)."""
    for _ in range(int(timeout / 0.02)):
        if proc.returncode is not None:
            raise RuntimeError(f"stand-in sipp exited with {proc.returncode}")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return
        await asyncio.sleep(0.02)
    raise RuntimeError("stand-in sipp did not bind")


@contextlib.asynccontextmanager
async def stand_in(tmp_path: Path, xml: str, *extra: str):
    """Run a UAS scenario (XML text) with sipp on a free port until the block ends; yields the port."""
    path = tmp_path / f"uas{free_udp_port()}.xml"
    path.write_text(xml)
    port = free_udp_port()
    proc = await asyncio.create_subprocess_exec(
        sipp.SIPP_BIN,
        "-sf",
        str(path),
        "-i",
        "127.0.0.1",
        "-p",
        str(port),
        "-mi",
        "127.0.0.1",
        "-mp",
        str(free_port_pair()),
        "-cp",
        str(free_udp_port()),
        "-nostdin",
        *extra,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await _wait_bound(port, proc)
        yield port
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


def challenged(behaviour: str) -> str:
    """Our phone_<behaviour>.xml preceded by a 401 challenge: a stand-in PBX for the caller scenarios."""
    text = (sipp.SCENARIO_DIR / sipp.PHONE_BEHAVIOURS[behaviour]).read_text()
    i = text.index(">", text.index("<scenario")) + 1
    return text[:i] + "\n" + CHALLENGE + text[i:]


def assert_result(r: CallResult, ok: bool, final: int, codes: list[int]) -> None:
    assert (r.ok, r.final_code, r.codes_seen) == (ok, final, codes), (r, r.stderr_tail)
