"""Checks as fast as DNS allows: the wizard's button, the CLI and the round-trip floor, side by side.

    /work/odoo18/.venv/bin/python benchmarks/check_speed.py --odoo /work/odoo18 \\
        --addons-path /work/odoo18/addons,ADDONS -d mdh_speed [--rounds 5] [--rtt 0,30,100]

NSD on loopback serves the world of ``deliverability/testing/world.py``: 20 sending domains
whose SPF chains are 3-4 includes deep below their record (Google- and Microsoft-shaped
providers), DKIM CNAMEs, DMARC found on a parent by the tree walk, report authorization
records, 2 MX hosts each; users and contacts on 8 other domains for the People tab. At each
round-trip time a relay that delays every datagram by half of it in each direction
(``delay_relay.py``) stands in front of NSD (0 ms: NSD itself). Each round runs, alternately:

* the wizard: Check Domains pressed on a Domain Health wizard listing the 20 domains, as the
  web client's ``/web/dataset/call_button`` does it (``call_kw`` then ``clean_action``), and the
  commit that ends the request (Odoo 17, 18 or 19, ``--odoo``: the database is created with the
  module when missing);
* the CLI as a user runs it, whole process: ``python -m deliverability check`` the 20 domains
  with the same provider include, selector, sending IPs and nameserver (with bytecode caching
  on, as a user's Python does: ``PYTHONDONTWRITEBYTECODE`` is dropped from its environment);
* the daily cron, as the scheduler runs the job and commits it, on the same domains made due
  again (``_cron_check_domains``: the domains in use and watched, the correspondents' DMARC
  policies);

and prints their medians beside the floor: the deepest chain of questions whose answers depend
on each other in this world, each asked once (``world.floor_round_trips()``), times the
round-trip time: the least any checker can wait. Last, the engine of this checkout alone,
each exchange delayed in-process: the round trips in a row its ordering costs, whatever
the load of the machine adds to each answer. Goal: the wizard and the cron within 1.5x the
floor at 30 and 100 ms. Only 127.0.0.1 is contacted; the benchmark's records and settings are
removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from cron_scale import database_options, ensure_database, vacuum_when_autovacuum_is_off  # noqa: E402

from deliverability.testing import world  # noqa: E402
from deliverability.testing.nsd import NsdServer  # noqa: E402

TARGET = 1.5
SENDING_IPS = ("192.0.2.25", "2001:db8:25::25")  # the world's SMTP host, for the CLI's --ip
PEOPLE_USERS = ("yahoo.test", "gmail.test", "brand01.test", "news.brand02.test")
PEOPLE_PARTNERS = ("partner.test", "eu.partner.test", "lax.test", "nowhere.test")


def relay(port: int, rtt_ms: float) -> tuple[subprocess.Popen, int]:
    """A delaying relay in front of ``port`` (its process and the port it listens on)."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "delay_relay.py"), str(port), str(rtt_ms)],
        stdout=subprocess.PIPE,
        text=True,
    )
    return process, int(process.stdout.readline())


def addon_dir(addons_path: str) -> Path:
    """The directory of the module Odoo loads (the CLI runs from there: the code being measured)."""
    for folder in addons_path.split(","):
        if (Path(folder) / "mail_domain_health" / "__manifest__.py").exists():
            return (Path(folder) / "mail_domain_health").resolve()
    raise SystemExit(f"mail_domain_health is not in {addons_path}")


def cli_command(python: str, nameserver: str) -> list[str]:
    command = [python, "-m", "deliverability", "check", *world.DOMAINS, "--spf-include", world.INCLUDE]
    command += [arg for selector in world.SELECTORS for arg in ("--dkim-selector", selector)]
    command += [arg for ip in SENDING_IPS for arg in ("--ip", ip)]
    return [*command, "--nameserver", nameserver, "--json"]


