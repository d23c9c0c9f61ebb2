"""DMARC aggregate reports: the public sample corpus parses to what a strict parse finds, hostile files are
refused with a reason, and the figures drawn from reports (alignment, the p=reject share, rua proposals)."""

from __future__ import annotations

import functools
import gzip
import io
import json
import os
import zipfile
import zlib
from pathlib import Path

import pytest

from deliverability import dmarc_reports
from deliverability.dmarc import parse_dmarc_record
from deliverability.dmarc_reports import ReportError, parse_reports, propose_rua, read_report, reject_share
from deliverability.records import parse_fix
from deliverability.report_archive import Limits, UnpackError, unpack

# the project's shared/ folder beside the repository (DMARC_SAMPLES to point elsewhere)
SAMPLES = Path(
    os.environ.get("DMARC_SAMPLES") or Path(__file__).resolve().parents[2].parent / "shared" / "dmarc-samples"
)
MISSING = (
    f"The DMARC sample corpus is missing: expected at {SAMPLES} (shared/dmarc-samples beside the "
    "repository, or the folder DMARC_SAMPLES names), with its expected.json."
)
EXPECTED = json.loads((SAMPLES / "expected.json").read_text())["files"] if SAMPLES.is_dir() else {}
# without the corpus every corpus test runs once and fails with MISSING: missing data is an error
VALID = sorted(k for k, e in EXPECTED.items() if e["kind"] == "aggregate" and e.get("xml_ok")) or [MISSING]
OTHERS = sorted(k for k, e in EXPECTED.items() if not (e["kind"] == "aggregate" and e.get("xml_ok"))) or [
    MISSING
]


def needs_samples(test):
    """Fail (not skip) a corpus test when the corpus is not there, saying where it is expected."""

    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        if not EXPECTED:
            pytest.fail(MISSING, pytrace=False)
        return test(*args, **kwargs)

    return wrapper


# what expected.json keeps raw and the parser lower-cases
LOWERED = ("disposition", "dkim", "spf", "header_from", "envelope_from", "envelope_to")


def lower(value):
    return value.lower() if isinstance(value, str) else value


def report(text: str, **kwargs) -> dmarc_reports.Report:
    (parsed,) = parse_reports(text.encode(), "test.xml", **kwargs)
    return parsed


def feedback(records: str = "", *, namespace: str = "", head: str = "") -> str:
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    return (
        f"{head}<feedback{xmlns}><report_metadata><org_name>Example</org_name><email>r@example.net</email>"
        "<report_id>42</report_id><date_range><begin>1700000000</begin><end>1700086400</end></date_range>"
        "</report_metadata><policy_published><domain>Example.COM</domain><p>none</p></policy_published>"
        f"{records}</feedback>"
    )


def record(ip="192.0.2.1", count=3, dkim="pass", spf="fail", header_from="example.com", results=""):
    return (
        f"<record><row><source_ip>{ip}</source_ip><count>{count}</count><policy_evaluated>"
        f"<disposition>none</disposition><dkim>{dkim}</dkim><spf>{spf}</spf></policy_evaluated></row>"
        f"<identifiers><header_from>{header_from}</header_from></identifiers>"
        f"<auth_results>{results}</auth_results></record>"
    )


# ----------------------------------------------------------------------------- the corpus


@needs_samples
@pytest.mark.parametrize("rel", VALID)
def test_valid_sample_parses_to_the_expected_values(rel):
    expected = EXPECTED[rel]
    (parsed,) = parse_reports((SAMPLES / rel).read_bytes(), Path(rel).name)
    header = parsed.header
    assert list(parsed.layers) == [c for c in expected["container"] if c != "none"]
    assert (header.org_name, header.email, header.report_id) == (
        expected["org_name"],
        expected["email"],
        expected["report_id"],
    )
    assert (header.begin, header.end) == (expected["date_range"]["begin"], expected["date_range"]["end"])
    assert (header.version, header.namespace, list(header.errors)) == (
        expected["version"],
        expected["namespace"],
        expected["errors"],
    )
    for tag, value in expected["policy_published"].items():
        assert header.policy[tag] == (lower(value) if tag in dmarc_reports._LOWER else value), tag
    assert len(parsed.rows) == expected["record_count"]
    assert parsed.message_count == expected["message_count"]
    for row, want in zip(parsed.rows, expected["records"], strict=True):
        assert row.source_ip == want["source_ip"]
        assert row.count == want["count"]
        for name in LOWERED:
            assert getattr(row, name) == lower(want[name]), name
        assert [(r.type, r.comment) for r in row.reasons] == [
            (lower(r["type"]), r["comment"]) for r in want["reasons"]
        ]
        assert [(r.domain, r.selector, r.result) for r in row.dkim_results] == [
            (lower(d["domain"]), d["selector"], lower(d["result"])) for d in want["auth_results"]["dkim"]
        ]
        assert [(r.domain, r.scope, r.result) for r in row.spf_results] == [
            (lower(s["domain"]), lower(s["scope"]), lower(s["result"])) for s in want["auth_results"]["spf"]
        ]


