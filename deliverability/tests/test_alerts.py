"""When to alert: once per degradation, recovery noted, silence (unknown) is no news."""

from deliverability.alerts import track
from deliverability.findings import Status


def run(state, **current):
    return track(state, {key.replace("_", ":"): status for key, status in current.items()})


def test_the_first_verdict_is_the_baseline():
    first = run(None, spf="fail", dmarc="pass")
    assert (first.degraded, first.recovered, first.alerted) == ((), (), {})
    assert first.known == {"spf": "fail", "dmarc": "pass"}


def test_a_degradation_alerts_once_and_stays_open_until_back():
    state = run(None, spf="pass").state
    worse = run(state, spf="warning")
    assert [(c.key, c.old, c.new) for c in worse.degraded] == [("spf", Status.PASS, Status.WARNING)]
    assert worse.alerted == {"spf": "pass"}
    again = run(worse.state, spf="warning")
    assert (again.degraded, again.alerted) == ((), {"spf": "pass"}), "not every day"
    worst = run(again.state, spf="fail")
    assert worst.degraded and worst.alerted == {"spf": "pass"}, "the status before the first degradation"
    better = run(worst.state, spf="warning")
    assert better.recovered and better.alerted == {"spf": "pass"}, "still worse than before"
    back = run(better.state, spf="pass")
    assert [c.new for c in back.recovered] == [Status.PASS] and back.alerted == {}


def test_unknown_neither_degrades_nor_recovers_nor_forgets():
    state = run(None, spf="pass", dkim_s1="pass").state
    silent = run(state, spf="unknown", dkim_s1="unknown")
    assert (silent.degraded, silent.recovered, silent.state) == ((), (), state)
    nothing_ran = run(state, spf="unknown")
    assert nothing_ran.known == state["known"], "a run that checked nothing keeps every baseline"
    dropped = run(state, spf="pass")
    assert dropped.known == {"spf": "pass"}, "a selector no longer checked is forgotten"