# bytecode caching on, as a user's Python does after a first run (the warm-up round writes the caches)
CLI_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_cli(command: list[str], cwd: Path) -> tuple[float, dict[str, str]]:
    """Wall time of the whole process and the status of each domain it printed."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=CLI_ENV)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1, 3):
        raise SystemExit(f"the CLI exited {done.returncode}: {done.stderr}")
    return wall, {d["domain"]: d["status"] for d in json.loads(done.stdout)["domains"]}


def engine_round_trips(nsd, rtt: float = 0.25) -> float:
    """The round trips in a row the engine waits for a wizard's run of the world when every
    exchange waits ``rtt`` seconds in-process first (no relay, no limit on queries in flight):
    how the look-ups are ordered, apart from what a busy machine adds to each answer."""
    from deliverability import checks, health_settings
    from deliverability.dns import DnsResolver
    from deliverability.options import RunOptions

    class Delayed(DnsResolver):
        async def _exchange(self, *args):
            await asyncio.sleep(rtt)
            return await super()._exchange(*args)

    class DelayedRun(RunOptions):
        def resolver(self):
            return Delayed(list(self.nameservers), timeout=10, lifetime=30, concurrency=self.concurrency)

    params = {
        "provider": "custom",
        "spf_include": world.INCLUDE,
        "dkim_selectors": ",".join(world.SELECTORS),
        "nameservers": nsd.address,
    }
    settings = health_settings.resolve(params, [world.SMTP_HOST], system_nameservers=None)
    run_options = DelayedRun(settings.run_options.nameservers)
    start = time.perf_counter()
    checks.run(world.DOMAINS, settings.options, run_options, world.PEOPLE)
    return (time.perf_counter() - start) / rtt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--odoo", default="/work/odoo18", help="Odoo source tree (17, 18 or 19)")
    database_options(parser, "mdh_speed")
    parser.add_argument("--rounds", type=int, default=5, help="timed runs of each, per RTT (default 5)")
    parser.add_argument("--rtt", default="0,30,100", help="round-trip times in ms (default 0,30,100)")
    default_python = ROOT / ".venv" / "bin" / "python"
    parser.add_argument(
        "--cli-python",
        default=str(default_python if default_python.exists() else sys.executable),
        help="the Python the CLI runs with (default: the engine's .venv)",
    )
    args = parser.parse_args()
    rtts = [float(x) for x in args.rtt.split(",")]

    ensure_database(args)
    cli_dir = addon_dir(args.addons_path)
    sys.path.insert(0, args.odoo)
    import odoo
    from odoo import SUPERUSER_ID, Command, api, fields
    from odoo.release import version as odoo_version
    from odoo.tools import config

    config.parse_config(
        [f"--addons-path={args.addons_path}", f"--db_host={args.db_host}", f"--db_user={args.db_user}"]
    )
    from odoo.addons.web.controllers.utils import clean_action

    try:  # where the web client's call_button calls the method: odoo.service.model since Odoo 19
        from odoo.service.model import call_kw
    except ImportError:
        from odoo.api import call_kw

    logging.getLogger("odoo").setLevel(logging.WARNING)
    params = {
        "mail_domain_health.provider": "custom",
        "mail_domain_health.spf_include": world.INCLUDE,
        "mail_domain_health.dkim_selectors": ",".join(world.SELECTORS),
        "mail_domain_health.sending_ips": "",
        "mail_domain_health.dns_timeout": "2.0",
        "mail_domain_health.nameservers": "",
    }
    registry = odoo.modules.registry.Registry(args.database)

    def stored_states() -> dict[str, str]:
        with registry.cursor() as scr:
            return {
                r.name: r.state
                for r in api.Environment(scr, SUPERUSER_ID, {})["mail.domain.health"].search([])
            }

    figures: dict[float, dict[str, list[float]]] = {}
    agree = set()
    with NsdServer(world.zones(), servers=2) as nsd, registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        icp = env["ir.config_parameter"].sudo()
        saved = {key: icp.get_param(key) for key in params}
        admin = env.ref("base.user_admin")
        saved_email = admin.email
        servers = env["ir.mail_server"].search([])
        servers.write({"active": False})
        made = {
            "server": env["ir.mail_server"].create({"name": "Bench", "smtp_host": world.SMTP_HOST}),
            "users": env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                [
                    {"name": f"Bench {d}", "login": f"mdh_speed_{i}", "email": f"someone@{d}"}
                    for i, d in enumerate(PEOPLE_USERS)
                ]
            ),
            "partners": env["res.partner"].create(
                [{"name": f"Bench {d}", "email": f"contact@{d}"} for d in PEOPLE_PARTNERS]
            ),
        }
        admin.email = f"admin@{world.DOMAINS[0]}"
        # the wizards earlier runs left: gone after an hour, as Odoo's daily clean-up leaves them
        env["mail.domain.health.wizard"]._transient_vacuum()
        cr.commit()
        wizards = []
        relays = []
        try:
            for rtt in rtts:
                if rtt:
                    process, port = relay(nsd.port, rtt)
                    relays.append(process)
                    address = f"127.0.0.1:{port}"
                else:
                    address = nsd.address
                for key, value in {**params, "mail_domain_health.nameservers": address}.items():
                    icp.set_param(key, value)
                cr.commit()
                vacuumed = vacuum_when_autovacuum_is_off(args)
                command = cli_command(args.cli_python, address)
                runs = figures[rtt] = {"wizard": [], "cli": [], "cron": []}
                for round_ in range(args.rounds + 1):  # the first round warms up and is not counted
                    with registry.cursor() as wcr:
                        wenv = api.Environment(wcr, admin.id, {"lang": "en_US", "tz": "UTC"})
                        lines = [Command.create({"domain": domain}) for domain in world.DOMAINS]
                        wizard = wenv["mail.domain.health.wizard"].create({"line_ids": lines})
                        wizards.append(wizard.id)
                    start = time.perf_counter()
                    with registry.cursor() as wcr:  # a request: the button, then the commit
                        wenv = api.Environment(wcr, admin.id, {})
                        context = {"lang": "en_US", "tz": "UTC", "uid": admin.id}
                        model = wenv["mail.domain.health.wizard"]
                        action = call_kw(model, "action_check", [[wizard.id]], {"context": context})
                        clean_action(action, env=wenv)
                    wall = time.perf_counter() - start
                    by_wizard = stored_states()
                    cli_wall, cli_statuses = run_cli(command, cli_dir)
                    with registry.cursor() as ccr:  # checked over an hour ago: due for the cron again
                        cenv = api.Environment(ccr, SUPERUSER_ID, {})
                        cenv["mail.domain.health"].search([("name", "in", world.DOMAINS)]).write(
                            {"last_check": fields.Datetime.now() - timedelta(hours=2)}
                        )
                    start = time.perf_counter()
                    with registry.cursor() as ccr:  # the job, then the commit that ends it
                        cenv = api.Environment(ccr, SUPERUSER_ID, {"lang": "en_US", "tz": "UTC"})
                        cenv["mail.domain.health"]._cron_check_domains()
                    cron_wall = time.perf_counter() - start
                    by_cron = stored_states()
                    agree.add(all(by_wizard.get(d) == by_cron.get(d) == s for d, s in cli_statuses.items()))
                    if round_:
                        runs["wizard"].append(wall)
                        runs["cli"].append(cli_wall)
                        runs["cron"].append(cron_wall)
        finally:
            for process in relays:
                process.terminate()
                process.wait()
            env.invalidate_all()
            env["mail.domain.health.wizard"].browse(wizards).unlink()
            partners = made["users"].partner_id  # a user's partner outlives the user
            made["users"].unlink()
            partners.unlink()
            made["partners"].unlink()
            made["server"].unlink()
            servers.write({"active": True})
            admin.email = saved_email
            env["mail.domain.health"].with_context(active_test=False).search(
                [("name", "in", [*world.DOMAINS, *world.PEOPLE])]
            ).unlink()
            for key, value in saved.items():
                icp.set_param(key, value or False)
            cr.commit()

        trips = statistics.median(engine_round_trips(nsd) for _ in range(3))
    floor_trips = world.floor_round_trips()
    print(
        f"{len(world.DOMAINS)} sending domains + {len(world.PEOPLE)} People domains, "
        f"median of {args.rounds} runs each, alternating (Odoo {odoo_version}, NSD on loopback)"
    )
    print(f"floor: the deepest chain of dependent questions is {floor_trips} round trips")
    if vacuumed:
        print("autovacuum is off on this server: the database was vacuumed before each RTT's runs")
    print(
        "| RTT | wizard (button + commit) | CLI, whole process | cron (job + commit) | floor "
        "| wizard / floor | CLI / floor | cron / floor |"
    )
    print("|---|---|---|---|---|---|---|---|")
    verdicts = []
    for rtt in rtts:
        wizard, cli, cron = (statistics.median(figures[rtt][name]) for name in ("wizard", "cli", "cron"))
        floor = floor_trips * rtt / 1000
        ratios = " | ".join(f"{took / floor:.2f}x" if floor else "—" for took in (wizard, cli, cron))
        shown = f"{floor:.2f} s" if floor else "—"
        print(f"| {rtt:g} ms | {wizard:.2f} s | {cli:.2f} s | {cron:.2f} s | {shown} | {ratios} |")
        if floor:
            verdicts.append(max(wizard, cron) <= TARGET * floor)
    met = "met" if all(verdicts) else "NOT met"
    print(f"goal: wizard and cron <= {TARGET:g}x the floor at every RTT above 0: {met}")
    print(
        f"the verdicts the wizard and the cron stored and the CLI's agree on every domain: {agree == {True}}"
    )
    print(
        f"the engine alone, every exchange delayed 250 ms in-process (no relay, no limit in flight): "
        f"{trips:.2f} round trips in a row (floor {floor_trips})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
