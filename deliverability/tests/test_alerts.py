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


def test_a_domain_recovers_only_when_nothing_fails_and_no_alert_is_open():
    state = run(None, spf="fail", dmarc="pass").state  # SPF failing from the start: no alert
    dmarc_down = run(state, spf="fail", dmarc="fail")
    dmarc_back = run(dmarc_down.state, spf="fail", dmarc="pass")
    assert dmarc_back.recovered and not dmarc_back.alerted
    assert not dmarc_back.healthy, "SPF still fails: improved, not recovered"
    spf_fixed = run(dmarc_back.state, spf="pass", dmarc="pass")
    assert spf_fixed.recovered and spf_fixed.healthy
    half = run(run(spf_fixed.state, spf="fail", dmarc="pass").state, spf="warning", dmarc="pass")
    assert half.recovered and half.alerted and not half.healthy, "an alert still open"
