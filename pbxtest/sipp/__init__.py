"""Asyncio harness over the sipp binary: registered test phones, test calls, call bursts and a carrier trunk.

Used by the integration tests and the benchmark. The modules, by role:

* ``process``: running one sipp child process (free ports, logs, timeouts); scenarios in ``scenarios/``;
* ``messages``: reading sipp's message traces (SIP messages, call summaries, what the carrier received)
  and the final codes each scenario counts as ok;
* ``phone``: ``SippPhone``, a registered phone answering (or not) the PBX's calls;
* ``calls``: ``place_call`` and ``run_calls``, calls placed with a phone's credentials;
* ``carrier``: the trunk's carrier on 127.0.0.2: ``place_carrier_call`` from the public network and
  ``SippCarrier``, the carrier's side of outbound calls (optionally a registrar);
* ``rtp_pcap``: the RTP audio some scenarios play.
"""

from .calls import CALL_SCENARIOS, LONG_AUDIO_SECONDS, place_call, run_calls
from .carrier import (
    ANONYMOUS_FROM,
    CARRIER_BEHAVIOURS,
    CARRIER_CALL_SCENARIOS,
    CARRIER_IP,
    SippCarrier,
    carrier_from_addr,
    place_carrier_call,
)
from .messages import (
    CARRIER_FAILURE_CODES,
    FAILURE_CODES,
    CallResult,
    CallSummary,
    CarrierInvite,
    CarrierRequest,
    SipMessage,
    parse_carrier_invites,
    parse_carrier_requests,
    parse_message_log,
    summarize_calls,
)
from .phone import PHONE_BEHAVIOURS, SippPhone
from .process import SCENARIO_DIR, SIPP_BIN, SippError, SippProcess, free_port_pair, free_udp_port
from .rtp_pcap import write_rtp_pcap

__all__ = [
    "ANONYMOUS_FROM",
    "CALL_SCENARIOS",
    "CARRIER_BEHAVIOURS",
    "CARRIER_CALL_SCENARIOS",
    "CARRIER_FAILURE_CODES",
    "CARRIER_IP",
    "FAILURE_CODES",
    "LONG_AUDIO_SECONDS",
    "PHONE_BEHAVIOURS",
    "SCENARIO_DIR",
    "SIPP_BIN",
    "CallResult",
    "CallSummary",
    "CarrierInvite",
    "CarrierRequest",
    "SipMessage",
    "SippCarrier",
    "SippError",
    "SippPhone",
    "SippProcess",
    "carrier_from_addr",
    "free_port_pair",
    "free_udp_port",
    "parse_carrier_invites",
    "parse_carrier_requests",
    "parse_message_log",
    "place_call",
    "place_carrier_call",
    "run_calls",
    "summarize_calls",
    "write_rtp_pcap",
]
