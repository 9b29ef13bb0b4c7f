"""A phone's attended transfer: a REFER with ``Replaces`` in one of its dialogs, naming its other dialog.

One sipp process cannot hold two dialogs, so the phone's two calls are two sipp runs and the REFER is a
third, sent in the first dialog (its Call-ID and tags). The PBX takes the REFER's source as that
dialog's target from then on (rewrite_contact), so this run is the phone's side of it: it answers the
NOTIFYs of the transfer's progress and the BYE that releases the phone. The dialogs are read from
Asterisk's side of them (``CHANNEL(pjsip,call-id|local_tag|remote_tag)`` of the phone's channels).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .messages import SipMessage, parse_message_log
from .process import SippProcess


@dataclass(frozen=True)
class Dialog:
    """A phone's dialog with the PBX: its Call-ID, the phone's tag and the PBX's tag."""

    call_id: str
    phone_tag: str
    pbx_tag: str


@dataclass(frozen=True)
class ReferResult:
    """What the phone's side of the dialog saw: the REFER's answer, the outcomes the NOTIFYs reported
    (their sipfrags' status lines, e.g. ``SIP/2.0 200 OK``), and whether the PBX then released it."""

    code: int | None
    notified: list[str]
    released: bool
    message_log: str


def replaces_uri(number: str, host: str, port: int, replaced: Dialog) -> str:
    """``<sip:NUMBER@HOST:PORT?Replaces=...>``: the target of an attended transfer, the phone's dialog
    with it to be replaced (to-tag: the far end's, from-tag: the phone's own)."""
    replaces = f"{replaced.call_id};to-tag={replaced.pbx_tag};from-tag={replaced.phone_tag}"
    return f"<sip:{number}@{host}:{port}?Replaces={quote(replaces, safe='')}>"


def notified(messages: list[SipMessage]) -> list[str]:
    """The status lines of the sipfrags of the NOTIFYs received (a transfer's progress)."""
    out = []
    for m in messages:
        if not m.sent and m.method == "NOTIFY":
            body = m.text.split("\n\n", 1)[1].strip() if "\n\n" in m.text else ""
            out.append(body.splitlines()[0] if body else "")
    return out


async def send_refer(
    phone: str,
    dialog: Dialog,
    refer_to: str,
    pbx_sip_port: int,
    *,
    pbx_host: str = "127.0.0.1",
    local_ip: str = "127.0.0.1",
    cseq: int = 10,
    timeout: float = 15.0,
) -> ReferResult:
    """Send the REFER in ``dialog`` of ``phone`` and be that dialog's phone until the PBX releases it
    (or ``timeout`` s pass)."""
    if "%" in dialog.call_id:
        raise ValueError("sipp's -cid_str reads % as a format: this Call-ID cannot be sent")
    with tempfile.TemporaryDirectory(prefix="sipp-refer-") as wd:
        sipp = SippProcess(Path(wd), "refer")
        host = f"{pbx_host}:{pbx_sip_port}"
        keys = {
            "from_hdr": f"<sip:{phone}@{host}>;tag={dialog.phone_tag}",
            "to_hdr": f"<sip:{host}>;tag={dialog.pbx_tag}",
            "refer_cseq": str(cseq),  # not "cseq": sipp keeps that name for its own
            "refer_to": refer_to,
            "referrer": phone,
        }
        args = sipp.args(
            "refer_in_dialog.xml",
            local_ip,
            host,
            "-cid_str",
            dialog.call_id,
            *(arg for key, value in keys.items() for arg in ("-key", key, value)),
            "-aa",
            "-m",
            "1",
            "-recv_timeout",
            str(int(timeout * 1000)),
        )
        rc = await sipp.run(args, timeout + 5)
        text = sipp.message_log()
    messages = parse_message_log(text)
    codes = [m.code for m in messages if not m.sent and m.cseq_method == "REFER" and m.code]
    released = rc == 0 and any(not m.sent and m.method == "BYE" for m in messages)
    return ReferResult(codes[-1] if codes else None, notified(messages), released, text)
