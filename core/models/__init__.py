"""Domain models (tortoise-orm), a module per feature. Queries live in core/services, never here.

Tortoise finds the models of the app in this module (the names below), so every model is listed here.
"""

from core.models.accounts import ApiToken, Organisation, User
from core.models.caller_lists import BlacklistEntry, PolicySetting, WhitelistEntry
from core.models.calls import Call, CallLeg, MissedCall, Recording, Voicemail
from core.models.extensions import Extension, ForwardingRule
from core.models.groups import Group, GroupMember
from core.models.ivr import Ivr
from core.models.notify import OutboxAttempt, OutboxItem, WebhookSubscription
from core.models.queues import AgentSession, Queue, QueueAgent, QueueCall
from core.models.records import AuditEntry, EventRecord, Projection
from core.models.schedules import Schedule, ScheduleHoliday, ScheduleWindow
from core.models.security import SecurityBan
from core.models.trunks import InboundRoute, Trunk

__all__ = [
    "AgentSession",
    "ApiToken",
    "AuditEntry",
    "BlacklistEntry",
    "Call",
    "CallLeg",
    "EventRecord",
    "Extension",
    "ForwardingRule",
    "Group",
    "GroupMember",
    "InboundRoute",
    "Ivr",
    "MissedCall",
    "Organisation",
    "OutboxAttempt",
    "OutboxItem",
    "PolicySetting",
    "Projection",
    "Queue",
    "QueueAgent",
    "QueueCall",
    "Recording",
    "Schedule",
    "ScheduleHoliday",
    "ScheduleWindow",
    "SecurityBan",
    "Trunk",
    "User",
    "Voicemail",
    "WebhookSubscription",
    "WhitelistEntry",
]