REFUSALS = {
    "aggregate/empty.xml": "is empty",
    "aggregate/ikea.com!example.de!1538690400!1538776800.xml": "not well-formed XML",
    "failure/": "failure (forensic) report, not an aggregate report",
    "smtp_tls/": "JSON (an SMTP TLS report?)",
}


@needs_samples
@pytest.mark.parametrize("rel", OTHERS)
def test_other_samples_are_refused_with_a_reason(rel):
    reason = next(words for prefix, words in REFUSALS.items() if rel.startswith(prefix))
    with pytest.raises(ReportError, match=reason.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        parse_reports((SAMPLES / rel).read_bytes(), Path(rel).name)


@needs_samples
def test_the_same_report_resent_has_the_same_key_and_a_reporter_without_name_uses_its_domain():
    keys = {rel: parse_reports((SAMPLES / rel).read_bytes(), rel)[0].header.key for rel in VALID}
    assert keys["aggregate/acme.xml"] == keys["aggregate/old_draft_from_wiki.xml"]
    assert keys["aggregate/nice-input.xml"] == keys["aggregate/nice-input.xml.zip"]
    assert keys["aggregate/nice-input.xml"] != keys["aggregate/changed-input.xml"]  # same id, other org
    assert keys["aggregate/!example.com!1538204542!1538463818.xml"] == (
        "accurateplastics.com",
        "example.com:1538463741",
    )


@needs_samples
def test_a_2012_draft_without_verdicts_is_aligned_from_its_raw_results():
    (parsed,) = parse_reports(
        (SAMPLES / "aggregate/aol.com!georgestarcher.com!1342497600!1342584000.zip").read_bytes()
    )
    (row,) = parsed.rows
    assert (row.dkim, row.spf) == (None, None)
    passing = [r for r in (*row.dkim_results, *row.spf_results) if r.result == "pass"]
    assert row.aligned is any(r.domain.endswith("georgestarcher.com") for r in passing)


# ----------------------------------------------------------------------------- hostile files


def test_xxe_and_billion_laughs_are_refused_without_expanding_anything(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    xxe = feedback(
        record(), head=f'<?xml version="1.0"?><!DOCTYPE feedback [<!ENTITY x SYSTEM "file://{secret}">]>'
    )
    xxe = xxe.replace("<org_name>Example</org_name>", "<org_name>&x;</org_name>")
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10 if i else "lol"}">' for i in range(10))
    bomb = feedback(record(), head=f"<!DOCTYPE feedback [{laughs}]>").replace("Example<", "&l9;<")
    external = feedback(record(), head='<!DOCTYPE feedback SYSTEM "http://192.0.2.1/dmarc.dtd">')
    for text in (xxe, bomb, external):
        with pytest.raises(ReportError, match="declares a DTD") as caught:
            report(text)
        assert "top secret" not in str(caught.value)


def test_an_undeclared_entity_is_not_well_formed():
    with pytest.raises(ReportError, match="not well-formed XML"):
        report(feedback(record()).replace("Example<", "&undeclared;<"))


def test_gzip_bomb_is_refused_by_ratio_while_reading():
    bomb = gzip.compress(b"<feedback>" + b"<x/>" * (2 * 2**20), 9)
    assert len(bomb) < 20_000
    with pytest.raises(ReportError, match="more than 200 times its size: refused"):
        parse_reports(bomb, "bomb.xml.gz")


def test_zip_bomb_and_lying_zip_header_are_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("report.xml", b"<feedback>" + b"<x/>" * (2 * 2**20))
    with pytest.raises(ReportError, match="decompression bomb"):
        parse_reports(buffer.getvalue(), "bomb.zip")
    limits = Limits(max_size=2**20, ratio_floor=2**30)
    with pytest.raises(ReportError, match="more than 1 MiB: refused"):
        parse_reports(buffer.getvalue(), "bomb.zip", limits)
    small = io.BytesIO()
    with zipfile.ZipFile(small, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("report.xml", feedback(record()) + " " * 5000)
    lied = small.getvalue().replace(
        (len(feedback(record())) + 5000).to_bytes(4, "little"), (100).to_bytes(4, "little")
    )
    with pytest.raises(ReportError, match="corrupt|not a readable zip"):
        parse_reports(lied, "lied.zip")


def test_nested_archives_are_unpacked_until_the_depth_limit():
    inner = feedback(record()).encode()
    data = inner
    for _ in range(3):
        data = gzip.compress(data)
    assert parse_reports(data)[0].layers == ("gzip", "gzip", "gzip")
    for _ in range(3):
        data = gzip.compress(data)
    with pytest.raises(ReportError, match="nested more than 4 deep"):
        parse_reports(data)


def test_truncated_files_are_refused():
    whole = gzip.compress(feedback(record()).encode())
    with pytest.raises(ReportError, match="truncated"):
        parse_reports(whole[: len(whole) // 2], "cut.xml.gz")
    with pytest.raises(ReportError, match="not well-formed XML"):
        report(feedback(record())[:-30])
    with pytest.raises(ReportError, match="not a readable zip"):
        parse_reports(b"PK\x03\x04" + b"\0" * 40, "cut.zip")


def test_zlib_stream_and_gzip_with_trailing_bytes_are_read():
    text = feedback(record()).encode()
    assert parse_reports(zlib.compress(text))[0].layers == ("zlib",)
    assert len(parse_reports(gzip.compress(text) + b"\r\n")[0].rows) == 1


def test_wrong_namespace_and_other_documents_are_refused():
    with pytest.raises(ReportError, match="unknown XML namespace 'urn:example:other'"):
        report(feedback(record(), namespace="urn:example:other"))
    with pytest.raises(ReportError, match="no <feedback> element"):
        report("<html><body><p>hello</p></body></html>")
    with pytest.raises(ReportError, match="no report id"):
        report(feedback(record()).replace("<report_id>42</report_id>", ""))
    with pytest.raises(ReportError, match="no <policy_published>"):
        report(
            feedback(record())
            .replace("<policy_published>", "<policy>")
            .replace("</policy_published>", "</policy>")
        )
    with pytest.raises(ReportError, match="record 2: source_ip 'nowhere' is not an IP address"):
        report(feedback(record() + record(ip="nowhere")))
    with pytest.raises(ReportError, match="record 1: the message count is not a number"):
        report(feedback(record(count="many")))
    with pytest.raises(ReportError, match="longer than 1024 characters"):
        report(feedback(record(header_from="a" * 2000)))


def test_rfc9990_namespace_and_a_wrapper_element_are_accepted():
    parsed = report(feedback(record(), namespace="urn:ietf:params:xml:ns:dmarc-2.0"))
    assert parsed.header.domain == "example.com"
    assert len(report(f"<wrapper>{feedback(record())}</wrapper>").rows) == 1


def test_a_huge_report_is_streamed_row_by_row():
    rows = 50_000

    def chunks():
        yield feedback().replace("</feedback>", "").encode()
        for i in range(rows):
            yield record(ip=f"10.{i // 65536}.{i // 256 % 256}.{i % 256}").encode()
        yield b"</feedback>"

    data = gzip.compress(b"".join(chunks()))
    (payload,) = unpack(data, "huge.xml.gz")
    reader = read_report(payload.stream, payload.name)
    first = next(iter_rows := iter(reader))
    assert reader.header.report_id == "42" and first.source_ip == "10.0.0.0"
    assert 1 + sum(1 for _ in iter_rows) == rows
    assert len(reader.stream.raw.inflater.unused_data) == 0  # read to the end, once


def test_an_email_without_a_report_is_refused():
    mail = b"From: a@example.net\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nHello\r\n"
    with pytest.raises(UnpackError, match="e-mail without a report attachment"):
        unpack(mail, "hello.eml")


# ----------------------------------------------------------------------------- figures


def test_alignment_and_the_share_refused_at_reject():
    parsed = report(feedback(record(count=7) + record(count=3, dkim="fail", spf="fail")))
    assert [row.aligned for row in parsed.rows] == [True, False]
    share = reject_share((row.count, row.aligned) for row in parsed.rows)
    assert (share.total, share.refused, share.percent) == (10, 3, 30.0)
    assert reject_share([]).percent == 0.0


def test_rua_merged_into_the_published_record_stays_valid():
    proposal = propose_rua("example.com", "dmarc-reports@example.com", "v=DMARC1; p=quarantine; pct=50")
    (dmarc,) = parse_fix(proposal.fix)
    assert (dmarc.host(), dmarc.type, dmarc.value) == (
        "_dmarc",
        "TXT",
        "v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@example.com; pct=50",
    )
    record = parse_dmarc_record(dmarc.value)
    assert (record.policy, record.pct) == ("quarantine", 50)
    assert proposal.authorization is None


def test_rua_appended_to_other_destinations_and_authorization_for_another_domain():
    proposal = propose_rua(
        "shop.example.com",
        "dmarc-reports@reports.example.net",
        "v=DMARC1; p=none; rua=mailto:old@example.com",
        record_domain="example.com",
    )
    dmarc, authorization = parse_fix(proposal.fix)
    assert dmarc.name == "_dmarc.example.com"
    assert [u.uri for u in parse_dmarc_record(dmarc.value).rua] == [
        "mailto:old@example.com",
        "mailto:dmarc-reports@reports.example.net",
    ]
    assert (authorization.name, authorization.type, authorization.value) == (
        "example.com._report._dmarc.reports.example.net",
        "TXT",
        "v=DMARC1",
    )


def test_rua_proposal_without_record_already_there_or_invalid():
    fresh = propose_rua("example.org", "r@example.org", None)
    assert parse_fix(fresh.fix)[0].value == "v=DMARC1; p=none; rua=mailto:r@example.org"
    present = propose_rua("example.org", "R@Example.org", "v=DMARC1; p=reject; rua=mailto:r@example.org")
    assert (present.record, present.fix) == (None, "")
    broken = propose_rua("example.org", "r@example.org", "v=DMARC1; p=block")
    assert broken.record is None and "invalid" in broken.error
