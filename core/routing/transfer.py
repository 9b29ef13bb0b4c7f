"""Where a phone's own transfer key (a blind SIP REFER) may send a call: the number it dialled, read
as if the phone had dialled it itself, so an internal number must exist and an outside number needs
the transferring phone's own outbound permission (a transfer is no way around it)."""

from __future__ import annotations

from collections.abc import Sequence

from core.routing.decisions import REFUSALS, Disposition, Refusal, TrunkInfo
from core.routing.destinations import Destination, DestinationKind, to_e164
from core.routing.forwarding import ExtensionInfo
from core.routing.outbound import decide_outbound, is_external, permission_needed


def refer_destination(
    dialled: str,
    transferer: ExtensionInfo | None,
    internal_exists: bool,
    country: str,
    local_prefixes: Sequence[str],
    trunk: TrunkInfo | None,
) -> Destination | Refusal:
    """The destination a blind transfer to `dialled` goes to, or why it may not. `internal_exists`:
    an internal number of that name is a phone, a menu or a queue."""
    if is_external(dialled):
        number = to_e164(dialled, country)
        if number is None:
            return REFUSALS[Disposition.INVALID_NUMBER]
        decision = decide_outbound(
            transferer, number, permission_needed(number, country, local_prefixes), trunk
        )
        return decision if isinstance(decision, Refusal) else Destination(DestinationKind.EXTERNAL, number)
    if not dialled.isdigit() or not internal_exists:  # feature codes are no destination either
        return REFUSALS[Disposition.UNKNOWN_NUMBER]
    return Destination(DestinationKind.EXTENSION, dialled)
