"""Failure reports (ARF) and SMTP TLS reports read from the public samples, with what expected.json says."""

import base64
import gzip
import json
import re

import pytest

from deliverability.dmarc_reports import ReportError
from deliverability.failure_reports import (
    is_failure_report,
    read_failure_report,
    read_tls_report,
    tls_report_in,
)
from deliverability.tests.test_dmarc_reports import EXPECTED, MISSING, SAMPLES, needs_samples

# without the corpus each test runs once and fails with MISSING (see test_dmarc_reports)
FAILURES = sorted(k for k, e in EXPECTED.items() if e["kind"] == "failure") or [MISSING]
TLS = sorted(k for k, e in EXPECTED.items() if e["kind"] == "smtp_tls") or [MISSING]


@needs_samples
@pytest.mark.parametrize("name", FAILURES)
def test_failure_samples_are_read_or_refused_with_the_reason(name):
    expected, data = EXPECTED[name], (SAMPLES / name).read_bytes()
    assert is_failure_report(data)
    if not expected["has_arf_part"]:
        with pytest.raises(ReportError, match="message/feedback-report, RFC 6591"):
            read_failure_report(data)
        return
    report, arf = read_failure_report(data), expected["arf"]
    assert report.source_ip == arf["source_ip"]
    assert report.authentication_results == arf["authentication_results"]
    assert report.reported_domain == arf["reported_domain"]
    assert report.original_mail_from == (arf["original_mail_from"] or None)
    assert report.arrival_date.strftime("%a, %d %b %Y %H:%M:%S %z") == arf["arrival_date"]
    assert report.reported_subject == expected["original"]["subject"]
    assert report.reported_from.endswith(expected["original"]["from"].rpartition(" ")[2])
    assert report.reporter == expected["from"]


@needs_samples
def test_a_base64_feedback_part_is_decoded():
    data = (SAMPLES / FAILURES[0]).read_bytes()
    head, fields, tail = re.split(
        rb"(?<=message/feedback-report; name=report\n\n)(.*?\n)(?=\n--)", data, flags=re.S
    )
    encoded = head[:-1] + b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(fields) + tail
    assert b"Source-IP" not in encoded.partition(b"feedback-report; name=report")[2].partition(b"--_")[0]
    assert read_failure_report(encoded) == read_failure_report(data)
    broken = head[:-1] + b"Content-Transfer-Encoding: base64\n\n" + b"Zm9vY\n" + tail
    with pytest.raises(ReportError):
        read_failure_report(broken)


def test_a_bounce_and_a_plain_mail_are_not_failure_reports():
    dsn = b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n--b--\n'
    assert not is_failure_report(dsn)
    assert not is_failure_report(b"Subject: hello\n\nhello\n")
    with pytest.raises(ReportError, match="not a report"):
        read_failure_report(b"Subject: hello\n\nhello\n")


@needs_samples
@pytest.mark.parametrize("name", TLS)
def test_tls_samples_are_summarised(name):
    expected, data = EXPECTED[name], (SAMPLES / name).read_bytes()
    report = tls_report_in(data) if name.endswith(".eml") else read_tls_report(data)
    assert not name.endswith(".eml") or not is_failure_report(data)
    assert (report.organization, report.report_id) == (expected["organization_name"], expected["report_id"])
    assert [(p.domain, p.successful, p.failed) for p in report.policies] == [
        (p["policy_domain"], p["total_successful_session_count"], p["total_failure_session_count"])
        for p in expected["policies"]
    ]


def test_tls_report_refusals():
    for data, reason in (
        (b"{", "not valid JSON"),
        (b'{"policies": "x"}', "no policies"),
        (
            gzip.compress(
                json.dumps(
                    {"policies": [{"policy": {}, "summary": {"total-failure-session-count": -1}}]}
                ).encode()
            ),
            "not a number",
        ),
        (b"\x1f\x8b\x08garbage", "not a readable gzip"),
    ):
        with pytest.raises(ReportError, match=reason):
            read_tls_report(data)
