"""Cost of the sender rules on Odoo's send path, and proof that it does no DNS I/O.

2,000 messages go through ``ir.mail_server._prepare_email_message`` twice in the same run: once
through Odoo's own method (``odoo.addons.base``) and once through the method as this module
extends it, on one SMTP connection opened as ``mail.mail`` opens it for a batch (alias domain
context, server chosen by the rules). Half the authors match the server's from_filter, half are
rewritten. Socket and dnspython resolution are counted during the run. Nothing is committed.

Run it with the Odoo shell::

    odoo-bin shell -c odoo.conf -d DB < benchmarks/send_path.py

or as a script (same options as odoo-bin)::

    python benchmarks/send_path.py --addons-path=... --db_host=... --db_user=... -d DB
"""

import gc
import socket
import statistics
import sys
import time
from contextlib import ExitStack
from unittest.mock import patch

MESSAGES = 2000
ROUNDS = 7
TARGET = 1.05


class _Session:
    """An SMTP connection that sends nothing (what smtplib.SMTP returns during the run)."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: (250, b"ok")


def _count_dns(stack):
    """Count every name resolution (socket and dnspython) made while ``stack`` is open."""
    import dns.asyncresolver
    import dns.resolver

    calls = []

    def counting(original):
        def wrapper(*args, **kwargs):
            calls.append(original)
            return original(*args, **kwargs)

        return wrapper

    targets = [
        (socket, "getaddrinfo"),
        (socket, "gethostbyname"),
        (socket, "gethostbyname_ex"),
        (socket, "gethostbyaddr"),
        (dns.resolver.Resolver, "resolve"),
        (dns.resolver.Resolver, "resolve_address"),
        (dns.asyncresolver.Resolver, "resolve"),
        (dns.resolver, "resolve"),
    ]
    for owner, name in targets:
        stack.enter_context(patch.object(owner, name, counting(getattr(owner, name))))
    return calls


def run(env):
    from odoo.addons.base.models.ir_mail_server import IrMailServer as CoreIrMailServer
    from odoo.addons.mail_domain_health.models.ir_mail_server import Scratch

    env["ir.mail_server"].search([]).write({"active": False})
    domain = env["mail.alias.domain"].create(
        {"name": "bench.example.com", "default_from": "notifications", "bounce_alias": "bounce-bench",
         "catchall_alias": "catchall-bench"}
    )  # fmt: skip
    env.company.alias_domain_id = domain
    env["ir.mail_server"].create(
        {"name": "Bench", "smtp_host": "smtp.bench.example.com", "from_filter": "bench.example.com"}
    )
    # what mail.mail's _send() passes for a record of this alias domain
    context = {
        "mdh_alias_domain_id": domain.id,
        "domain_notifications_email": domain.default_from_email,
        "domain_bounce_address": domain.bounce_email,
    }

    def scenario(batch_size, round_no):
        """2,000 messages, ``batch_size`` per author, authors never seen before: like one
        ``mail.mail.send()``, one connection per author (fresh per-send cache)."""
        servers = env["ir.mail_server"].with_context(**context, mdh_send_cache=Scratch())
        authors = [
            f'"User {round_no}.{i}" <user{round_no}.{i}@bench.example.com>'
            if i % 2
            else f'"Customer {round_no}.{i}" <customer{round_no}.{i}@gmail.com>'
            for i in range(MESSAGES // batch_size)
        ]
        sessions = {}
        for author in authors:
            found, smtp_from = servers._find_mail_server(author)
            sessions[author] = servers.connect(mail_server_id=found.id, smtp_from=smtp_from)
        headers = {"Return-Path": domain.bounce_email}

        def batch():
            return [
                (servers.build_email(author, ["dest@example.org"], "Subject", "<p>Body</p>", subtype="html",
                                     headers=headers), sessions[author])
                for author in authors
                for _ in range(batch_size)
            ]  # fmt: skip

        def odoo_only(message, smtp_session):
            return CoreIrMailServer._prepare_email_message(servers, message, smtp_session)

        return (odoo_only, batch()), (servers._prepare_email_message, batch())

    def timed(prepare, batch):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            for message, session in batch:
                prepare(message, session)
            return time.perf_counter() - start
        finally:
            gc.enable()

    results = []
    with patch("smtplib.SMTP", side_effect=lambda *a, **k: _Session()), \
         patch("odoo.modules.module.current_test", False):  # fmt: skip
        for label, batch_size in (("one message per author (worst case)", 1), ("20 messages per author", 20)):
            core_times, addon_times, dns_count = [], [], 0
            for round_no in range(ROUNDS + 1):  # round 0 warms Python and Odoo caches, not counted
                core_run, addon_run = scenario(batch_size, round_no)
                with ExitStack() as stack:
                    dns_calls = _count_dns(stack)
                    if round_no % 2:  # alternate which one runs first
                        addon_times.append(timed(*addon_run))
                        core_times.append(timed(*core_run))
                    else:
                        core_times.append(timed(*core_run))
                        addon_times.append(timed(*addon_run))
                    dns_count += len(dns_calls)
            froms = [
                str(message["From"]) for message, _session in addon_run[1][: batch_size + 1 : batch_size]
            ]
            core, addon = statistics.median(core_times[1:]), statistics.median(addon_times[1:])
            results.append((label, core, addon, dns_count, froms))

    print(f"{MESSAGES} messages through _prepare_email_message, median of {ROUNDS} rounds")
    worst = 0
    for label, core, addon, dns_count, froms in results:
        ratio = addon / core
        worst = max(worst, ratio)
        print(f"- {label}:")
        print(f"    Odoo only               {core * 1e6 / MESSAGES:7.1f} us/message")
        print(f"    with mail_domain_health {addon * 1e6 / MESSAGES:7.1f} us/message")
        print(f"    ratio                   {ratio:7.3f}  (target <= {TARGET})")
        print(f"    DNS resolutions         {dns_count}")
        print(f"    From headers sent       {froms}")
    env.cr.rollback()
    return worst, sum(r[3] for r in results)


def main(argv):
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(argv)
    registry = Registry(odoo.tools.config["db_name"])
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        _ratio, dns_calls = run(env)
        cr.rollback()
    return 0 if dns_calls == 0 else 1


if "env" in globals():  # odoo-bin shell
    run(env)  # noqa: F821
elif __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
