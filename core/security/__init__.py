"""Protection against SIP password guessing: Asterisk's security log read, failures counted, bans decided.

`log` turns a line of Asterisk's JSON security log into an `AuthFailure`; `tracker` counts failures per
address and per number and decides bans and alerts (pure, clock passed in); `follower` tails the log file
through rotations and restarts. `core/services/security.py` carries the decisions out (ban over ARI,
event, audit).
"""

from core.security.follower import LogFollower
from core.security.log import COUNTED_EVENTS, AuthFailure, parse_line
from core.security.tracker import Ban, FailureTracker, NumberAlert

__all__ = [
    "COUNTED_EVENTS",
    "AuthFailure",
    "Ban",
    "FailureTracker",
    "LogFollower",
    "NumberAlert",
    "parse_line",
]
