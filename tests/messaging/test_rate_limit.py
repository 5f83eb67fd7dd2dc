"""The engine's rate limit, on a fake clock: never more than the provider's limit in
any one second, and time lost to a pause is made up afterwards."""

from __future__ import annotations

import itertools

import pytest

from suffrage.messaging import engine


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(engine.time, "monotonic", fake.monotonic)
    monkeypatch.setattr(engine.time, "sleep", fake.sleep)
    return fake


def _sends(limit: engine.RateLimit, clock: Clock, count: int, work: float = 0.0, pause_every: int = 0) -> list[float]:
    times = []
    for index in range(count):
        if pause_every and index and index % pause_every == 0:
            clock.now += 0.05  # a flush or a claim
        limit.wait()
        times.append(clock.now)
        clock.now += work
    return times


def _most_in_one_second(times: list[float]) -> int:
    return max(sum(1 for other in times if start <= other < start + 1) for start in times)


def test_never_more_than_the_limit_in_any_second_even_after_pauses(clock):
    times = _sends(engine.RateLimit(100), clock, 1000, work=0.001, pause_every=25)
    assert _most_in_one_second(times) <= 100


def test_time_lost_to_pauses_is_made_up(clock):
    times = _sends(engine.RateLimit(100), clock, 1000, work=0.001, pause_every=25)
    # 1,000 messages with 39 pauses of 0.05 s: a limiter that never catches up would
    # need 10 + 1.95 s; the sliding window needs 10 and its margin.
    assert times[-1] - times[0] < 10.5


def test_a_limit_under_one_a_second(clock):
    times = _sends(engine.RateLimit(0.5), clock, 4)
    assert all(later - earlier >= 2 for earlier, later in itertools.pairwise(times))


def test_no_limit_never_waits(clock):
    times = _sends(engine.RateLimit(0), clock, 50)
    assert times[0] == times[-1]
