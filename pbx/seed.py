"""The sample organisation `pbx up` and `pbx seed` create on an empty PBX: phones 101–105, a support
queue on 600 and a main menu on 500."""

from __future__ import annotations

from typing import Any

from core.config import Settings

SAMPLE_EXTENSIONS = [
    ("101", "Reception"),
    ("102", "Sales"),
    ("103", "Support"),
    ("104", "Accounts"),
    ("105", "Manager"),
]
# A core sound of about 2 s ("Please enter the number you wish to call"): a caller who presses nothing
# reaches the fallback after 3 plays and timeouts (~20 s), not after minutes of a long demo recording.
SAMPLE_PROMPT = "sound:vm-enter-num-to-call"


async def seed_sample(s: Settings) -> list[dict[str, Any]]:
    """Create the sample organisation once; returns the new numbers with their passwords."""
    from core.db import database
    from core.events import EventBus
    from core.models import Extension, Organisation
    from core.services import Services
    from core.services.auth import SYSTEM, AuthService

    async with database(s):
        await Organisation.get_or_create(name=s.organisation)
        auth = AuthService()
        await auth.ensure_user("admin", "admin", s.api.token)
        if await Extension.exists():
            return []
        services = Services.build(s, EventBus())
        added = [await services.extensions.add(SYSTEM, n, name) for n, name in SAMPLE_EXTENSIONS]
        # a support queue (600) and a main menu (500) to try: 1 sales, 2 support, 0 reception
        await services.queues.save(
            SYSTEM, "support", number="600", strategy="longest_idle", overflow="voicemail:103"
        )
        for agent in ("103", "104"):
            await services.queues.add_agent(SYSTEM, "support", agent)
        await services.ivrs.save(
            SYSTEM, "main", prompt=SAMPLE_PROMPT, number="500", direct_dial=True, fallback="ext:101"
        )
        for key, destination in (("1", "ext:102"), ("2", "queue:support"), ("0", "ext:101")):
            await services.ivrs.set_option(SYSTEM, "main", key, destination)
        return [{"number": v.number, "name": v.name, "sip_password": v.sip_password} for v in added]
