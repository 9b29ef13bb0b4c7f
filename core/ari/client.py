"""The operations core needs from Asterisk, over one asyncari connection.

Every operation is bounded in time: asyncari's HTTP client waits up to 600 s, and a call must never hang
on a wedged Asterisk. Operations on a channel that is already gone raise ChannelGone, which call flows
treat as "the other side hung up first".
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import anyio
import httpx

logger = logging.getLogger(__name__)

OP_TIMEOUT = 5.0


class AriError(Exception):
    """An ARI request failed (Asterisk unreachable, refused, or too slow)."""


class ChannelGone(AriError):
    """The channel or bridge no longer exists (HTTP 404)."""


class AriRefused(AriError):
    """Asterisk answered, and refused this one request (e.g. a configuration object it cannot take)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class AriClient(Protocol):
    """What core/calls may ask of Asterisk."""

    async def answer(self, channel_id: str) -> None: ...
    async def ring(self, channel_id: str) -> None: ...
    async def hangup(self, channel_id: str, reason: str = "normal") -> None: ...
    async def originate(
        self,
        endpoint: str,
        channel_id: str,
        app_args: str,
        caller_id: str,
        timeout: int,
        originator: str | None = None,
    ) -> None: ...
    async def create_bridge(self, bridge_id: str) -> None: ...
    async def add_to_bridge(self, bridge_id: str, channel_ids: list[str]) -> None: ...
    async def remove_from_bridge(self, bridge_id: str, channel_ids: list[str]) -> None: ...
    async def destroy_bridge(self, bridge_id: str) -> None: ...
    async def record_bridge(self, bridge_id: str, name: str, fmt: str) -> None: ...
    async def stop_recording(self, name: str) -> None: ...
    async def play(self, channel_id: str, media: str | list[str], playback_id: str | None = None) -> None: ...
    async def stop_playback(self, playback_id: str) -> None: ...
    async def start_moh(self, channel_id: str, moh_class: str) -> None: ...
    async def stop_moh(self, channel_id: str) -> None: ...
    async def ring_stop(self, channel_id: str) -> None: ...
    async def transfer_progress(self, channel_id: str, state: str) -> None: ...
    async def snoop(self, channel_id: str, snoop_id: str, spy: str, whisper: str, app_args: str) -> None: ...
    async def record_channel(
        self, channel_id: str, name: str, fmt: str, max_seconds: int, max_silence: int
    ) -> None: ...
    async def list_channels(self) -> list[dict[str, Any]]: ...
    async def list_endpoints(self, tech: str) -> list[dict[str, Any]]: ...
    async def subscribe(self, event_source: str) -> None: ...
    async def list_bridges(self) -> list[dict[str, Any]]: ...
    async def live_recording(self, name: str) -> bool: ...
    async def push_config(self, object_type: str, object_id: str, fields: dict[str, str]) -> None: ...
    async def delete_config(self, object_type: str, object_id: str) -> None: ...


def _status_of(exc: BaseException) -> int | None:
    for e in (exc, exc.__cause__, exc.__context__):
        if isinstance(e, httpx.HTTPStatusError):
            return e.response.status_code
    return None


