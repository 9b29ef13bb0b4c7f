"""Counting failed authentications per source address and per number, within a sliding window.

Pure: the caller passes the time (seconds, any monotonic clock) and carries the decisions out.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field

from core.security.log import AuthFailure

#: addresses (and numbers) tracked at most; the least recently seen are forgotten first, so a flood of
#: spoofed source addresses cannot exhaust memory
MAX_TRACKED = 10000


@dataclass(frozen=True)
class Ban:
    """Ban `address`: it failed `failures` times within the window, trying `numbers`."""

    address: str
    failures: int
    numbers: tuple[str, ...]


@dataclass(frozen=True)
class NumberAlert:
    """Internal number `number` failed `failures` times within the window, from `addresses`."""

    number: str
    failures: int
    addresses: tuple[str, ...]


@dataclass
class _History:
    """The last `limit` failures (no more are needed to reach a threshold of `limit`), oldest first."""

    limit: int
    times: deque[float] = field(init=False)
    labels: deque[str] = field(init=False)  # the number (per address) or the address (per number)

    def __post_init__(self) -> None:
        self.times, self.labels = deque(maxlen=self.limit), deque(maxlen=self.limit)

    def prune(self, before: float) -> None:
        while self.times and self.times[0] < before:
            self.times.popleft()
            self.labels.popleft()

    def add(self, now: float, label: str) -> None:
        self.times.append(now)
        self.labels.append(label)

    def clear(self) -> None:
        self.times.clear()
        self.labels.clear()


def _distinct(labels: deque[str]) -> tuple[str, ...]:
    return tuple(sorted({label for label in labels if label}))


class FailureTracker:
    """After `ban_after` failures from one address within `window` seconds: ban it (unless `exempt`).
    After `number_alert_after` failures of one number within the window (from any addresses, exempt ones
    included): alert, at most once per window and number."""

    def __init__(self, ban_after: int, window: float, number_alert_after: int) -> None:
        self.ban_after, self.window, self.number_alert_after = ban_after, window, number_alert_after
        self._by_address: OrderedDict[str, _History] = OrderedDict()
        self._by_number: OrderedDict[str, _History] = OrderedDict()
        self._alerted: dict[str, float] = {}  # number → when it was last alerted

    @staticmethod
    def _history(table: OrderedDict[str, _History], key: str, limit: int) -> _History:
        history = table.get(key)
        if history is None:
            history = table[key] = _History(limit)
            while len(table) > MAX_TRACKED:
                table.popitem(last=False)
        else:
            table.move_to_end(key)
        return history

    def record(self, failure: AuthFailure, now: float, exempt: bool = False) -> list[Ban | NumberAlert]:
        """Count one failure at time `now`; what to do about it (an exempt address is never banned)."""
        decisions: list[Ban | NumberAlert] = []
        since = now - self.window
        if not exempt:
            history = self._history(self._by_address, failure.address, self.ban_after)
            history.prune(since)
            history.add(now, failure.account or "")
            if len(history.times) >= self.ban_after:
                decisions.append(Ban(failure.address, len(history.times), _distinct(history.labels)))
                history.clear()
        if failure.account:
            history = self._history(self._by_number, failure.account, self.number_alert_after)
            history.prune(since)
            history.add(now, failure.address)
            last = self._alerted.get(failure.account)
            if len(history.times) >= self.number_alert_after and (last is None or now - last >= self.window):
                self._alerted[failure.account] = now
                decisions.append(NumberAlert(failure.account, len(history.times), _distinct(history.labels)))
                while len(self._alerted) > MAX_TRACKED:
                    self._alerted.pop(next(iter(self._alerted)))
        return decisions

    def failures(self, address: str, now: float) -> int:
        """Failures from `address` within the window up to `now`."""
        history = self._by_address.get(address)
        if history is None:
            return 0
        history.prune(now - self.window)
        return len(history.times)

    def forget(self, address: str) -> None:
        """Drop what was counted for `address` (it was banned or unbanned by hand)."""
        self._by_address.pop(address, None)
