"""Pushes internal numbers and trunks into Asterisk's PJSIP at run time (sorcery memory objects, no reload).

Pushed objects live in Asterisk's memory only, so everything is pushed again on every (re)connect.
They don't inherit templates: every field is sent explicitly.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging

from core.ari.client import AriClient, AriError, AriRefused
from core.models import Extension, Trunk

logger = logging.getLogger(__name__)

ENDPOINT_EVENTS = "endpoint:PJSIP"  # registration changes of every phone
#: Asterisk parses an endpoint's callerid into an 80-byte buffer: a longer name is cut, mid-character
#: for non-Latin names, and the broken UTF-8 then fails every ARI answer that carries it (HTTP 500)
CALLER_NAME_MAX_BYTES = 79


#: the realm of phones' digest authentication; the stored digests are bound to it (changing it would
#: need every phone's password set again)
SIP_REALM = "chatops-pbx"


def sip_digest(number: str, password: str) -> str:
    """What is stored of a phone's password: HA1 = MD5(number:realm:password), as Asterisk's md5_cred.
    MD5 is what every SIP phone computes; the plain password is never kept."""
    return hashlib.md5(f"{number}:{SIP_REALM}:{password}".encode(), usedforsecurity=False).hexdigest()


def caller_name(name: str) -> str:
    """A display name as Asterisk can keep it: at most CALLER_NAME_MAX_BYTES bytes, cut between
    characters (names are validated to fit; this guards rows stored before that check)."""
    return name.encode()[:CALLER_NAME_MAX_BYTES].decode(errors="ignore")


def endpoint_fields(ext: Extension, bind: str, context: str = "from-internal") -> dict[str, dict[str, str]]:
    """The auth, aor and endpoint objects of a phone account, in push order.

    `context` is where its calls go in the dialplan: `from-internal` hands them to our Stasis app.
    """
    endpoint = {
        "context": context,
        "disallow": "all",
        "allow": "ulaw,alaw,gsm",
        "direct_media": "no",
        "rtp_symmetric": "yes",
        "force_rport": "yes",
        "rewrite_contact": "yes",
        "dtmf_mode": "rfc4733",
        "auth": ext.number,
        "aors": ext.number,
        # a phone is known by the user it sends, and must then prove it with its password
        "identify_by": "username,auth_username",
        "callerid": f'"{caller_name(ext.name) or ext.number}" <{ext.number}>',
    }
    if _is_loopback(bind):  # a lab/demo PBX: keep RTP on the loopback too
        endpoint["media_address"] = bind
        endpoint["bind_rtp_to_media_address"] = "yes"
    return {
        "auth": {"auth_type": "md5", "username": ext.number, "realm": SIP_REALM, "md5_cred": ext.sip_digest},
        "aor": {"max_contacts": "1", "remove_existing": "yes", "qualify_frequency": "0"},
        "endpoint": endpoint,
    }


def trunk_endpoint_id(name: str) -> str:
    """The PJSIP endpoint of a trunk (prefixed, so it can never clash with an internal number)."""
    return f"trunk-{name}"


# How a trunk's registration behaves at the carrier (seconds). Temporary failures are retried for ever
# rather than the default 10 times: a carrier outage must not end the registration for good. A rejected
# password stays rejected (auth_rejection_permanent, the default) until the trunk is pushed again, so a
# wrong password never hammers the carrier.
REGISTRATION_EXPIRATION = 600
REGISTRATION_RETRY = 60
REGISTRATION_FORBIDDEN_RETRY = 600
REGISTRATION_MAX_RETRIES = 100000


def trunk_fields(trunk: Trunk, bind: str) -> dict[str, dict[str, str]]:
    """The PJSIP objects of a trunk, in push order (all named after `trunk_endpoint_id`).

    Every trunk: aor, endpoint and identify (calls from its host are its calls). With credentials also an
    outbound `auth` the endpoint answers the carrier's challenges with; with `register` also a
    `registration` at the carrier, whose inbound calls (`line`) are matched to the trunk's endpoint.
    """
    endpoint_id = trunk_endpoint_id(trunk.name)
    endpoint = {
        "context": "from-trunk",
        # known by its source address only (the identify object below): a request that merely names the
        # trunk (From: trunk-carrier) must not match it, since a trunk has no password to challenge for
        "identify_by": "ip",
        "disallow": "all",
        "allow": "ulaw,alaw,gsm",
        "direct_media": "no",
        "rtp_symmetric": "yes",
        "force_rport": "yes",
        "rewrite_contact": "yes",
        "dtmf_mode": "rfc4733",
        "aors": endpoint_id,
        "send_pai": "yes",
        # no re-INVITEs to the carrier when the connected party changes (carriers reject or mishandle them)
        "send_connected_line": "no",
    }
    if _is_loopback(bind):
        endpoint["media_address"] = bind
        endpoint["bind_rtp_to_media_address"] = "yes"
    server = f"{sip_host(trunk.host)}:{trunk.port}"
    objects: dict[str, dict[str, str]] = {}
    credentials = trunk_credentials(trunk)
    if credentials:
        username, password = credentials
        objects["auth"] = {"auth_type": "userpass", "username": username, "password": password}
        endpoint["outbound_auth"] = endpoint_id
    objects["aor"] = {"contact": f"sip:{server}", "qualify_frequency": "0"}
    objects["endpoint"] = endpoint
    objects["identify"] = {"endpoint": endpoint_id, "match": trunk.host}
    if trunk.register and credentials:
        objects["registration"] = {
            "server_uri": f"sip:{server}",
            "client_uri": f"sip:{credentials[0]}@{server}",
            "contact_user": credentials[0],
            "outbound_auth": endpoint_id,
            "expiration": str(REGISTRATION_EXPIRATION),
            "retry_interval": str(REGISTRATION_RETRY),
            "forbidden_retry_interval": str(REGISTRATION_FORBIDDEN_RETRY),
            "fatal_retry_interval": str(REGISTRATION_FORBIDDEN_RETRY),
            "max_retries": str(REGISTRATION_MAX_RETRIES),
            "max_random_initial_delay": "0",  # register as soon as pushed
            "line": "yes",
            "endpoint": endpoint_id,
        }
    return objects


#: every object type a trunk may have, in removal order (the registration first: it unregisters)
TRUNK_OBJECT_TYPES = ("registration", "identify", "endpoint", "aor", "auth")
#: how long a removed trunk's credentials outlive it in Asterisk: removing its registration sends the
#: carrier a REGISTER with Expires: 0, which the carrier challenges like any other and Asterisk answers
#: with those credentials (deleted at once, the carrier would keep the stale registration until it expires)
UNREGISTER_GRACE = 5.0


def trunk_credentials(trunk: Trunk) -> tuple[str, str] | None:
    """The username and password the trunk answers the carrier's digest challenges with, if any."""
    if trunk.username and trunk.password:
        return trunk.username, trunk.password
    return None


