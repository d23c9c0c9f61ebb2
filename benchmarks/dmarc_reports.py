"""DMARC aggregate reports: parse and store a generated report of 100,000 rows, and many small ones.

    .venv/bin/python benchmarks/dmarc_reports.py                       # the engine alone
    /work/main/.venv-odoo/bin/python benchmarks/dmarc_reports.py --odoo /work/odoo18 \\
        --addons-path /work/odoo18/addons,/work/addons -d mdh_bench     # and the Odoo part

Each part runs in a process of its own; the times are measured inside that process (the
parsing or the mail gateway alone: no interpreter start, imports or registry loading), the
memory is the peak RSS of the whole process:
- engine: the large report (gzip, streamed) parsed row by row; then typical small reports
  (a gzip of 20 rows, as Google sends) parsed one after the other: reports/s.
- Odoo: the same large report mailed to the reports alias and read by ``message_process``
  (the mail gateway: mail parsing, the report, its rows and sources stored), against
  Odoo's cron time limit; then small reports mailed one by one: reports/s. The database is
  created with the module when it does not exist; the benchmark's reports are removed at the end.
Only 127.0.0.1 (PostgreSQL) is contacted.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from cron_scale import database_options, ensure_database  # this folder is on the path of a script run from it

ROOT = Path(__file__).resolve().parents[1]
MEMORY_GOAL_MB = 200
LARGE_ROWS = 100_000
SMALL_ROWS = 20


def report_xml(report_id: str, rows: int, domain: str = "bench.test") -> bytes:
    """An RFC 7489 report of ``rows`` records from distinct IPs; one in seven fails DMARC."""
    head = (
        '<?xml version="1.0" encoding="UTF-8" ?><feedback><report_metadata>'
        "<org_name>bench.receiver</org_name>"
        f"<email>noreply-dmarc@bench.receiver</email><report_id>{report_id}</report_id>"
        "<date_range><begin>1700006400</begin><end>1700092799</end></date_range></report_metadata>"
        f"<policy_published><domain>{domain}</domain><adkim>r</adkim><aspf>r</aspf><p>none</p><sp>none</sp>"
        "<pct>100</pct></policy_published>\n"
    )
    parts = [head]
    for i in range(rows):
        ok = "fail" if i % 7 == 0 else "pass"
        parts.append(
            f"<record><row><source_ip>10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}</source_ip>"
            f"<count>{1 + i % 50}"
            f"</count><policy_evaluated><disposition>none</disposition><dkim>{ok}</dkim><spf>{ok}</spf>"
            f"</policy_evaluated></row><identifiers><header_from>{domain}</header_from></identifiers>"
            f"<auth_results><dkim><domain>{domain}</domain><selector>s1</selector><result>{ok}</result></dkim>"
            f"<spf><domain>{domain}</domain><result>{ok}</result></spf></auth_results></record>\n"
        )
    parts.append("</feedback>\n")
    return "".join(parts).encode()


def peak_rss_mb() -> float:
    """The peak RSS of this process since it started (VmHWM; ``ru_maxrss`` keeps the parent's over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report_mail(name: str, data: bytes) -> bytes:
    message = EmailMessage()
    message["From"] = "noreply-dmarc@bench.receiver"
    message["To"] = "dmarc-reports@bench.test"
    message["Subject"] = f"Report domain: bench.test Submitter: bench.receiver Report-ID: {name}"
    message["Message-Id"] = make_msgid(domain="bench.receiver")
    message.set_content("This is an aggregate report.")
    message.add_attachment(data, maintype="application", subtype="gzip", filename=name)
    return message.as_bytes()


# ----------------------------------------------------------------------------- engine part


def engine_part(args) -> dict:
    sys.path.insert(0, str(ROOT))
    from deliverability.dmarc_reports import parse_reports, read_report
    from deliverability.report_archive import unpack

    large = Path(args.large).read_bytes()
    rss_before = peak_rss_mb()
    start = time.perf_counter()
    (payload,) = unpack(large, "large.xml.gz")
    reader = read_report(payload.stream, payload.name)
    rows = messages = 0
    for row in reader:
        rows += 1
        messages += row.count
    large_seconds = time.perf_counter() - start
    small = [gzip.compress(report_xml(f"small-{i}", SMALL_ROWS)) for i in range(args.small)]
    start = time.perf_counter()
    for data in small:
        parse_reports(data, "small.xml.gz")
    small_seconds = time.perf_counter() - start
    return {
        "rows": rows,
        "messages": messages,
        "large_seconds": large_seconds,
        "small": len(small),
        "small_seconds": small_seconds,
        "rss_before": rss_before,
        "rss_peak": peak_rss_mb(),
    }


# ----------------------------------------------------------------------------- Odoo part


def odoo_part(args) -> dict:
    sys.path.insert(0, args.odoo)
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.tools import config

    config.parse_config(
        [f"--addons-path={args.addons_path}", f"--db_host={args.db_host}", f"--db_user={args.db_user}"]
    )
    import logging

    logging.getLogger("odoo").setLevel(logging.WARNING)
    limit = config["limit_time_real_cron"]
    limit = config["limit_time_real"] if limit < 0 else limit
    large = report_mail("large.xml.gz", Path(args.large).read_bytes())
    small = [
        report_mail(f"small-{i}.xml.gz", gzip.compress(report_xml(f"small-{i}", SMALL_ROWS)))
        for i in range(args.small)
    ]
    registry = odoo.modules.registry.Registry(args.database)
    rss_loaded = peak_rss_mb()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        alias = env.ref("mail_domain_health.mail_alias_dmarc_reports")
        domain = env["mail.alias.domain"].search([("name", "=", "bench.test")]) or env[
            "mail.alias.domain"
        ].create({"name": "bench.test"})
        saved_domain = alias.alias_domain_id
        alias.alias_domain_id = domain
        Report = env["mail.dmarc.report"]
        Report.search([("org_name", "=", "bench.receiver")]).unlink()
        cr.commit()
        try:
            start = time.perf_counter()
            env["mail.thread"].message_process(False, large)
            cr.commit()
            large_seconds = time.perf_counter() - start
            stored = Report.search([("external_id", "=", "large")])
            rows = stored.row_count
            rss_large = peak_rss_mb()
            start = time.perf_counter()
            for raw in small:
                env["mail.thread"].message_process(False, raw)
                cr.commit()
            small_seconds = time.perf_counter() - start
            small_stored = Report.search_count([("external_id", "=like", "small-%")])
        finally:
            Report.search([("org_name", "=", "bench.receiver")]).unlink()
            env["mail.dmarc.source"].search([("ip", "=like", "10.%")]).unlink()
            alias.alias_domain_id = saved_domain
            cr.commit()
    return {
        "rows": rows,
        "large_seconds": large_seconds,
        "small": small_stored,
        "small_seconds": small_seconds,
        "rss_loaded": rss_loaded,
        "rss_large": rss_large,
        "rss_peak": peak_rss_mb(),
        "limit": limit,
    }


# ----------------------------------------------------------------------------- driver


def child(part: str, args, large: Path) -> dict:
    command = [sys.executable, __file__, "--part", part, "--large", str(large), "--small", str(args.small)]
    if part == "odoo":
        command += ["--odoo", args.odoo, "--addons-path", args.addons_path, "-d", args.database,
                    "--db-host", args.db_host, "--db-user", args.db_user]  # fmt: skip
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--odoo", help="Odoo 18 source tree: also run the Odoo part")
    database_options(parser, "mdh_bench")
    parser.add_argument("--small", type=int, default=200, help="small reports to parse / mail")
    parser.add_argument("--part", choices=("engine", "odoo"), help=argparse.SUPPRESS)
    parser.add_argument("--large", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        print(json.dumps((engine_part if args.part == "engine" else odoo_part)(args)))
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        large = Path(tmp) / "large.xml.gz"
        xml = report_xml("large", LARGE_ROWS)
        large.write_bytes(gzip.compress(xml, 6))
        print(f"generated report: {LARGE_ROWS} rows, {len(xml) / 2**20:.1f} MB of XML, "
              f"{large.stat().st_size / 2**20:.1f} MB gzipped")  # fmt: skip
        del xml
        engine = child("engine", args, large)
        print("engine (deliverability.dmarc_reports, own process; times measured in it):")
        print(f"  {engine['rows']} rows parsed in {engine['large_seconds']:.2f} s "
              f"({engine['rows'] / engine['large_seconds']:.0f} rows/s, "
              f"{engine['messages']} messages)")  # fmt: skip
        print(f"  {engine['small']} small reports ({SMALL_ROWS} rows, gzip) "
              f"in {engine['small_seconds']:.2f} s: "
              f"{engine['small'] / engine['small_seconds']:.0f} reports/s")  # fmt: skip
        print(f"  peak RSS {engine['rss_peak']:.0f} MB (goal < {MEMORY_GOAL_MB} MB)")
        ok = engine["rows"] == LARGE_ROWS and engine["rss_peak"] < MEMORY_GOAL_MB
        if args.odoo:
            ensure_database(args)
            odoo = child("odoo", args, large)
            limit = odoo["limit"]
            print("Odoo (message_process on the reports alias, own process; times measured in it):")
            print(f"  RSS after loading the registry: {odoo['rss_loaded']:.0f} MB")
            share = (
                f"{100 * odoo['large_seconds'] / limit:.0f}% of Odoo's cron limit of {limit} s"
                if limit > 0
                else ""
            )
            print(
                f"  {odoo['rows']} rows mailed, parsed and stored in {odoo['large_seconds']:.2f} s ({share})"
            )
            print(f"  peak RSS {odoo['rss_large']:.0f} MB with the large report "
                  f"(+{odoo['rss_large'] - odoo['rss_loaded']:.0f} MB over the loaded registry; "
                  f"goal < {MEMORY_GOAL_MB} MB)")  # fmt: skip
            print(f"  {odoo['small']} small reports mailed and stored in {odoo['small_seconds']:.2f} s: "
                  f"{odoo['small'] / odoo['small_seconds']:.1f} reports/s")  # fmt: skip
            ok &= odoo["rows"] == LARGE_ROWS and odoo["rss_large"] < MEMORY_GOAL_MB
            ok &= limit <= 0 or odoo["large_seconds"] < limit
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
