"""Password-guessing protection: failed SIP authentications counted, guessing addresses banned in Asterisk.

Asterisk writes its security events to a JSON log (logger.conf `security.log => [json]security`); the
daemon follows it, counts refused requests per source address and per number, and bans an address that
failed `security.ban_after` times within `security.ban_window` seconds for `security.ban_seconds`. A ban
is a PJSIP ACL object (res_pjsip_acl, `deny=<address>`) pushed over ARI like the phones: Asterisk then
answers that address 403 before any authentication. Bans are kept in the database, pushed again on every
ARI (re)connect, and lifted (ACL deleted) when they expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.ari.client import AriClient, AriError, AriRefused
from core.config import SecuritySettings
from core.errors import InvalidInput, NotFound
from core.events import EventBus, SecurityAlert, SecurityBanLifted
from core.models import SecurityBan
from core.security import AuthFailure, Ban, FailureTracker, LogFollower, NumberAlert, parse_line
from core.security.log import is_plain_security_line, normalise_address
from core.services.auth import SYSTEM, Actor, AuthService
from core.services.scoping import authorize_org

logger = logging.getLogger(__name__)

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
EXPIRY_CHECK = 1.0  # seconds between checks for bans to lift


def acl_id(address: str) -> str:
    """The PJSIP ACL object of a banned address (dots and colons are kept out of the URL)."""
    version = ipaddress.ip_address(address).version
    return f"ban-v{version}-" + address.replace(".", "-").replace(":", "_")


def acl_fields(address: str) -> dict[str, str]:
    """The ACL object refusing exactly `address`."""
    bits = 32 if ipaddress.ip_address(address).version == 4 else 128
    return {"deny": f"{address}/{bits}"}


@dataclass(frozen=True)
class BanView:
    """A ban as lists and the API show it."""

    address: str
    until: datetime
    failures: int
    numbers: list[str]


class SecurityService:
    """Counts failures, bans and lifts bans, alerts; `client` is set while ARI is connected."""

    def __init__(
        self,
        settings: SecuritySettings,
        log_file: Path | None,
        auth: AuthService,
        bus: EventBus,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.log_file = log_file
        self._auth, self._bus, self._clock = auth, bus, clock
        self.client: AriClient | None = None
        self.tracker = FailureTracker(settings.ban_after, settings.ban_window, settings.number_alert_after)
        self._exempt = [ipaddress.ip_network(n) for n in settings.exempt]
        if settings.exempt_loopback:
            self._exempt += LOOPBACK
        self._bans: dict[str, datetime] = {}  # address → until (expired ones stay until Asterisk lifted them)
        self._warned_format = False
        self.follower = LogFollower(log_file, self.handle_line) if log_file else None

    # -- the daemon's side ----------------------------------------------------------------------------
    async def load(self) -> None:
        """Take the bans of the previous run (they are pushed to Asterisk on connect)."""
        self._bans = {row.address: row.until for row in await SecurityBan.all()}

    async def run(self) -> None:
        """Follow the security log and lift expired bans, until cancelled."""
        if self.follower is None:
            logger.warning(
                "password-guessing protection is off: set security.log_file to the security log of "
                "your Asterisk (logger.conf: security.log => [json]security)"
            )
        async with asyncio.TaskGroup() as tg:
            if self.follower is not None:
                tg.create_task(self.follower.run(), name="security-log")
            tg.create_task(self._expire_forever(), name="security-expiry")

    async def _expire_forever(self) -> None:
        while True:
            await asyncio.sleep(EXPIRY_CHECK)
            try:
                await self.lift_expired()
            except Exception:  # the database or Asterisk is away: try again at the next check
                logger.exception("lifting expired bans failed")

    async def push_all(self, client: AriClient) -> None:
        """On (re)connect: push every active ban, lift the ones that expired meanwhile. A ban Asterisk
        refuses is logged, never allowed to stop the connection (calls matter more)."""
        now = datetime.now(UTC)
        for address, until in list(self._bans.items()):
            try:
                if until > now:
                    await _push_acl(client, address)
                else:
                    await self._lift(address, client, SYSTEM, "expired")
            except AriError as exc:
                logger.warning(
                    "Asterisk refused the ban of %s (%s): does sorcery.conf have an [acl] memory wizard?",
                    address,
                    exc,
                )
        if self._bans:
            logger.info("pushed %d address bans", sum(u > now for u in self._bans.values()))

    async def lift_expired(self) -> None:
        """Lift every ban whose time is over (when Asterisk is connected; else at the next connect)."""
        client = self.client
        if client is None:
            return
        now = datetime.now(UTC)
        for address, until in list(self._bans.items()):
            if until <= now:
                try:
                    await self._lift(address, client, SYSTEM, "expired")
                except AriError as exc:  # tried again at the next check, or at the next connect
                    logger.debug("could not lift the ban of %s yet: %s", address, exc)

    # -- counting -------------------------------------------------------------------------------------
    async def handle_line(self, line: str) -> None:
        """One line of the security log."""
        failure = parse_line(line)
        if failure is not None:
            await self.handle(failure)
        elif not self._warned_format and is_plain_security_line(line):
            self._warned_format = True
            logger.warning(
                "%s holds security events in Asterisk's plain format, which a SIP user name can forge: "
                "they are ignored; configure logger.conf with: security.log => [json]security",
                self.log_file,
            )

    def is_exempt(self, address: str) -> bool:
        """Whether `address` is never banned (security.exempt, security.exempt_loopback)."""
        ip = ipaddress.ip_address(address)
        return any(ip in net for net in self._exempt)

    def is_banned(self, address: str) -> bool:
        """Whether `address` is banned right now."""
        until = self._bans.get(address)
        return until is not None and until > datetime.now(UTC)

    async def handle(self, failure: AuthFailure) -> None:
        """Count one failed authentication; ban or alert when a threshold is reached."""
        if self.is_banned(failure.address):
            return  # logged before Asterisk had the ban
        decisions = self.tracker.record(failure, self._clock(), exempt=self.is_exempt(failure.address))
        for decision in decisions:
            if isinstance(decision, Ban):
                await self._ban(decision)
            else:
                await self._alert(decision)

    async def _ban(self, ban: Ban) -> None:
        until = datetime.now(UTC) + timedelta(seconds=self.settings.ban_seconds)
        numbers = list(ban.numbers)
        await SecurityBan.update_or_create(
            address=ban.address, defaults={"until": until, "failures": ban.failures, "numbers": numbers}
        )
        self._bans[ban.address] = until
        if self.client is not None:
            try:
                await _push_acl(self.client, ban.address)
            except AriError as exc:  # stored: pushed at the next connect
                logger.warning("could not push the ban of %s to Asterisk yet: %s", ban.address, exc)
        logger.warning(
            "banned %s for %d s after %d failed SIP authentications within %d s (numbers tried: %s)",
            ban.address,
            self.settings.ban_seconds,
            ban.failures,
            self.settings.ban_window,
            ", ".join(numbers) or "unknown ones",
        )
        detail = {"failures": ban.failures, "numbers": numbers, "until": until.isoformat()}
        await self._auth.audit(SYSTEM, "security.ban", ban.address, detail)
        await self._bus.publish(
            SecurityAlert(
                kind="ban", address=ban.address, failures=ban.failures, numbers=numbers, until=until
            )
        )

    async def _alert(self, alert: NumberAlert) -> None:
        logger.warning(
            "internal number %s had %d failed SIP authentications within %d s from %s",
            alert.number,
            alert.failures,
            self.settings.ban_window,
            ", ".join(alert.addresses),
        )
        await self._bus.publish(
            SecurityAlert(
                kind="failures_per_number",
                number=alert.number,
                failures=alert.failures,
                addresses=list(alert.addresses),
            )
        )

    async def _lift(self, address: str, client: AriClient, actor: Actor, reason: str) -> None:
        await client.delete_config("acl", acl_id(address))  # AriError: still banned, tried again later
        await SecurityBan.filter(address=address).delete()
        self._bans.pop(address, None)
        self.tracker.forget(address)
        logger.info("lifted the ban of %s (%s)", address, reason)
        await self._lifted(actor, address, reason)

    async def _lifted(self, actor: Actor, address: str, reason: str) -> None:
        await self._auth.audit(actor, "security.unban", address, {"reason": reason})
        await self._bus.publish(SecurityBanLifted(address=address, reason=reason, actor=actor.name))

    # -- what people can ask --------------------------------------------------------------------------
    async def bans(self, actor: Actor) -> list[BanView]:
        """The addresses banned right now, soonest lifted first."""
        await self._auth.authorize(actor, "security.read")
        now = datetime.now(UTC)
        rows = await SecurityBan.filter(until__gt=now).order_by("until")
        return [BanView(r.address, r.until, r.failures, list(r.numbers)) for r in rows]

    async def unban(self, actor: Actor, address: str) -> None:
        """Lift a ban now; when Asterisk is away, as soon as it is back."""
        await authorize_org(self._auth, actor, "security.write", address)
        canonical = normalise_address(address.strip())
        if canonical is None:
            raise InvalidInput(f"{address!r} is not an IP address (e.g. 203.0.113.7)")
        if (
            not self.is_banned(canonical)
            and not await SecurityBan.filter(address=canonical, until__gt=datetime.now(UTC)).exists()
        ):
            raise NotFound(f"{canonical} is not banned")
        now = datetime.now(UTC)
        await SecurityBan.filter(address=canonical).update(until=now)
        if self.client is not None:
            # lifted here and now; the expiry check must not lift it a second time meanwhile, so the
            # ban is marked expired only when Asterisk could not drop its ACL
            with contextlib.suppress(AriError):  # else lifted by the next expiry check
                await self._lift(canonical, self.client, actor, "by hand")
                return
        self._bans[canonical] = now  # expired: Asterisk's ACL goes at the next expiry check or connect
        # no longer banned here (announced once more when Asterisk has dropped its ACL)
        await self._lifted(actor, canonical, "by hand")


async def _push_acl(client: AriClient, address: str) -> None:
    try:
        await client.push_config("acl", acl_id(address), acl_fields(address))
    except AriRefused as exc:
        # Asterisk stores the ACL, then cannot echo it back (an ACL has no printable fields): ARI answers
        # 500 "Allocation failed" to every successful push of one
        if exc.status != 500 or "Allocation failed" not in str(exc):
            raise
