"""Table of internal numbers."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from console.records import ExtensionEntry


class ExtensionsTable(DataTable[str | Text]):
    """Internal numbers: enabled, and whether a phone is registered."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.border_title = "Extensions"
        self.add_column("Number", key="number")
        self.add_column("Name", key="name")
        self.add_column("Enabled", key="enabled")
        self.add_column("Registered", key="registered")

    def show(self, extensions: list[ExtensionEntry]) -> None:
        """Replace the rows with these internal numbers."""
        self.clear()
        for ext in extensions:
            self.add_row(
                ext.number,
                ext.name,
                Text("yes", style="green") if ext.enabled else Text("no", style="red"),
                self._registered(ext.registered),
                key=ext.number,
            )
        registered = sum(1 for ext in extensions if ext.registered)
        self.border_subtitle = f"{registered}/{len(extensions)} registered"

    @staticmethod
    def _registered(value: bool | None) -> Text:
        if value is None:
            return Text("unknown", style="dim")
        return Text("yes", style="green") if value else Text("no", style="dim")
