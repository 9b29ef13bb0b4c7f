"""IVR menus: a prompt, DTMF options to any destination, direct dial, timeouts and retries."""

from __future__ import annotations

import re
import shutil
import wave
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from tortoise.transactions import in_transaction

from core.errors import InvalidInput, NotFound
from core.events import EventBus, IvrMenuChanged
from core.models import Ivr
from core.routing.destinations import DestinationKind
from core.routing.ivr import KEY_RE
from core.services.auth import Actor, AuthService
from core.services.extensions import validate_number
from core.services.scoping import authorize_org
from core.services.validation import (
    ensure_number_free,
    given,
    names_itself,
    refuse_if_used,
    routable_destination,
)

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
# Asterisk's own sounds by name (sound:main-menu, sound:custom/menu), or an uploaded prompt
SOUND_RE = re.compile(r"^sound:[A-Za-z0-9][A-Za-z0-9_/-]{0,120}$")


@dataclass(frozen=True)
class IvrView:
    """A menu as shown to users."""

    name: str
    number: str | None
    prompt: str
    options: dict[str, str]
    direct_dial: bool
    timeout: int
    attempts: int
    repeat_key: str | None
    fallback: str


def _name(name: str) -> str:
    name = given(name, "IVR name", "main").lower()
    if not NAME_RE.fullmatch(name):
        raise InvalidInput("IVR name must be letters, digits, - or _ (at most 32), e.g. main")
    return name


def _key(key: str) -> str:
    key = (key or "").strip()
    if not KEY_RE.fullmatch(key):
        raise InvalidInput(f"IVR key {key!r} must be one of 0-9, * or #")
    return key


def _prompt(prompt: str) -> str:
    prompt = (prompt or "").strip()
    if not SOUND_RE.fullmatch(prompt) or ".." in prompt:
        raise InvalidInput(
            f"prompt {prompt!r} must be an Asterisk sound, e.g. sound:demo-instruct "
            "(or upload a recording with `pbx ivr prompt`)"
        )
    return prompt


