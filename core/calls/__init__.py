"""Carries routing decisions out over ARI: one task per call, never blocking the ARI event stream.

manager.py   Stasis entry points, the channel table, resync (and adoption.py: calls outliving a restart)
deps.py      CallDeps: everything a call uses that core/calls does not own (lookups, reports, log, ARI)
flow.py      one call's state and primitives, fail-safe; records.py its records, written in order
loop.py      the routing loop; steps/ what each decision does (dial, bridge, ivr, queue, voicemail)
media.py     what the caller hears; queues.py the queues' live state; directory.py, live.py the views
"""

from core.calls.deps import AriLink, CallDeps, CallLookups, CallReports, InboundRouteInfo
from core.calls.directory import Directory
from core.calls.live import LiveCall
from core.calls.manager import CallManager
from core.calls.steps.bridge import CallNotUp

__all__ = [
    "AriLink",
    "CallDeps",
    "CallLookups",
    "CallManager",
    "CallNotUp",
    "CallReports",
    "Directory",
    "InboundRouteInfo",
    "LiveCall",
]
