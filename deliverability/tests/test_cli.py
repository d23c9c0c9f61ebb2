"""The command line against a real NSD: verdicts and fixes, the JSON contract, exit codes, bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from deliverability import cli
from deliverability.dns import Nameserver, system_nameservers
from deliverability.testing.keys import dkim_rsa_record

ROOT = Path(__file__).resolve().parents[2]


ZONES = {
    "provider.example": "\n".join(
        [
            '_spf IN TXT "v=spf1 ip4:192.0.2.0/25 ~all"',
            f"mail._domainkey IN TXT {dkim_rsa_record()}",
        ]
    ),
    # everything right for the provider _spf.provider.example with DKIM selector "mail"
    "healthy.example": "\n".join(
        [
            '@ IN TXT "v=spf1 include:_spf.provider.example -all"',
            "@ IN MX 10 mx",
            "mx IN A 198.51.100.25",
            "mail._domainkey IN CNAME mail._domainkey.provider.example.",
            '_dmarc IN TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@healthy.example"',
        ]
    ),
    # p=reject, no DKIM, and an SPF record without the provider's include
    "strict.example": "\n".join(
        [
            '@ IN TXT "v=spf1 ip4:198.51.100.1 -all"',
            "@ IN MX 10 mx",
            "mx IN A 198.51.100.26",
            '_dmarc IN TXT "v=DMARC1; p=reject"',
        ]
    ),
    # no mail records at all
    "bare.example": "www IN A 198.51.100.80",
}
HEALTHY = ["--spf-include", "_spf.provider.example", "--dkim-selector", "mail"]


@pytest.fixture
def ns(nsd):
    return ["--nameserver", nsd.address, "--timeout", "1"]


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def run_cli(*argv: str, stdout: io.StringIO | None = None, stderr: io.StringIO | None = None):
    out, err = stdout or io.StringIO(), stderr or io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_healthy_domain_passes_with_exit_0(ns):
    code, out, err = run_cli("check", "healthy.example", *HEALTHY, *ns)
    assert code == 0, out
    assert out.startswith("healthy.example: PASS")
    for check in ("SPF", "DKIM (mail", "DMARC (p=quarantine)", "MX"):
        assert f"] {check}" in out
    assert "[FAIL]" not in out and "publish:" not in out
    assert out.rstrip().endswith("1 domain checked: 1 pass")
    assert err.startswith("provider: Custom (SPF include:_spf.provider.example, DKIM mail): given with")
    assert err.endswith("given with --spf-include\n") and err.count("\n") == 1


def test_missing_records_fail_with_the_records_to_publish(ns):
    code, out, err = run_cli("check", "bare.example", *ns)
    assert code == 1
    assert out.startswith("bare.example: FAIL")
    assert "[FAIL] SPF" in out and "[FAIL] DKIM (flectra)" in out
    spf_fix = out.split("[FAIL] SPF", 1)[1].split("publish:", 1)[1].splitlines()[1].strip()
    assert spf_fix == 'bare.example. IN TXT "v=spf1 include:_spf.flectra.com ~all"'
    assert "flectra._domainkey.flectra.com." in out
    assert err == (
        "provider: Flectra (SPF include:_spf.flectra.com, DKIM flectra): the default; "
        "choose yours with --provider or --spf-include\n"
    )


def test_the_provider_line_names_the_selectors_given(ns):
    _, _, err = run_cli("check", "bare.example", "--provider", "mailgun", "--dkim-selector", "K1", *ns)
    assert err.startswith("provider: Mailgun (SPF include:mailgun.org, DKIM k1): chosen with --provider")
    _, _, err = run_cli("check", "bare.example", "--dkim-selector", "s1", "--dkim-selector", "flectra", *ns)
    assert err.startswith("provider: Flectra (SPF include:_spf.flectra.com, DKIM flectra, s1): the default")


def test_odoo_provider_switches_include_and_selector(ns):
    _, out, err = run_cli("check", "bare.example", "--provider", "odoo", *ns)
    assert err.startswith("provider: Odoo (SPF include:_spf.odoo.com, DKIM odoo): chosen with --provider")
    assert 'IN TXT "v=spf1 include:_spf.odoo.com ~all"' in out
    assert "DKIM (odoo)" in out and "odoo._domainkey.odoo.com." in out
    assert "flectra" not in out


def test_own_smtp_server_is_judged_by_its_addresses(ns):
    """--provider own: no include asked for; the --ip addresses must pass, the fix authorizes them."""
    code, out, err = run_cli("check", "strict.example", "--provider", "own", "--ip", "192.0.2.25", *ns)
    assert err.startswith("provider: My own SMTP server (SPF by the --ip addresses, DKIM no selector")
    assert "include:" not in out
    assert 'IN TXT "v=spf1 ip4:198.51.100.1 ip4:192.0.2.25 -all"' in out
    _, out, _ = run_cli("check", "strict.example", "--provider", "own", "--ip", "198.51.100.1", *ns)
    assert "every sending IP passes" in out


def test_json_contract(ns):
    code, out, err = run_cli(
        "check",
        "healthy.example",
        "strict.example",
        *HEALTHY,
        "--ip",
        "192.0.2.7",
        "--ip",
        "203.0.113.9",
        "--json",
        *ns,
    )
    assert code == 1 and err == ""
    document = json.loads(out)
    assert list(document) == ["domains", "nameservers"]
    healthy, strict = document["domains"]
    assert [healthy["domain"], strict["domain"]] == ["healthy.example", "strict.example"]
    for domain in (healthy, strict):
        assert {"domain", "checks", "spf_evaluations"} <= set(domain)
        assert [c["check"] for c in domain["checks"]] == ["spf", "dkim", "dmarc", "mx"]
        for check in domain["checks"]:
            assert {"check", "status", "summary", "fix"} <= set(check)
            assert check["status"] in ("pass", "warning", "fail", "unknown")
    dkim = healthy["checks"][1]
    assert (dkim["selector"], dkim["key_bits"], dkim["status"]) == ("mail", 2048, "pass")
    assert healthy["checks"][2]["policy"] == "quarantine"
    assert strict["checks"][2]["policy"] == "reject"
    assert strict["checks"][2]["status"] == "fail"  # p=reject, SPF without the include, no DKIM
    assert strict["checks"][1]["fix"] is not None
    assert [(e["ip"], e["result"]) for e in healthy["spf_evaluations"]] == [
        ("192.0.2.7", "pass"),
        ("203.0.113.9", "fail"),
    ]


def test_ip_evaluations_in_text(ns):
    _, out, _ = run_cli("check", "healthy.example", *HEALTHY, "--ip", "192.0.2.7", "--ip", "2001:db8::1", *ns)
    assert "SPF check_host for 192.0.2.7: pass" in out
    assert "SPF check_host for 2001:db8::1: fail" in out


def test_several_domains_in_order_with_a_tally(ns):
    code, out, _ = run_cli("check", "strict.example", "healthy.example", "Bare.Example.", *HEALTHY, *ns)
    assert code == 1
    heads = [line for line in out.splitlines() if line and not line.startswith(" ")][:-1]
    assert [h.split(":")[0] for h in heads] == ["strict.example", "healthy.example", "bare.example"]
    assert out.rstrip().endswith("3 domains checked: 1 pass, 2 fail")


def test_duplicate_domains_are_checked_once(ns):
    _, out, _ = run_cli(
        "check", "healthy.example", "HEALTHY.example", "postmaster@healthy.example", "--json", *ns
    )
    assert [d["domain"] for d in json.loads(out)["domains"]] == ["healthy.example"]


def test_unanswered_dns_is_unknown_with_its_own_exit_status(nsd, ns):
    # not served by the NSD: it refuses, so nothing can be judged
    code, out, _ = run_cli("check", "elsewhere.test", "--json", *ns)
    document = json.loads(out)
    assert {c["status"] for c in document["domains"][0]["checks"]} == {"unknown"}
    assert document["nameservers"] == [nsd.address]
    assert code == cli.EXIT_UNKNOWN == 3
    code, text, _ = run_cli("check", "elsewhere.test", "healthy.example", *HEALTHY, *ns)
    assert code == 3
    assert "  [UNKNOWN] SPF: " in text and "????" not in text
    assert f"nameserver asked: {nsd.address} (another can be given with --nameserver)" in text
    assert "retried" not in text
    assert run_cli("check", "elsewhere.test", "bare.example", *ns)[0] == cli.EXIT_FAILED  # a failure wins


def test_exit_statuses_are_in_the_help(capsys):
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["check", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "3 none failed but some could not be checked (DNS did not answer)" in help_text
    assert "IP, IP:PORT or [IPv6]:PORT" in help_text


def test_summaries_wrap_to_the_terminal_width(ns, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, _ = run_cli("check", "bare.example", "strict.example", *ns, stdout=Tty())
    lines = out.splitlines()
    records = {i + 1 for i, line in enumerate(lines) if line.strip() == "publish:"}
    records |= {i for i, line in enumerate(lines) if " IN " in line and line.startswith(" " * 11)}
    too_long = [line for i, line in enumerate(lines) if len(line) > 60 and i not in records]
    assert not [line for line in too_long if " " in line.strip()], too_long  # only unbreakable words remain
    assert any(line.startswith(" " * 9) and not line.startswith(" " * 10) for line in lines)
    _, piped, _ = run_cli("check", "bare.example", "strict.example", *ns)
    assert max(len(line) for line in piped.splitlines()) > 60  # a pipe gets whole lines


def test_colour_only_on_a_terminal_without_no_color(ns, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "500")  # a terminal wide enough that nothing wraps
    _, plain, _ = run_cli("check", "bare.example", *ns)
    _, coloured, _ = run_cli("check", "bare.example", *ns, stdout=Tty())
    assert "\033[" not in plain
    assert "\033[31m[FAIL]\033[0m SPF" in coloured
    monkeypatch.setenv("NO_COLOR", "1")
    _, no_color, _ = run_cli("check", "bare.example", *ns, stdout=Tty())
    assert no_color == plain


def test_progress_on_a_terminal_for_long_lists(ns):
    domains = [f"host{i}.bare.example" for i in range(cli.PROGRESS_MIN_DOMAINS)]
    _, _, err = run_cli("check", *domains, *ns, stderr=Tty())
    provider, _, progress = err.partition("\n")
    assert provider.startswith("provider: ")
    assert progress.startswith(f"\rchecked 0/{len(domains)} domains")  # drawn before any answer
    assert f"checked {len(domains)}/{len(domains)} domains" in progress
    _, _, quiet = run_cli("check", *domains, *ns)
    _, _, short = run_cli("check", *domains[:2], *ns, stderr=Tty())
    assert "checked" not in quiet + short


@pytest.mark.parametrize(
    "argv, message",
    [
        (["check", "not a domain"], "'not a domain' is not a valid domain name"),
        (["check", "example"], "'example' is not a valid domain name"),
        (["check", "192.0.2.1"], "'192.0.2.1': an IP address is not a domain"),
        (["check", "ok.example", "2001:db8::1"], "'2001:db8::1': an IP address is not a domain"),
        (["check", "[::1]"], "'[::1]': an IP address is not a domain"),
        (["check", "jane@192.0.2.1"], "'jane@192.0.2.1': an IP address is not a domain"),
        (
            ["check", "ok.example", "--ip", "192.0.2.300"],
            "--ip: '192.0.2.300' is not an IPv4 or IPv6 address",
        ),
        (["check", "ok.example", "--nameserver", "dns.example"], "'dns.example' is not an IP address"),
        (["check", "ok.example", "--nameserver", "127.0.0.1:0"], "port '0' is not in 1-65535"),
        (
            ["check", "ok.example", "--dkim-selector", "bad selector"],
            "'bad selector' is not a valid DKIM selector",
        ),
        (["check", "ok.example", "--spf-include=-x-.example"], "--spf-include: '-x-.example' is not a valid"),
        (["check", "ok.example", "--spf-include", "192.0.2.1"], "--spf-include: '192.0.2.1' is not a domain"),
        (["check", "ok.example", "--spf-include", "[2001:db8::1]"], "'[2001:db8::1]' is not a domain name"),
        (["check", "ok.example", "--provider", "gmail"], "invalid choice: 'gmail'"),
        (
            ["check", "ok.example", "--provider", "odoo", "--spf-include", "_spf.example.com"],
            "not allowed with",
        ),
        (["check", "ok.example", "--timeout", "0"], "--timeout must be a positive number of seconds"),
        (["check", "ok.example", "--timeout", "soon"], "invalid float value: 'soon'"),
        (["check"], "the following arguments are required: DOMAIN"),
        ([], "the following arguments are required: COMMAND"),
        (["verify", "ok.example"], "invalid choice: 'verify'"),
    ],
)
def test_usage_errors_exit_2_with_one_line(argv, message):
    code, out, err = (
        run_cli(*argv, "--nameserver", "127.0.0.1:9") if argv[:1] == ["check"] else run_cli(*argv)
    )
    assert code == 2
    assert out == ""
    assert err.startswith("deliverability: error: ") and err.count("\n") == 1
    assert message in err


def test_without_nameserver_the_system_resolvers_are_used(monkeypatch, tmp_path):
    empty = tmp_path / "resolv.conf"
    empty.write_text("search example.com\noptions ndots:2\n")
    monkeypatch.setattr(cli, "RESOLV_CONF", str(empty))
    code, _, err = run_cli("check", "ok.example")
    assert code == 2
    assert f"no nameserver in {empty}: give one with --nameserver IP[:PORT]" in err


def test_system_nameservers_reads_resolv_conf(tmp_path):
    conf = tmp_path / "resolv.conf"
    conf.write_text(
        "# generated\nnameserver 192.0.2.53\n; nameserver 192.0.2.54\nnameserver   2001:db8::53  \n"
        "nameserver bogus\nsearch example.com\nnameserver\n"
    )
    assert system_nameservers(str(conf)) == [Nameserver("192.0.2.53"), Nameserver("2001:db8::53")]
    assert system_nameservers(str(tmp_path / "missing")) == []


def test_module_entry_point_as_subprocess(nsd):
    command = [sys.executable, "-m", "deliverability", "check", "healthy.example", "strict.example", *HEALTHY]
    done = subprocess.run(
        [*command, "--nameserver", nsd.address, "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert [d["domain"] for d in json.loads(done.stdout)["domains"]] == ["healthy.example", "strict.example"]
    bad = subprocess.run([*command, "--nameserver", "::1:99999"], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stdout == ""
    assert "Traceback" not in bad.stderr and bad.stderr.startswith("deliverability: error: bad nameserver")


LOADED_WHEN_ASKED = """
import json
import sys
from deliverability import cli, dns