class AsyncariClient:
    """AriClient over an asyncari client (channel/bridge operations) plus plain httpx (config, state).

    The dynamic-config and endpoint calls go through httpx because asyncari's swagger layer cannot
    send JSON bodies; both share the same credentials.
    """

    def __init__(self, ari: Any, http: httpx.AsyncClient, app: str) -> None:
        self._ari = ari
        self._http = http
        self.app = app

    async def _op(self, what: str, coro_fn: Any, **kwargs: Any) -> Any:
        try:
            with anyio.fail_after(OP_TIMEOUT):
                return await coro_fn(**kwargs)
        except TimeoutError:
            raise AriError(f"{what}: Asterisk did not answer within {OP_TIMEOUT:.0f} s") from None
        except Exception as exc:  # asyncari wraps HTTP errors in its own types
            if _status_of(exc) == 404:
                raise ChannelGone(f"{what}: {kwargs}") from None
            raise AriError(f"{what} failed: {exc!r}") from exc

    async def answer(self, channel_id: str) -> None:
        await self._op("answer", self._ari.channels.answer, channelId=channel_id)

    async def ring(self, channel_id: str) -> None:
        await self._op("ring", self._ari.channels.ring, channelId=channel_id)

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        await self._op("hangup", self._ari.channels.hangup, channelId=channel_id, reason=reason)

    async def originate(
        self,
        endpoint: str,
        channel_id: str,
        app_args: str,
        caller_id: str,
        timeout: int,
        originator: str | None = None,
    ) -> None:
        """Dial `endpoint` into our app (`app_args`); `originator`: the channel it is dialled for."""
        linked: dict[str, Any] = {"originator": originator} if originator else {}
        # a REFER on it (a phone's transfer key) comes to our app (core/calls/refer.py), as on the
        # channels the dialplan hands over (extensions.conf)
        linked["variables"] = {"PJSIP_TRANSFER_HANDLING()": "ari-only"}
        await self._op(
            "originate",
            self._ari.channels.originateWithId,
            channelId=channel_id,
            endpoint=endpoint,
            app=self.app,
            appArgs=app_args,
            callerId=caller_id,
            timeout=timeout,
            **linked,
        )

    async def create_bridge(self, bridge_id: str) -> None:
        await self._op("create bridge", self._ari.bridges.createWithId, bridgeId=bridge_id, type="mixing")

    async def add_to_bridge(self, bridge_id: str, channel_ids: list[str]) -> None:
        await self._op(
            "add to bridge", self._ari.bridges.addChannel, bridgeId=bridge_id, channel=",".join(channel_ids)
        )

    async def remove_from_bridge(self, bridge_id: str, channel_ids: list[str]) -> None:
        await self._op(
            "remove from bridge",
            self._ari.bridges.removeChannel,
            bridgeId=bridge_id,
            channel=",".join(channel_ids),
        )

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self._op("destroy bridge", self._ari.bridges.destroy, bridgeId=bridge_id)

    async def record_bridge(self, bridge_id: str, name: str, fmt: str) -> None:
        await self._op(
            "record bridge",
            self._ari.bridges.record,
            bridgeId=bridge_id,
            name=name,
            format=fmt,
            ifExists="overwrite",
        )

    async def stop_recording(self, name: str) -> None:
        await self._op("stop recording", self._ari.recordings.stop, recordingName=name)

    async def play(self, channel_id: str, media: str | list[str], playback_id: str | None = None) -> None:
        """Queue a playback of one or more media URIs in turn (the channel's later operations wait for
        it). With `playback_id`, its PlaybackFinished event can be told apart from others."""
        media = ",".join(media) if isinstance(media, list) else media
        if playback_id is None:
            await self._op("play", self._ari.channels.play, channelId=channel_id, media=media)
        else:
            await self._op(
                "play",
                self._ari.channels.playWithId,
                channelId=channel_id,
                playbackId=playback_id,
                media=media,
            )

    async def stop_playback(self, playback_id: str) -> None:
        await self._op("stop playback", self._ari.playbacks.stop, playbackId=playback_id)

    async def start_moh(self, channel_id: str, moh_class: str) -> None:
        await self._op("start moh", self._ari.channels.startMoh, channelId=channel_id, mohClass=moh_class)

    async def stop_moh(self, channel_id: str) -> None:
        await self._op("stop moh", self._ari.channels.stopMoh, channelId=channel_id)

    async def ring_stop(self, channel_id: str) -> None:
        await self._op("stop ringing", self._ari.channels.ringStop, channelId=channel_id)

    async def transfer_progress(self, channel_id: str, state: str) -> None:
        """Tell the phone that sent a REFER on `channel_id` how its transfer went (a NOTIFY with a SIP
        fragment): channel_progress, channel_answered (done: 200), channel_unavailable or
        channel_declined (refused: the phone keeps its call)."""
        path = f"channels/{channel_id}/transfer_progress"
        try:
            r = await self._http.post(path, params={"states": state}, timeout=OP_TIMEOUT)
        except httpx.HTTPError as exc:
            raise AriError(f"POST {path}: {exc!r}") from exc
        if r.status_code == 404:
            raise ChannelGone(path)
        if r.status_code >= 400:
            raise AriError(f"POST {path}: HTTP {r.status_code} {r.text[:200]}")

    async def snoop(self, channel_id: str, snoop_id: str, spy: str, whisper: str, app_args: str) -> None:
        """A snoop channel on `channel_id` into our app: it hears `spy` (in, out, both, none) of the
        channel's audio, and what is said into it reaches the channel in direction `whisper`."""
        await self._op(
            "snoop",
            self._ari.channels.snoopChannelWithId,
            channelId=channel_id,
            snoopId=snoop_id,
            spy=spy,
            whisper=whisper,
            app=self.app,
            appArgs=app_args,
        )

    async def record_channel(
        self, channel_id: str, name: str, fmt: str, max_seconds: int, max_silence: int
    ) -> None:
        """Record what the channel says, after a beep, until it hangs up, goes quiet, or presses #."""
        await self._op(
            "record channel",
            self._ari.channels.record,
            channelId=channel_id,
            name=name,
            format=fmt,
            maxDurationSeconds=max_seconds,
            maxSilenceSeconds=max_silence,
            beep=True,
            terminateOn="#",
            ifExists="overwrite",
        )

    async def _get(self, path: str) -> Any:
        try:
            r = await self._http.get(path, timeout=OP_TIMEOUT)
        except httpx.HTTPError as exc:
            raise AriError(f"GET {path}: {exc!r}") from exc
        if r.status_code == 404:
            raise ChannelGone(path)
        if r.status_code >= 400:
            raise AriError(f"GET {path}: HTTP {r.status_code} {r.text[:200]}")
        return r.json()

    async def list_channels(self) -> list[dict[str, Any]]:
        return list(await self._get("channels"))

    async def list_bridges(self) -> list[dict[str, Any]]:
        return list(await self._get("bridges"))

    async def live_recording(self, name: str) -> bool:
        """Whether a recording of this name is being made now."""
        try:
            await self._get(f"recordings/live/{name}")
        except ChannelGone:
            return False
        return True

    async def list_endpoints(self, tech: str) -> list[dict[str, Any]]:
        try:
            return list(await self._get(f"endpoints/{tech}"))
        except ChannelGone:  # Asterisk answers 404 while a technology has no endpoints at all
            return []

    async def subscribe(self, event_source: str) -> None:
        """Receive events of `event_source` (e.g. "endpoint:PJSIP") on our websocket."""
        await self._op(
            "subscribe", self._ari.applications.subscribe, applicationName=self.app, eventSource=event_source
        )

    async def push_config(self, object_type: str, object_id: str, fields: dict[str, str]) -> None:
        body = {"fields": [{"attribute": k, "value": v} for k, v in fields.items()]}
        path = f"asterisk/config/dynamic/res_pjsip/{object_type}/{object_id}"
        try:
            r = await self._http.put(path, json=body, timeout=OP_TIMEOUT)
        except httpx.HTTPError as exc:
            raise AriError(f"PUT {path}: {exc!r}") from exc
        if r.status_code >= 400:
            raise AriRefused(r.status_code, f"PUT {path}: HTTP {r.status_code} {r.text[:200]}")

    async def delete_config(self, object_type: str, object_id: str) -> None:
        path = f"asterisk/config/dynamic/res_pjsip/{object_type}/{object_id}"
        try:
            r = await self._http.delete(path, timeout=OP_TIMEOUT)
        except httpx.HTTPError as exc:
            raise AriError(f"DELETE {path}: {exc!r}") from exc
        if r.status_code >= 400 and r.status_code != 404:
            raise AriError(f"DELETE {path}: HTTP {r.status_code} {r.text[:200]}")
