"""Rate-limit schedule and retry delays (pure; times are given, not measured)."""

from clockify_proxy.ratelimit import Schedule, retry_delay


def test_slots_are_handed_out_in_arrival_order_one_interval_apart():
    schedule = Schedule(next_free=0.0)
    waits = [schedule.reserve(now=100.0, interval=0.02, max_wait=10) for _ in range(5)]
    assert [round(w, 9) for w in waits] == [0.0, 0.02, 0.04, 0.06, 0.08]


def test_an_idle_schedule_does_not_make_anyone_wait():
    schedule = Schedule(next_free=0.0)
    assert schedule.reserve(now=5.0, interval=0.02, max_wait=10) == 0.0
    assert schedule.reserve(now=9.0, interval=0.02, max_wait=10) == 0.0


def test_a_slot_beyond_the_maximum_wait_is_not_taken():
    schedule = Schedule(next_free=0.0)
    for _ in range(3):
        schedule.reserve(now=0.0, interval=1.0, max_wait=2.5)
    assert schedule.reserve(now=0.0, interval=1.0, max_wait=2.5) is None
    # Nothing was reserved by the refused request: the next one still gets slot 3.
    assert schedule.next_free == 3.0


def test_retry_delay_honours_retry_after_and_doubles_otherwise():
    assert retry_delay("3", 1, cap=10) == 3.0
    assert retry_delay("30", 1, cap=10) == 10.0
    assert [retry_delay(None, n, cap=10) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert retry_delay("Wed, 21 Oct 2015 07:28:00 GMT", 2, cap=10) == 1.0
