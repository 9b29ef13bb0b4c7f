"""The console's widgets. Each renders what it is given; none of them talks to the daemon."""

from console.widgets.calls import LiveCallsTable, RecentCallsTable
from console.widgets.connection import ConnectionBar
from console.widgets.extensions import ExtensionsTable

__all__ = ["ConnectionBar", "ExtensionsTable", "LiveCallsTable", "RecentCallsTable"]
