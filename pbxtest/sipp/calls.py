"""Calls placed by a registered phone's account (digest auth): one test call, or a benchmark burst.

Callers run ``call_<scenario>.xml``; all do INVITE -> 401 -> ACK -> INVITE + digest. The caller number is
``-key caller N`` and ``-au N -ap PW``, the dialled number is ``-s``; hold times are ``-d`` ms.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .messages import EXPECTED_FINAL, CallResult, CallSummary, parse_message_log, summarize_calls
from .process import SippError, SippProcess, scenario_file
from .rtp_pcap import write_rtp_pcap

CALL_SCENARIOS = {
    "answered_caller_bye": "call_answered_caller_bye.xml",
    "answered_wait_bye": "call_answered_wait_bye.xml",
    "long_audio_caller_bye": "call_long_audio_caller_bye.xml",  # a template: LONG_AUDIO_SECONDS of RTP
    "expect_failure": "call_expect_failure.xml",
    "cancel": "call_cancel.xml",
    "bench": "call_bench.xml",
    "dtmf_caller_bye": "call_dtmf_caller_bye.xml",  # a template: place_call(dtmf=...) fills it
}


def _caller_args(
    sipp: SippProcess,
    scenario: str,
    caller: str,
    password: str,
    dialled: str,
    remote: str,
    local_ip: str,
    hold_ms: int,
    recv_timeout_ms: int,
    *extra: str,
) -> list[str]:
    return sipp.args(
        scenario,
        local_ip,
        remote,
        "-key",
        "caller",
        caller,
        "-s",
        dialled,
        "-au",
        caller,
        "-ap",
        password,
        "-d",
        str(hold_ms),
        "-recv_timeout",
        str(recv_timeout_ms),  # an unanswered recv fails (CANCEL/BYE) the call
        *extra,
    )


async def place_call(
    caller: str,
    password: str,
    dialled: str,
    pbx_sip_port: int,
    scenario: str = "answered_caller_bye",
    *,
    hold_ms: int = 1000,
    timeout: float | None = None,
    pbx_host: str = "127.0.0.1",
    local_ip: str = "127.0.0.1",
    dtmf: Sequence[tuple[int, str]] = (),
) -> CallResult:
    """Place one call from phone ``caller`` (digest auth with ``password``) to ``dialled``.

    ``scenario``: answered_caller_bye (hold ``hold_ms`` then BYE), answered_wait_bye (wait up to 60 s for
    the PBX's BYE), expect_failure (any failure code; 200 fails), cancel (CANCEL 1 s after 180), bench,
    dtmf_caller_bye (once answered, for each ``(pause_ms, keys)`` of ``dtmf``: wait, then press the keys
    as RFC 4733 events; then hold ``hold_ms`` and BYE).
    ``ok`` = sipp exited 0 and the final code is what the scenario expects (200, a failure, 487).
    Never raises for a failed call (see ``CallResult.check``); the process is killed after ``timeout`` s.
    """
    xml = CALL_SCENARIOS[scenario]
    if timeout is None:
        timeout = 75.0 if scenario == "answered_wait_bye" else hold_ms / 1000 + 20.0
        timeout += sum(pause for pause, _ in dtmf) / 1000
        timeout += LONG_AUDIO_SECONDS if scenario == "long_audio_caller_bye" else 0
    with tempfile.TemporaryDirectory(prefix="sipp-call-") as wd:
        sipp = SippProcess(Path(wd), "call")
        if scenario == "dtmf_caller_bye":
            xml = str(_dtmf_scenario(Path(wd), dtmf))
        elif scenario == "long_audio_caller_bye":
            xml = str(_long_audio_scenario(Path(wd)))
        rc = await sipp.run(
            _caller_args(
                sipp,
                xml,
                caller,
                password,
                dialled,
                f"{pbx_host}:{pbx_sip_port}",
                local_ip,
                hold_ms,
                max(1000, int(timeout * 1000) - 2000),
                "-m",
                "1",
            ),
            timeout,
        )
        text, err = sipp.message_log(), sipp.stderr_tail()
    if rc is None:
        err = f"sipp killed after {timeout:.1f} s timeout\n{err}"
    calls = list(summarize_calls(parse_message_log(text)).values())
    s = calls[0] if calls else CallSummary("", [], None, None)
    ok = rc == 0 and s.final_code in EXPECTED_FINAL[scenario]
    return CallResult(ok, s.final_code, s.codes_seen, s.setup_ms, rc, err, text, scenario)


_DTMF_KEYS = re.compile(r"^[0-9*#]{1,20}$")


def _dtmf_scenario(workdir: Path, dtmf: Sequence[tuple[int, str]]) -> Path:
    """The DTMF call scenario with its steps filled in: a pause, then the keys (sipp's play_dtmf)."""
    if not dtmf:
        raise ValueError("dtmf_caller_bye needs dtmf=[(pause_ms, keys), ...]")
    steps = []
    for pause_ms, keys in dtmf:
        if not _DTMF_KEYS.fullmatch(keys) or pause_ms < 0:
            raise ValueError(f"bad DTMF step {(pause_ms, keys)!r}")
        # play_dtmf plays in its own thread, after 400 ms of filler packets, 250 ms per key by default
        steps.append(f'  <pause milliseconds="{pause_ms}"/>')
        steps.append(f'  <nop><action><exec play_dtmf="{keys}"/></action></nop>')
    template = scenario_file(CALL_SCENARIOS["dtmf_caller_bye"]).read_text()
    path = workdir / "call_dtmf.xml"
    path.write_text(template.replace("@DTMF_STEPS@", "\n".join(steps)))
    return path


#: how long the caller of long_audio_caller_bye talks before its hold
LONG_AUDIO_SECONDS = 30


def _long_audio_scenario(workdir: Path) -> Path:
    """The long-audio call scenario with its pcap written next to it."""
    pcap = write_rtp_pcap(workdir / "long_audio.pcap", LONG_AUDIO_SECONDS)
    template = scenario_file(CALL_SCENARIOS["long_audio_caller_bye"]).read_text()
    path = workdir / "call_long_audio.xml"
    filled = template.replace("@PCAP@", str(pcap)).replace("@AUDIO_MS@", str(LONG_AUDIO_SECONDS * 1000))
    path.write_text(filled.replace("@AUDIO_SECONDS@", str(LONG_AUDIO_SECONDS)))
    return path


async def run_calls(
    caller: str,
    password: str,
    dialled: str,
    pbx_sip_port: int,
    n: int,
    rate: float = 10.0,
    *,
    hold_ms: int = 200,
    timeout: float | None = None,
    pbx_host: str = "127.0.0.1",
    local_ip: str = "127.0.0.1",
) -> list[float]:
    """Benchmark: ``n`` calls with call_bench.xml in ONE sipp run (``-m n -r rate``), each answered, held
    ``hold_ms`` and hung up by the caller. Returns the per-call set-up times (INVITE+auth sent -> 200
    received, ms) in call order. Raises SippError (partial times in ``.setup_ms``) unless all n succeed."""
    if timeout is None:
        timeout = n / rate + hold_ms / 1000 + 30.0
    with tempfile.TemporaryDirectory(prefix="sipp-bench-") as wd:
        sipp = SippProcess(Path(wd), "bench")
        args = _caller_args(
            sipp,
            CALL_SCENARIOS["bench"],
            caller,
            password,
            dialled,
            f"{pbx_host}:{pbx_sip_port}",
            local_ip,
            hold_ms,
            10000,
            "-m",
            str(n),
            "-r",
            str(rate),
        )
        rc = await sipp.run(args, timeout)
        text, err = sipp.message_log(), sipp.stderr_tail()
    calls = summarize_calls(parse_message_log(text)).values()
    times = [c.setup_ms for c in calls if c.setup_ms is not None]
    if rc != 0 or len(times) != n:
        why = f"killed after {timeout:.1f} s timeout" if rc is None else f"{len(times)}/{n} calls answered"
        raise SippError(
            f"benchmark run failed: {why}", returncode=rc, stderr_tail=err, message_log=text, setup_ms=times
        )
    return times
