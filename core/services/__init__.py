"""Use cases: validate → authorise → store → audit → notify."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Settings
from core.events import EventBus
from core.services.audit import AuditService
from core.services.auth import AuthService
from core.services.caller_lists import CallerListService
from core.services.calls import CallHistory
from core.services.extensions import ExtensionService
from core.services.forwarding import ForwardingService
from core.services.groups import GroupService
from core.services.ivr import IvrService
from core.services.live_calls import LiveCallService
from core.services.missed import MissedCallService
from core.services.outbox import OutboxService
from core.services.provisioning import Provisioner
from core.services.queues import QueueService
from core.services.recordings import RecordingService
from core.services.schedules import ScheduleService
from core.services.security import SecurityService
from core.services.stats import StatsService
from core.services.tokens import TokenService
from core.services.trunks import TrunkService
from core.services.users import UserService
from core.services.webhooks import WebhookService


@dataclass(frozen=True)
class Services:
    """Every use case, wired once: the daemon, the API and the CLI all use the same set."""

    auth: AuthService
    extensions: ExtensionService
    forwarding: ForwardingService
    trunks: TrunkService
    caller_lists: CallerListService
    groups: GroupService
    ivrs: IvrService
    queues: QueueService
    recordings: RecordingService
    schedules: ScheduleService
    history: CallHistory
    security: SecurityService
    live_calls: LiveCallService  # its call engine is attached by the daemon
    users: UserService
    tokens: TokenService
    audit: AuditService
    webhooks: WebhookService
    outbox: OutboxService
    missed: MissedCallService
    stats: StatsService

    @classmethod
    def build(cls, settings: Settings, bus: EventBus, provisioner: Provisioner | None = None) -> Services:
        """The services over one event bus; with a provisioner, changes reach Asterisk at once."""
        auth = AuthService()
        country = settings.calls.country  # numbers people type are read as national numbers there
        return cls(
            auth=auth,
            extensions=ExtensionService(auth, bus, provisioner, country),
            forwarding=ForwardingService(auth, bus, country),
            trunks=TrunkService(auth, bus, provisioner, country),
            caller_lists=CallerListService(auth, bus, country),
            groups=GroupService(auth, bus, country),
            ivrs=IvrService(auth, bus, settings.sounds_dir, country),
            queues=QueueService(auth, bus, country),
            recordings=RecordingService(
                auth, bus, settings.recordings_dir, settings.recording.format, country
            ),
            schedules=ScheduleService(auth, bus, country),
            history=CallHistory(auth),
            security=SecurityService(settings.security, settings.security_log, auth, bus),
            live_calls=LiveCallService(auth, bus, country),
            users=UserService(auth, bus),
            tokens=TokenService(auth, bus),
            audit=AuditService(auth),
            webhooks=WebhookService(auth, bus, settings.webhooks),
            outbox=OutboxService(auth, bus),
            missed=MissedCallService(auth, bus),
            stats=StatsService(auth, settings.stats),
        )
