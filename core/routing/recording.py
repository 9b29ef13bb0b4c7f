"""Recording: whether a call is recorded, by the policies of what it passes through. No I/O."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum


class RecordingPolicy(StrEnum):
    """Whether calls are recorded: by the number, group or public number they pass through."""

    NEVER = "never"
    ON_DEMAND = "on_demand"  # when someone asks during the call (API, console)
    ALWAYS = "always"


def recording_policy(policies: Sequence[str]) -> RecordingPolicy:
    """The policy of a call: the strongest of the policies of everything it passed through."""
    order = list(RecordingPolicy)
    return max((RecordingPolicy(p) for p in policies), key=order.index, default=RecordingPolicy.NEVER)
