"""Domain health cron at scale: the daily cron over N domains served by a real NSD on loopback.

    /work/odoo-venv/bin/python benchmarks/cron_scale.py --odoo /work/odoo18 \\
        --addons-path /work/odoo18/addons,/work/addons -d mdh_bench [--domains 1000]

The database is created with the module installed when it does not exist. N domains
(each its own zone: SPF with the provider's include, a DKIM key, DMARC, MX; every 13th
without the include, every 10th without DKIM) are watched, then ``_cron_check_domains``
runs as the scheduler runs it (committing its batches), twice: the first run stores
every result, the second finds them unchanged (the daily steady state). For each run:
wall time, the time spent in the engine's checks (DNS and verdicts) and, within it, the
time with at least one DNS query on the wire, DNS queries/s, peak RSS of this process,
compared with Odoo's default cron time limit. Only 127.0.0.1 is contacted; the benchmark's records and
settings are removed at the end.
"""

from __future__ import annotations

import argparse
import logging
import resource
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SENDING_IP = "192.0.2.25"
PARAMS = {
    "mail_domain_health.provider": "custom",
    "mail_domain_health.spf_include": "_spf.mailer.test",
    "mail_domain_health.dkim_selectors": "bench",
    "mail_domain_health.sending_ips": SENDING_IP,
    "mail_domain_health.dns_timeout": "2.0",
}


def domain_name(index: int) -> str:
    return f"h{index:05d}.test"


def zones(count: int) -> dict[str, str]:
    from odoo.addons.mail_domain_health.deliverability.testing.keys import dkim_rsa_record

    chunks = dkim_rsa_record()
    result = {
        "mailer.test": "\n".join(
            [
                '_spf IN TXT "v=spf1 include:_a._spf.mailer.test include:_b._spf.mailer.test ~all"',
                f'_a._spf IN TXT "v=spf1 ip4:{SENDING_IP} ip4:198.51.100.0/26 ~all"',
                '_b._spf IN TXT "v=spf1 ip6:2001:db8:100::/48 ~all"',
                "mx IN A 192.0.2.30",
            ]
        )
    }
    for i in range(count):
        include = "" if i % 13 == 0 else "include:_spf.mailer.test "
        records = [
            f'@ IN TXT "v=spf1 mx {include}-all"',
            "@ IN MX 10 mx.mailer.test.",
            f'_dmarc IN TXT "v=DMARC1; p={"reject" if i % 7 == 0 else "quarantine"}"',
        ]
        if i % 10:
            records.append(f"bench._domainkey IN TXT {chunks}")
        result[domain_name(i)] = "\n".join(records)
    return result


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def database_exists(args) -> bool:
    import psycopg2

    conn = psycopg2.connect(dbname="postgres", host=args.db_host, user=args.db_user)
    try:
        with conn.cursor() as cr:
            cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", (args.database,))
            return bool(cr.fetchone())
    finally:
        conn.close()


def vacuum_when_autovacuum_is_off(args) -> bool:
    """``VACUUM ANALYZE`` the database when the server's autovacuum is off (as on this test
    server), so that runs do not measure the dead rows earlier runs left: a database with
    autovacuum on has few of them. True when it did."""
    import psycopg2

    conn = psycopg2.connect(dbname=args.database, host=args.db_host, user=args.db_user)
    try:
        conn.autocommit = True
        with conn.cursor() as cr:
            cr.execute("SHOW autovacuum")
            if cr.fetchone()[0] == "on":
                return False
            cr.execute("VACUUM ANALYZE")
            return True
    finally:
        conn.close()


def database_options(parser: argparse.ArgumentParser, database: str) -> None:
    """The options ``ensure_database`` reads (besides ``--odoo``): addons path, database, host, user."""
    parser.add_argument("--addons-path", default="/work/odoo18/addons,/work/addons")
    parser.add_argument("-d", "--database", default=database)
    parser.add_argument("--db-host", default="127.0.0.1")
    parser.add_argument("--db-user", default="odoo")