def sip_host(host: str) -> str:
    """A host as written in a SIP URI (IPv6 addresses in brackets)."""
    return f"[{host}]" if ":" in host else host


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


class Provisioner:
    """Keeps Asterisk's PJSIP objects in step with the Extension table."""

    def __init__(self, bind: str) -> None:
        self._bind = bind
        self.client: AriClient | None = None  # set while ARI is connected
        #: what Asterisk refused at the last full provisioning ("internal number 106: ..."), for health
        self.failures: list[str] = []
        self.unregister_grace = UNREGISTER_GRACE
        self._trunk_lock = asyncio.Lock()
        self._later: set[asyncio.Task[None]] = set()

    async def push(self, ext: Extension, client: AriClient | None = None) -> bool:
        """Provision one number (or remove it when disabled). False when Asterisk is not connected."""
        client = client or self.client
        if client is None:
            return False
        if not ext.enabled:
            await self.remove(ext.number, client)
            return True
        for object_type, fields in endpoint_fields(ext, self._bind).items():
            await client.push_config(object_type, ext.number, fields)
        # Asterisk refuses a subscription to a technology with no endpoints: now there is one.
        await client.subscribe(ENDPOINT_EVENTS)
        return True

    async def remove(self, number: str, client: AriClient | None = None) -> bool:
        """Remove one number's objects. False when Asterisk is not connected."""
        client = client or self.client
        if client is None:
            return False
        for object_type in ("endpoint", "aor", "auth"):
            await client.delete_config(object_type, number)
        return True

    async def push_trunk(self, trunk: Trunk, client: AriClient | None = None) -> bool:
        """Provision one trunk. False when Asterisk is not connected."""
        client = client or self.client
        if client is None:
            return False
        async with self._trunk_lock:
            for object_type, fields in trunk_fields(trunk, self._bind).items():
                await client.push_config(object_type, trunk_endpoint_id(trunk.name), fields)
        return True

    async def remove_trunk(self, name: str, client: AriClient | None = None) -> bool:
        """Remove one trunk's objects. False when Asterisk is not connected."""
        client = client or self.client
        if client is None:
            return False
        async with self._trunk_lock:
            for object_type in TRUNK_OBJECT_TYPES[:-1]:
                await client.delete_config(object_type, trunk_endpoint_id(name))
        task = asyncio.create_task(self._forget_trunk_auth(name, client), name=f"forget-auth-{name}")
        self._later.add(task)
        task.add_done_callback(self._later.discard)
        return True

    async def close(self) -> None:
        """Stop the deferred removals (Asterisk forgets its memory objects when it stops anyway)."""
        for task in list(self._later):
            task.cancel()
        await asyncio.gather(*self._later, return_exceptions=True)

    async def _forget_trunk_auth(self, name: str, client: AriClient) -> None:
        """The trunk's auth object, UNREGISTER_GRACE s after the rest, unless the trunk is back by then."""
        await asyncio.sleep(self.unregister_grace)
        async with self._trunk_lock:
            if await Trunk.filter(name=name, enabled=True).exists():
                return  # added again meanwhile: push_trunk has put its (new) credentials
            try:
                await client.delete_config("auth", trunk_endpoint_id(name))
            except AriError as exc:  # Asterisk away: the object is gone from its memory anyway
                logger.info("trunk %s: its credentials stay in Asterisk until it restarts (%s)", name, exc)

    async def push_all(self, client: AriClient) -> int:
        """Provision every internal number and trunk; returns how many numbers are enabled.

        One object Asterisk refuses is reported and skipped: it never keeps the others (or the whole ARI
        start-up) from working. A failure to reach Asterisk at all still ends the attempt.
        """
        count, failures = 0, []
        for ext in await Extension.all().order_by("number"):
            try:
                await self.push(ext, client)
            except AriRefused as exc:
                failures.append(self._refused(f"internal number {ext.number}", exc))
            else:
                count += ext.enabled
        trunks = await Trunk.filter(enabled=True).order_by("name")
        for trunk in trunks:
            try:
                await self.push_trunk(trunk, client)
            except AriRefused as exc:
                failures.append(self._refused(f"trunk {trunk.name}", exc))
        self.failures = failures
        logger.info(
            "provisioned %d internal numbers and %d trunks%s",
            count,
            len(trunks) - sum(f.startswith("trunk ") for f in failures),
            f"; {len(failures)} refused by Asterisk" if failures else "",
        )
        return count

    @staticmethod
    def _refused(what: str, exc: AriRefused) -> str:
        logger.error("Asterisk refused %s, skipped: %s; fix it (pbx ext set / pbx trunk …)", what, exc)
        return f"{what}: {exc}"
