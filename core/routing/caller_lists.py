"""Caller lists: outside callers screened against the blacklist, the whitelist and the anonymous-caller
policy before anything rings. No I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from core.routing.decisions import Blocked, Rerouted
from core.routing.destinations import Destination

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class CallerLists:
    """The lists an outside caller is screened against."""

    blacklist: frozenset[str] = frozenset()  # E.164 numbers
    blocked_prefixes: tuple[str, ...] = ()  # E.164 prefixes, e.g. "+1900"
    whitelist: Mapping[str, Destination | None] = field(default_factory=dict)  # number → personal rule
    anonymous: Destination | bool = True  # True: allow; False: busy; a Destination: send there


def screen_caller(caller: str, lists: CallerLists, whitelist_only: bool) -> Blocked | Rerouted | None:
    """The first steps of every outside call, before anything rings. `caller` is E.164 or "anonymous".

    None means: carry on to the dialled number's route.
    """
    if caller == ANONYMOUS:
        if lists.anonymous is False or (lists.anonymous is True and whitelist_only):
            return Blocked("anonymous")
        if isinstance(lists.anonymous, Destination):
            return Rerouted("anonymous", lists.anonymous)
        return None
    if caller in lists.blacklist:
        return Blocked("blacklist", caller)
    prefix = next(
        (p for p in sorted(lists.blocked_prefixes, key=len, reverse=True) if caller.startswith(p)), None
    )
    if prefix is not None:
        return Blocked("blacklist", prefix)
    if caller in lists.whitelist:
        rule = lists.whitelist[caller]
        return Rerouted("whitelist", rule) if rule is not None else None
    return Blocked("not_whitelisted") if whitelist_only else None
