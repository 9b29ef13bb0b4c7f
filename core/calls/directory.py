"""The in-memory views every call reads, so routing waits on neither the database nor ARI.

`extensions` are the internal numbers (loaded at start, then kept in step by domain events);
`endpoints` the registration state of each PJSIP endpoint ("online" / "offline"), from ARI.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from core.events import DomainEvent, ExtensionAdded, ExtensionRemoved, ExtensionUpdated, ForwardingChanged
from core.routing import ExtensionInfo, OutboundPermission, forward_rules


@dataclass
class Directory:
    """Internal numbers and who is registered."""

    extensions: dict[str, ExtensionInfo] = field(default_factory=dict)
    endpoints: dict[str, str] = field(default_factory=dict)

    def get(self, number: str) -> ExtensionInfo | None:
        return self.extensions.get(number)

    def online(self, number: str) -> bool:
        return self.endpoints.get(number) == "online"

    def can_take_a_call(self, number: str) -> bool:
        """Enabled, not on do-not-disturb, and registered (a group rings only such members)."""
        info = self.extensions.get(number)
        return bool(info and info.enabled and not info.dnd and self.online(number))

    def enabled_numbers(self) -> list[str]:
        return [number for number, info in self.extensions.items() if info.enabled]

    def endpoint_changed(self, resource: str, state: str) -> bool:
        """Note an endpoint's new state; whether it changed (most reports are calls coming and going)."""
        if self.endpoints.get(resource) == state:
            return False
        self.endpoints[resource] = state
        return True

    def apply(self, event: DomainEvent) -> None:
        """Keep the internal numbers in step with changes to them and their forwarding."""
        known = self.extensions.get(getattr(event, "number", ""))
        if isinstance(event, ExtensionAdded | ExtensionUpdated):
            self.extensions[event.number] = ExtensionInfo(
                event.number,
                event.name,
                event.enabled,
                event.dnd,
                known.forwarding if known else {},
                OutboundPermission(event.outbound),
                event.external_caller_id,
                event.recording,
            )
        elif isinstance(event, ExtensionRemoved):
            self.extensions.pop(event.number, None)
        elif isinstance(event, ForwardingChanged) and known:
            self.extensions[event.number] = replace(known, forwarding=forward_rules(event.rules))
