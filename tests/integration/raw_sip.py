"""A hand-written SIP REGISTER over UDP with digest authentication, from any loopback address.

sipp binds one address per process and stops at the first unexpected answer; password-guessing tests need
dozens of quick REGISTERs from chosen source addresses (127.0.0.x) and the exact final code of each.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import socket
import time


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # SIP digest is MD5 by definition


def _challenge(header: str) -> dict[str, str]:
    return {k.lower(): v1 or v2 for k, v1, v2 in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]+))', header)}


class SipRegistrar:
    """REGISTERs to one registrar (`host`:`port`) from `source` (an address on this machine)."""

    def __init__(self, host: str, port: int, source: str = "127.0.0.1", timeout: float = 2.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((source, 0))
        self.sock.settimeout(timeout)
        self.source, self.local_port = self.sock.getsockname()

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> SipRegistrar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, user: str, call_id: str, cseq: int, expires: int, authorization: str = "") -> str:
        uri = f"sip:{self.host}:{self.port}"
        lines = [
            f"REGISTER {uri} SIP/2.0",
            f"Via: SIP/2.0/UDP {self.source}:{self.local_port};rport;branch=z9hG4bK{secrets.token_hex(8)}",
            "Max-Forwards: 70",
            f"From: <sip:{user}@{self.host}>;tag={secrets.token_hex(4)}",
            f"To: <sip:{user}@{self.host}>",
            f"Call-ID: {call_id}",
            f"CSeq: {cseq} REGISTER",
            f"Contact: <sip:{user}@{self.source}:{self.local_port}>",
            f"Expires: {expires}",
            "User-Agent: raw-sip-test",
        ]
        if authorization:
            lines.append(f"Authorization: {authorization}")
        self.sock.sendto(
            ("\r\n".join([*lines, "Content-Length: 0", "", ""])).encode(), (self.host, self.port)
        )
        return self._final(cseq)

    def _final(self, cseq: int) -> str:
        """The next final response to `cseq` (provisional answers and stray retransmissions skipped)."""
        deadline = time.monotonic() + self.timeout
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65535).decode(errors="replace")
            except TimeoutError:
                break
            m = re.match(r"SIP/2\.0 (\d{3})", data)
            if m and int(m.group(1)) >= 200 and re.search(rf"^CSeq:\s*{cseq}\s", data, re.M | re.I):
                return data
        return ""

    def register(self, user: str, password: str, expires: int = 60, call_id: str | None = None) -> int:
        """REGISTER as `user` (challenge, then digest with `password`); the final code, 0 if no answer.

        `call_id` (any text, quotes included, as RFC 3261 allows) is random unless given."""
        call_id = call_id or f"{secrets.token_hex(8)}@{self.source}"
        first = self._request(user, call_id, 1, expires)
        code = int(first[8:11]) if first else 0
        if code != 401:
            return code
        m = re.search(r"^WWW-Authenticate:\s*Digest\s+(.*)$", first, re.M | re.I)
        if not m:
            return code
        ch = _challenge(m.group(1))
        uri = f"sip:{self.host}:{self.port}"
        ha1 = _md5(f"{user}:{ch['realm']}:{password}")
        ha2 = _md5(f"REGISTER:{uri}")
        fields = [f'username="{user}"', f'realm="{ch["realm"]}"', f'nonce="{ch["nonce"]}"', f'uri="{uri}"']
        if "auth" in ch.get("qop", "").split(","):
            cnonce, nc = secrets.token_hex(8), "00000001"
            response = _md5(f"{ha1}:{ch['nonce']}:{nc}:{cnonce}:auth:{ha2}")
            fields += [f'response="{response}"', "qop=auth", f'cnonce="{cnonce}"', f"nc={nc}"]
        else:
            response = _md5(f"{ha1}:{ch['nonce']}:{ha2}")
            fields.append(f'response="{response}"')
        if "opaque" in ch:
            fields.append(f'opaque="{ch["opaque"]}"')
        fields.append("algorithm=MD5")
        final = self._request(user, call_id, 2, expires, "Digest " + ", ".join(fields))
        return int(final[8:11]) if final else 0
