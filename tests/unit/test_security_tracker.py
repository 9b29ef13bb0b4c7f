"""Counting failed authentications per address and per number within a sliding window."""

from core.security import AuthFailure, Ban, FailureTracker, NumberAlert
from core.security.tracker import MAX_TRACKED


def fail(address: str = "203.0.113.9", number: str | None = "101") -> AuthFailure:
    return AuthFailure("ChallengeResponseFailed", address, number)


def test_the_nth_failure_within_the_window_bans_the_address():
    t = FailureTracker(ban_after=3, window=60, number_alert_after=100)
    assert t.record(fail(), 0) == [] and t.record(fail(number="102"), 10) == []
    assert t.record(fail(), 20) == [Ban("203.0.113.9", 3, ("101", "102"))]
    assert t.failures("203.0.113.9", 20) == 0  # counted afresh after a ban


def test_failures_older_than_the_window_are_forgotten():
    t = FailureTracker(ban_after=3, window=60, number_alert_after=100)
    t.record(fail(), 0)
    t.record(fail(), 30)
    assert t.record(fail(), 61) == []  # the first one fell out of the window
    assert t.failures("203.0.113.9", 61) == 2
    assert t.record(fail(), 89) == [Ban("203.0.113.9", 3, ("101",))]


def test_addresses_are_counted_apart():
    t = FailureTracker(ban_after=2, window=60, number_alert_after=100)
    assert t.record(fail("192.0.2.1"), 0) == [] and t.record(fail("192.0.2.2"), 1) == []
    assert t.record(fail("192.0.2.1"), 2) == [Ban("192.0.2.1", 2, ("101",))]


def test_an_exempt_address_is_never_banned_but_still_counts_for_the_number():
    t = FailureTracker(ban_after=2, window=60, number_alert_after=3)
    assert t.record(fail("127.0.0.1"), 0, exempt=True) == []
    assert t.record(fail("127.0.0.1"), 1, exempt=True) == []
    assert t.record(fail("127.0.0.1"), 2, exempt=True) == [NumberAlert("101", 3, ("127.0.0.1",))]


def test_one_number_guessed_from_many_addresses_alerts_once_per_window():
    t = FailureTracker(ban_after=10, window=60, number_alert_after=4)
    decisions = [d for i in range(4) for d in t.record(fail(f"192.0.2.{i}"), i)]
    assert decisions == [NumberAlert("101", 4, ("192.0.2.0", "192.0.2.1", "192.0.2.2", "192.0.2.3"))]
    assert t.record(fail("192.0.2.9"), 30) == []  # already alerted within this window
    later = [d for i in range(4) for d in t.record(fail(f"198.51.100.{i}"), 100 + i)]
    assert later == [NumberAlert("101", 4, tuple(f"198.51.100.{i}" for i in range(4)))]


def test_unknown_accounts_count_for_the_address_only():
    t = FailureTracker(ban_after=2, window=60, number_alert_after=1)
    assert t.record(fail(number=None), 0) == []
    assert t.record(fail(number=None), 1) == [Ban("203.0.113.9", 2, ())]


def test_a_flood_of_addresses_is_bounded():
    t = FailureTracker(ban_after=5, window=3600, number_alert_after=10**9)
    for i in range(MAX_TRACKED + 50):
        t.record(fail(f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"), i)
    assert len(t._by_address) == MAX_TRACKED
    assert t.failures("10.0.0.0", MAX_TRACKED + 50) == 0  # the oldest were forgotten first


def test_forget_drops_an_address():
    t = FailureTracker(ban_after=3, window=60, number_alert_after=100)
    t.record(fail(), 0)
    t.forget("203.0.113.9")
    assert t.failures("203.0.113.9", 1) == 0