class IvrService:
    """Create and change IVR menus (every change audited and published). What routing reads of them is
    core/services/internal/config.py."""

    def __init__(self, auth: AuthService, bus: EventBus, sounds_dir: Path, country: str = "US") -> None:
        self._auth = auth
        self._bus = bus
        self._sounds_dir = sounds_dir
        self._country = country  # how national numbers in external: destinations are read

    async def menus(self, actor: Actor) -> list[IvrView]:
        """All menus, by name."""
        await self._auth.authorize(actor, "ivr.read")
        return [_view(m) for m in await Ivr.all().order_by("name")]

    async def save(
        self,
        actor: Actor,
        name: str,
        *,
        prompt: str | None = None,
        number: str | None = None,
        direct_dial: bool | None = None,
        timeout: int | None = None,
        attempts: int | None = None,
        repeat_key: str | None = None,
        fallback: str | None = None,
    ) -> IvrView:
        """Create a menu (a prompt is needed then) or change the given settings of one. `number` ""
        takes its internal number away; `repeat_key` "" turns repeating off."""
        name = _name(name)
        menu = await Ivr.get_or_none(name=name)
        changes: dict[str, object] = {}
        if prompt is not None:
            changes["prompt"] = _prompt(prompt)
        elif menu is None:
            raise InvalidInput("a new IVR menu needs a prompt, e.g. --prompt sound:demo-instruct")
        if number is not None:
            changes["number"] = validate_number(number) if number else None
        if direct_dial is not None:
            changes["direct_dial"] = direct_dial
        if timeout is not None:
            if not 1 <= timeout <= 60:
                raise InvalidInput("IVR timeout must be between 1 and 60 seconds")
            changes["timeout"] = timeout
        if attempts is not None:
            if not 1 <= attempts <= 10:
                raise InvalidInput("IVR attempts must be between 1 and 10")
            changes["attempts"] = attempts
        if repeat_key is not None:
            changes["repeat_key"] = _key(repeat_key) if repeat_key else None
        if fallback is not None:
            if names_itself(fallback, DestinationKind.IVR, name):
                raise InvalidInput(f"IVR {name} cannot fall back to itself (callers would never leave)")
            changes["fallback"] = str(await routable_destination(fallback, self._country))
        options = dict(menu.options) if menu else {}
        if changes.get("repeat_key") in options:
            raise InvalidInput(f"key {changes['repeat_key']} is already an option of IVR {name}")
        if changes.get("number"):
            await ensure_number_free(str(changes["number"]), keep=f"ivr:{name}")
        await authorize_org(self._auth, actor, "ivr.write", f"ivr:{name}")
        action: Literal["added", "updated"] = "added" if menu is None else "updated"
        before = asdict(_view(menu)) if menu is not None else None
        async with in_transaction():
            if menu is None:
                menu = Ivr(name=name)
                await menu.update_from_dict(changes).save()
            else:
                await menu.update_from_dict(changes).save()
            detail = {k: str(v) for k, v in changes.items()} | {
                "before": before,
                "after": asdict(_view(menu)),
            }
            await self._auth.audit(actor, "ivr.save", name, detail)
        return await self._publish(actor, action, menu)

    async def set_option(self, actor: Actor, name: str, key: str, destination: str | None) -> IvrView:
        """Send key `key` of menu `name` to `destination` (None removes the option)."""
        name, key = _name(name), _key(key)
        menu = await self._menu(name)
        options = dict(menu.options)
        if destination is None:
            if key not in options:
                raise NotFound(f"IVR {name} has no option {key}")
            del options[key]
        else:
            if not (destination or "").strip():
                raise InvalidInput(f"option {key} of IVR {name} needs a destination, e.g. ext:101")
            if key == menu.repeat_key:
                raise InvalidInput(f"key {key} repeats the menu of IVR {name}: choose another key")
            options[key] = str(await routable_destination(destination, self._country))
        await authorize_org(self._auth, actor, "ivr.write", f"ivr:{name}")
        async with in_transaction():
            before, menu.options = dict(menu.options), dict(sorted(options.items()))
            await menu.save(update_fields=["options"])
            detail = {
                "key": key,
                "destination": destination,
                "before": {"options": before},
                "after": {"options": menu.options},
            }
            await self._auth.audit(actor, "ivr.option", name, detail)
        return await self._publish(actor, "updated", menu)

    async def upload_prompt(self, actor: Actor, name: str, path: Path) -> IvrView:
        """Use a recording as the menu's prompt: a WAV file, 8 kHz, 16-bit, mono (what Asterisk plays)."""
        name = _name(name)
        menu = await self._menu(name)
        try:
            with wave.open(str(path), "rb") as w:
                shape = (w.getframerate(), w.getsampwidth(), w.getnchannels())
        except FileNotFoundError:
            raise InvalidInput(f"no file {path}") from None
        except (wave.Error, EOFError):
            raise InvalidInput(f"{path} is not a WAV file") from None
        if shape != (8000, 2, 1):
            raise InvalidInput(
                f"{path} is {shape[0]} Hz, {shape[1] * 8}-bit, {shape[2]} channel(s): prompts must be"
                f" 8000 Hz, 16-bit, mono (convert it with: sox {path} -r 8000 -b 16 -c 1 prompt.wav)"
            )
        await authorize_org(self._auth, actor, "ivr.write", f"ivr:{name}")
        self._sounds_dir.mkdir(parents=True, exist_ok=True)
        target = self._sounds_dir / f"ivr-{name}.wav"
        shutil.copyfile(path, target)
        async with in_transaction():
            before, menu.prompt = menu.prompt, f"sound:{target.with_suffix('')}"
            await menu.save(update_fields=["prompt"])
            detail = {"file": target.name, "before": {"prompt": before}, "after": {"prompt": menu.prompt}}
            await self._auth.audit(actor, "ivr.prompt", name, detail)
        return await self._publish(actor, "updated", menu)

    async def remove(self, actor: Actor, name: str) -> None:
        """Delete a menu."""
        name = _name(name)
        await authorize_org(self._auth, actor, "ivr.write", f"ivr:{name}")
        menu = await self._menu(name)
        await refuse_if_used(f"IVR {name}", {f"ivr:{name}"}, owner=f"ivr:{name}")
        async with in_transaction():
            await menu.delete()
            await self._auth.audit(actor, "ivr.remove", name, {"before": asdict(_view(menu))})
        await self._bus.publish(IvrMenuChanged(action="removed", actor=actor.name, ivr=name))

    async def _publish(self, actor: Actor, action: Literal["added", "updated"], menu: Ivr) -> IvrView:
        """Tell what the menu now is; returns its view."""
        view = _view(menu)
        await self._bus.publish(
            IvrMenuChanged(
                action=action,
                actor=actor.name,
                ivr=view.name,
                number=view.number,
                prompt=view.prompt,
                options=view.options,
                direct_dial=view.direct_dial,
                timeout=view.timeout,
                attempts=view.attempts,
                repeat_key=view.repeat_key,
                fallback=view.fallback,
            )
        )
        return view

    async def _menu(self, name: str) -> Ivr:
        menu = await Ivr.get_or_none(name=name)
        if menu is None:
            raise NotFound(f"IVR menu {name} does not exist")
        return menu


def _view(menu: Ivr) -> IvrView:
    return IvrView(
        menu.name,
        menu.number,
        menu.prompt,
        dict(menu.options),
        menu.direct_dial,
        menu.timeout,
        menu.attempts,
        menu.repeat_key,
        menu.fallback,
    )
