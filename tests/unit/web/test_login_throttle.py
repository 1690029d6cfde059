"""Failed logins per (address, user name) and per address, in a sliding window, with a memory bound."""

from __future__ import annotations

from linkdoctor.web.throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_sixth_try_waits_until_the_first_failure_leaves_the_window() -> None:
    clock = Clock()
    throttle = LoginThrottle(per_user=5, window=900, clock=clock)
    for _ in range(5):
        assert throttle.retry_after("198.51.100.7", "admin") == 0
        throttle.failed("198.51.100.7", "admin")
        clock.now += 10
    assert throttle.retry_after("198.51.100.7", "admin") == 900 - 50
    clock.now += 850
    assert throttle.retry_after("198.51.100.7", "admin") == 0


def test_other_users_and_other_addresses_are_not_held_up() -> None:
    throttle = LoginThrottle(per_user=3, clock=Clock())
    for _ in range(3):
        throttle.failed("198.51.100.7", "Admin")
    assert throttle.retry_after("198.51.100.7", "ADMIN") > 0  # user names compare without case
    assert throttle.retry_after("198.51.100.7", "editor") == 0
    assert throttle.retry_after("198.51.100.8", "admin") == 0


def test_one_address_trying_many_user_names_is_held_up_too() -> None:
    throttle = LoginThrottle(per_user=5, per_address=20, clock=Clock())
    for n in range(20):
        throttle.failed("198.51.100.7", f"user{n}")
    assert throttle.retry_after("198.51.100.7", "someone-new") > 0
    assert throttle.retry_after("198.51.100.8", "someone-new") == 0


def test_a_successful_login_clears_the_users_count() -> None:
    throttle = LoginThrottle(per_user=3, clock=Clock())
    for _ in range(2):
        throttle.failed("198.51.100.7", "admin")
    throttle.succeeded("198.51.100.7", "admin")
    for _ in range(2):
        throttle.failed("198.51.100.7", "admin")
    assert throttle.retry_after("198.51.100.7", "admin") == 0


def test_memory_stays_bounded_under_a_flood_of_addresses() -> None:
    throttle = LoginThrottle(max_keys=100, clock=Clock())
    for n in range(5_000):
        throttle.failed(f"10.0.{n // 256}.{n % 256}", "admin")
    assert len(throttle._failures) <= 100