asked = []
query = dns.DnsResolver.query

async def recorded(self, name, rtype):
    asked.append((name, rtype, "deliverability.checks" in sys.modules))
    return await query(self, name, rtype)

dns.DnsResolver.query = recorded
cli.DOMAINS_AT_ONCE = int(sys.argv.pop(1))  # the domains the checks start at once
cli.main(sys.argv[1:], stdout=open("/dev/null", "w"))
print(json.dumps(asked))
"""


@pytest.mark.parametrize(
    "at_once, first", [(128, ["healthy.example", "strict.example"]), (1, ["healthy.example"])]
)
def test_the_first_questions_go_out_before_the_checks_are_loaded(nsd, at_once, first):
    """A fresh process asks the SPF records of the include and of the domains the checks start at
    once, then loads the checks (about a third of its imports) while they are on the wire."""
    command = [sys.executable, "-c", LOADED_WHEN_ASKED, str(at_once), "check", "healthy.example"]
    command += ["strict.example", *HEALTHY, "--nameserver", nsd.address]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    asked = json.loads(done.stdout)
    include = HEALTHY[HEALTHY.index("--spf-include") + 1]
    before = [[name, rtype] for name, rtype, loaded in asked if not loaded]
    assert before == [[include, "TXT"], *([name, "TXT"] for name in first)]
    assert len(asked) > len(before) and all(loaded for *_, loaded in asked[len(before) :])


def test_demo_shows_a_healthy_domain_a_missing_include_and_reject_without_dkim(capsys):
    from deliverability.testing import demo

    assert demo.main(["--json"]) == 0
    reports = {
        d["domain"]: {c["check"]: c for c in d["checks"]}
        for d in json.loads(capsys.readouterr().out)["domains"]
    }
    assert {c["status"] for c in reports["healthy.example"].values()} == {"pass"}
    assert reports["noinclude.example"]["spf"]["fix"] == (
        'noinclude.example. IN TXT "v=spf1 include:_spf.provider.example include:_spf.google.example ~all"'
    )
    strict = reports["strict.example"]
    assert (strict["dmarc"]["policy"], strict["dmarc"]["status"], strict["dkim"]["status"]) == (
        "reject",
        "fail",
        "fail",
    )
