"""Waiting for server-side work: steady at first, then backing off, never past the deadline."""

from __future__ import annotations

import pytest
import stamina

from tmupload.errors import TaskError
from tmupload.http.poll import Deadline, poll


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 4))
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    stamina.set_testing(False)  # the schedule itself is under test (restored by the autouse)
    return FakeClock()


def test_polls_steadily_at_first_then_backs_off(clock: FakeClock) -> None:
    answers = iter([None] * 60 + ["done"])
    result = poll(
        lambda: next(answers), deadline=Deadline(600, clock), what="the import", clock=clock
    )
    assert result == "done"
    steady = [wait for wait in clock.sleeps if wait == 0.05]
    assert len(steady) >= 40  # a finished job is seen within 50 ms during the first 2 s
    assert clock.sleeps == sorted(clock.sleeps) and max(clock.sleeps) == 2.0


def test_gives_up_at_the_deadline_naming_the_setting_and_what_it_waited_for(
    clock: FakeClock,
) -> None:
    deadline = Deadline(5, clock, setting="--deadline")
    with pytest.raises(TaskError) as info:
        poll(lambda: None, deadline=deadline, what="the import", clock=clock, detail=lambda: "x")
    assert str(info.value) == "the import did not finish before the deadline (--deadline 5s); x"
    assert clock.now <= 5


def test_a_check_that_raises_stops_the_wait(clock: FakeClock) -> None:
    def check() -> str | None:
        raise TaskError("the task failed on the server")

    with pytest.raises(TaskError, match="failed on the server"):
        poll(check, deadline=Deadline(5, clock), what="x", clock=clock)
    assert clock.sleeps == []


def test_under_stamina_testing_waits_cost_nothing() -> None:
    clock = FakeClock()
    answers = iter([None, None, "ok"])
    with stamina.set_testing(True):
        assert poll(lambda: next(answers), deadline=Deadline(5, clock), what="x", clock=clock)
    assert clock.sleeps == [0.01, 0.01]