def ensure_database(args) -> None:
    """Create ``args.database`` with mail_domain_health installed unless it exists."""
    if database_exists(args):
        return
    print(f"creating database {args.database} with mail_domain_health ...", file=sys.stderr)
    subprocess.run(
        [sys.executable, f"{args.odoo}/odoo-bin", f"--addons-path={args.addons_path}",
         f"--db_host={args.db_host}", f"--db_user={args.db_user}", "-d", args.database,
         "-i", "mail_domain_health", "--without-demo=all", "--stop-after-init", "--no-http",
         "--log-level=warn"],
        check=True,
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--odoo", default="/work/odoo18", help="Odoo 18 source tree")
    database_options(parser, "mdh_bench")
    parser.add_argument("--domains", type=int, default=1000)
    args = parser.parse_args()

    ensure_database(args)

    sys.path.insert(0, args.odoo)
    import odoo
    from odoo import SUPERUSER_ID, api, fields
    from odoo.tools import config

    config.parse_config(
        [f"--addons-path={args.addons_path}", f"--db_host={args.db_host}", f"--db_user={args.db_user}"]
    )
    from odoo.addons.mail_domain_health.deliverability import checks
    from odoo.addons.mail_domain_health.deliverability import options as engine_options
    from odoo.addons.mail_domain_health.deliverability.testing.nsd import NsdServer
    from odoo.addons.mail_domain_health.models import mail_domain_health_cron as cron_module

    resolvers = []
    on_wire = {"queries": 0, "since": 0.0, "seconds": 0.0}  # time with at least one query on the wire

    class CountingResolver(engine_options.DnsResolver):
        def __post_init__(self):
            super().__post_init__()
            resolvers.append(self)

        async def _exchange(self, *exchange_args):
            if not on_wire["queries"]:
                on_wire["since"] = time.perf_counter()
            on_wire["queries"] += 1
            try:
                return await super()._exchange(*exchange_args)
            finally:
                on_wire["queries"] -= 1
                if not on_wire["queries"]:
                    on_wire["seconds"] += time.perf_counter() - on_wire["since"]

    engine_options.DnsResolver = CountingResolver  # every run's resolver (RunOptions.resolver)
    engine_seconds = []
    real_run = checks.run

    def timed_run(names, options, run_options, policies_of=(), on_reports=None, on_policies=None):
        # what the caller stores during the run, as domains are done (the ORM, not the engine)
        storing = [0.0]

        def timed(callback):
            def call(found):
                start = time.perf_counter()
                try:
                    callback(found)
                finally:
                    storing[0] += time.perf_counter() - start

            return callback and call

        start = time.perf_counter()
        try:
            return real_run(names, options, run_options, policies_of, timed(on_reports), timed(on_policies))
        finally:
            engine_seconds.append(time.perf_counter() - start - storing[0])

    checks.run = timed_run
    logging.getLogger("odoo").setLevel(logging.WARNING)
    logging.getLogger(cron_module.__name__).setLevel(logging.INFO)

    limit = config["limit_time_real_cron"]
    limit = config["limit_time_real"] if limit < 0 else limit
    names = [domain_name(i) for i in range(args.domains)]
    print(f"serving {len(names)} domains from NSD ...", file=sys.stderr)
    with NsdServer(zones(len(names)), servers=2) as server:
        registry = odoo.modules.registry.Registry(args.database)
        rss_loaded = peak_rss_mb()
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            icp = env["ir.config_parameter"].sudo()
            saved = {key: icp.get_param(key) for key in [*PARAMS, "mail_domain_health.nameservers"]}
            for key, value in {**PARAMS, "mail_domain_health.nameservers": server.address}.items():
                icp.set_param(key, value)
            health = env["mail.domain.health"]
            health.search([("name", "=like", "h%.test")]).unlink()
            health._health_ensure(names, manual=True)
            cr.commit()
            results = []
            try:
                for label in ("first run (stores every result)", "second run (results unchanged)"):
                    resolvers.clear()
                    engine_seconds.clear()
                    on_wire["seconds"] = 0.0
                    health.search([]).write({"last_check": fields.Datetime.now() - timedelta(days=1)})
                    cr.commit()
                    vacuumed = vacuum_when_autovacuum_is_off(args)
                    start = time.perf_counter()
                    health._cron_check_domains()
                    wall = time.perf_counter() - start
                    sent = sum(r.stats.sent for r in resolvers)
                    checked = health.search_count(
                        [
                            ("name", "in", names),
                            ("last_check", ">", fields.Datetime.now() - timedelta(hours=1)),
                        ]
                    )
                    states = health.read_group([("name", "in", names)], ["state"], ["state"])
                    engine = sum(engine_seconds)
                    dns_seconds = on_wire["seconds"]
                    results.append((label, wall, engine, dns_seconds, sent, checked, peak_rss_mb(), states))
            finally:
                health.search([("name", "in", names)]).unlink()
                for key, value in saved.items():
                    icp.set_param(key, value or False)
                cr.commit()

    print(f"cron over {len(names)} domains (NSD on {server.address}, 2 NSD processes)")
    if vacuumed:
        print("  autovacuum is off on this server: the database was vacuumed before each run")
    print(f"  RSS after loading the registry: {rss_loaded:.0f} MB")
    for label, wall, engine, dns_seconds, sent, checked, rss, states in results:
        summary = ", ".join(f"{s['state_count']} {s['state']}" for s in states)
        print(f"  {label}:")
        rate = len(names) / wall
        print(f"    wall time      {wall:8.2f} s   ({rate:.0f} domains/s; {checked} checked: {summary})")
        print(f"    in the checks  {engine:8.2f} s   (the engine: DNS and verdicts; the rest is the ORM,")
        print("                               which stores each domain during the run, once checked)")
        print(f"    of which DNS   {dns_seconds:8.2f} s   (at least one query on the wire)")
        qps, engine_qps = sent / wall, sent / engine
        print(f"    DNS queries    {sent:8d}     ({qps:.0f} queries/s; {engine_qps:.0f} while checking)")
        print(f"    peak RSS       {rss:8.0f} MB")
    budget = limit / 2 if limit > 0 else None
    print(
        f"  Odoo's default cron limit: {limit} s (limit_time_real_cron=-1 -> limit_time_real); "
        f"the cron stops itself after {budget:g} s and resumes at once"
        if budget
        else "  no cron time limit configured"
    )
    slowest = max(r[1] for r in results)
    print(f"  slowest run uses {100 * slowest / limit:.1f}% of the limit" if limit > 0 else "")
    return 0 if all(r[5] == len(names) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
