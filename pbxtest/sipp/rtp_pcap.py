"""RTP audio as pcap files for sipp's play_pcap_audio (which replays the recorded RTP headers as they are)."""

from __future__ import annotations

import struct
from pathlib import Path


def write_rtp_pcap(path: Path, seconds: float, payload_type: int = 8) -> Path:
    """A pcap of `seconds` of continuous G.711 A-law RTP (20 ms frames of silence, sequence numbers and
    timestamps running on) for sipp's play_pcap_audio, which keeps the recorded RTP headers."""
    frames = int(seconds * 50)
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]  # pcap, Ethernet
    payload = b"\xd5" * 160
    for i in range(frames):
        rtp = struct.pack("!BBHII", 0x80, payload_type, i & 0xFFFF, (i * 160) & 0xFFFFFFFF, 0x5EED) + payload
        udp = struct.pack("!HHHH", 6000, 6000, 8 + len(rtp), 0) + rtp
        ip = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0, bytes(4), bytes(4)
        )
        frame = bytes(12) + b"\x08\x00" + ip + udp
        t = i * 0.02
        out.append(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(out))
    return path
