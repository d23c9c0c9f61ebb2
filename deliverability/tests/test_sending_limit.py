"""The daily sending limit: mails beyond it put off in order, each later day filled up to the limit."""

from __future__ import annotations

import datetime

from deliverability.sending_limit import Usage, allot, messages, window_start

TODAY = datetime.date(2026, 12, 6)


def day(n):
    return TODAY + datetime.timedelta(days=n)


def test_no_limit_sends_everything():
    allotment = allot(0, Usage(TODAY, 500), TODAY, [(1, 1), (2, 3)])
    assert allotment.now == (1, 2) and not allotment.reached


def test_within_the_limit():
    allotment = allot(5, Usage(TODAY, 2), TODAY, [(1, 1), (2, 2)])
    assert allotment.now == (1, 2) and not allotment.reached
    assert (allotment.tail_day, allotment.tail_count) == (None, 0)


def test_yesterdays_count_does_not_count():
    assert allot(2, Usage(day(-1), 2), TODAY, [(1, 1), (2, 1)]).now == (1, 2)


def test_beyond_the_limit_waits_in_order_one_limit_per_day():
    allotment = allot(2, Usage(TODAY, 1), TODAY, [(i, 1) for i in range(1, 7)])
    assert allotment.now == (1,)
    assert allotment.later == {day(1): (2, 3), day(2): (4, 5), day(3): (6,)}
    assert (allotment.tail_day, allotment.tail_count) == (day(3), 1)
    assert allotment.reached


def test_a_later_mail_never_overtakes_a_put_off_one():
    allotment = allot(3, Usage(TODAY, 0), TODAY, [(1, 2), (2, 2), (3, 1)])
    assert allotment.now == (1,)
    assert allotment.later == {day(1): (2, 3)}


def test_next_run_fills_after_the_mails_already_put_off():
    first = allot(2, Usage(TODAY, 2), TODAY, [(1, 1), (2, 1), (3, 1)])
    assert first.later == {day(1): (1, 2), day(2): (3,)}
    usage = Usage(TODAY, 2, first.tail_day, first.tail_count)
    second = allot(2, usage, TODAY, [(4, 1), (5, 1)])
    assert second.later == {day(2): (4,), day(3): (5,)}
    # a tail in the past is forgotten
    assert allot(2, Usage(TODAY, 2, day(-3), 1), TODAY, [(6, 1)]).later == {day(1): (6,)}


def test_a_mail_larger_than_the_limit_goes_alone_first_thing():
    assert allot(2, Usage(TODAY, 0), TODAY, [(1, 5), (2, 1)]).now == (1,)
    allotment = allot(2, Usage(TODAY, 1), TODAY, [(1, 5), (2, 1)])
    assert allotment.later == {day(1): (1,), day(2): (2,)}


def test_messages_of_a_mail():
    assert messages(0, True) == 1
    assert messages(3, False) == 3
    assert messages(3, True) == 4
    assert messages(0, False) == 1


def test_window_start():
    assert window_start(day(1)) == datetime.datetime(2026, 12, 7, 0, 0)
