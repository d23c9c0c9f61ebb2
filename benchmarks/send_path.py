"""Cost of this module on Odoo's send path, and proof that it does no DNS I/O.

2,000 messages go through ``ir.mail_server._prepare_email_message`` twice in the same run: once
through Odoo's own code (``odoo.addons.base``, with base's ``_match_from_filter``) and once through
the method as this module extends it (Odoo's preparation, the step before the SMTP session, the
record of what each message is sent as), with the context ``mail.mail`` gives it for a record of
an alias domain, on the connections ``mail.mail`` opens (one per server and address to send as).
Half the authors match the server's from_filter, half are sent from the default sender. Each round
uses authors never seen before (the worst case: one message per author; then 20 per author, as
``mail.mail`` batches them). Every round runs in ``deliverability.testing.no_dns``'s guard (this
module's resolver, dnspython, the socket layer): a question is refused and counted, and the script
exits 1. Nothing is committed.

Building messages is the slow part of a run, and not what is measured: two pools of messages (one
for each side) are built once with ``build_email``; before each chunk of preparations (outside the
timing) every message of a pool gets back the headers ``build_email`` made and the From of the next
author, so that every preparation sees a message as ``build_email`` makes it. Odoo's chunk and this
module's run in turns, so that both see the same load of the machine. Times are the CPU time of the
process (``time.process_time``).

Run it with the Odoo shell::

    odoo-bin shell -c odoo.conf -d DB < benchmarks/send_path.py

or as a script, with Odoo importable (same options as odoo-bin)::

    PYTHONPATH=/path/to/odoo python benchmarks/send_path.py --addons-path=... --db_host=... -d DB
"""

import gc
import statistics
import sys
import time
from contextlib import ExitStack
from unittest.mock import patch

MESSAGES = 2000
ROUNDS = 7
TARGET = 1.05
POOL = 100  # messages built with build_email, prepared MESSAGES // POOL times per run


class _Session:
    """An SMTP connection that sends nothing (what smtplib.SMTP returns during the run)."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: (250, b"ok")


def _restore(message, headers, author):
    """Give ``message`` the headers ``build_email`` made (preparation rewrites some), from ``author``
    (a parsed From header, as ``build_email`` sets it)."""
    for name in set(message.keys()):
        del message[name]
    for name, value in headers:
        message[name] = author if name == "From" else value


def run(env):
    from odoo.addons.mail_domain_health.deliverability.sender import Sending
    from odoo.addons.mail_domain_health.deliverability.testing.no_dns import DnsAsked, no_dns
    from odoo.addons.mail_domain_health.seams import mail_server_method

    # Odoo's own class (named differently in each series) and its names for the methods measured
    core_class = next(
        cls
        for cls in type(env["ir.mail_server"]).__mro__
        if cls.__module__ == "odoo.addons.base.models.ir_mail_server"
    )
    connect, build_email, prepare = (
        mail_server_method(name) for name in ("connect", "build_email", "_prepare_email_message")
    )

    started = time.perf_counter()
    env["ir.mail_server"].search([]).write({"active": False})
    domain = env["mail.alias.domain"].create(
        {"name": "bench.example.com", "default_from": "notifications", "bounce_alias": "bounce-bench",
         "catchall_alias": "catchall-bench"}
    )  # fmt: skip
    env.company.alias_domain_id = domain
    server = env["ir.mail_server"].create(
        {"name": "Bench", "smtp_host": "smtp.bench.example.com", "from_filter": "bench.example.com"}
    )
    servers_found = env["ir.mail_server"].sudo().search([], order="sequence, id")
    # what mail.mail's _send() passes for a record of this alias domain
    context = {
        "domain_notifications_email": domain.default_from_email,
        "domain_bounce_address": domain.bounce_email,
    }
    Servers = type(env["ir.mail_server"])
    core_match = core_class._match_from_filter

    headers = {"Return-Path": domain.bounce_email}
    build = getattr(env["ir.mail_server"], build_email)
    pools = [
        [
            build("placeholder@bench.example.com", ["dest@example.org"], "Subject", "<p>Body</p>",
                  subtype="html", headers=headers)
            for _ in range(POOL)
        ]
        for _ in ("core", "addon")
    ]  # fmt: skip
    built = [message.items() for message in pools[0]]
    policy = pools[0][0].policy
    gc.collect()
    gc.freeze()  # what exists now is not garbage: collections during the run need not scan it

    def scenario(batch_size, round_no):
        """``(From header, session)`` of each message: authors never seen before, ``batch_size``
        messages each, on one connection per server and address to send as (mail.mail's batching)."""
        servers = env["ir.mail_server"].with_context(**context)
        authors = [
            f'"User {round_no}.{i}" <user{round_no}.{i}@bench.example.com>'
            if i % 2
            else f'"Customer {round_no}.{i}" <customer{round_no}.{i}@gmail.com>'
            for i in range(MESSAGES // batch_size)
        ]
        sessions, opened = {}, {}
        for author in authors:
            found, smtp_from = servers._find_mail_server(author, servers_found)
            key = (found.id, smtp_from)
            if key not in opened:
                opened[key] = getattr(servers, connect)(mail_server_id=found.id, smtp_from=smtp_from)
            sessions[author] = opened[key]
        froms = {author: policy.header_factory("From", author) for author in authors}
        return [(froms[author], sessions[author]) for author in authors for _ in range(batch_size)]

    def timed(core_prepare, addon_prepare, sends):
        """CPU seconds Odoo's and this module's preparation take for every ``(From header, session)``
        of ``sends``, chunk by chunk, in turns (both see the same load of the machine)."""
        totals = [0.0, 0.0]
        gc.collect()
        gc.disable()
        try:
            for number, chunk in enumerate(range(0, len(sends), POOL)):
                part = sends[chunk : chunk + POOL]
                for pool in pools:
                    for message, (author, _session), items in zip(pool, part, built, strict=True):
                        _restore(message, items, author)
                for which in (0, 1) if number % 2 else (1, 0):
                    with (
                        patch.object(Servers, "_match_from_filter", core_match) if which == 0 else ExitStack()
                    ):
                        prepare = addon_prepare if which else core_prepare
                        batch = list(zip(pools[which], part, strict=True))
                        start = time.process_time()
                        for message, (_author, session) in batch:
                            prepare(message, session)
                        totals[which] += time.process_time() - start
        finally:
            gc.enable()
        return totals

    results = []
    with patch("smtplib.SMTP", side_effect=lambda *a, **k: _Session()), \
         patch("odoo.modules.module.current_test", False):  # fmt: skip
        for label, batch_size in (("one message per author (worst case)", 1), ("20 messages per author", 20)):
            core_times, addon_times, dns_count = [], [], 0
            for round_no in range(ROUNDS + 1):  # round 0 warms Python and Odoo caches, not counted
                core_servers = env["ir.mail_server"].with_context(**context)
                guard = no_dns()
                try:
                    with guard:
                        sends = scenario(batch_size, round_no)
                        # one mail.mail send(): one Sending for all its batches
                        addon_servers = env["ir.mail_server"].with_context(
                            **context, mdh_sending=Sending(server.id, server.name)
                        )

                        core_method = getattr(core_class, prepare)
                        addon_method = getattr(addon_servers, prepare)

                        def core_prepare(message, session, servers=core_servers, method=core_method):
                            return method(servers, message, session)

                        def addon_prepare(message, session, method=addon_method):
                            return method(message, session)

                        core_time, addon_time = timed(core_prepare, addon_prepare, sends)
                except DnsAsked as asked:
                    print(f"DNS asked: {asked}")
                core_times.append(core_time)
                addon_times.append(addon_time)
                dns_count += len(guard.questions)
            froms = [str(pools[1][0]["From"]), str(pools[1][1 if batch_size == 1 else batch_size]["From"])]
            core_time, addon_time = statistics.median(core_times[1:]), statistics.median(addon_times[1:])
            results.append((label, core_time, addon_time, dns_count, froms))

    print(f"{MESSAGES} messages through _prepare_email_message, median of {ROUNDS} rounds (CPU time)")
    worst = 0
    for label, core_time, addon_time, dns_count, froms in results:
        ratio = addon_time / core_time
        worst = max(worst, ratio)
        print(f"- {label}:")
        print(f"    Odoo only               {core_time * 1e6 / MESSAGES:7.1f} us/message")
        print(f"    with mail_domain_health {addon_time * 1e6 / MESSAGES:7.1f} us/message")
        print(f"    ratio                   {ratio:7.3f}  (target <= {TARGET})")
        print(f"    DNS questions           {dns_count}  (refused by the no-DNS guard)")
        print(f"    From headers sent       {froms}")
    print(f"whole run: {time.perf_counter() - started:.0f} s")
    gc.unfreeze()
    env.cr.rollback()
    return worst, sum(r[3] for r in results)


def main(argv):
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(argv)
    db_name = odoo.tools.config["db_name"]
    registry = Registry(db_name[0] if isinstance(db_name, list) else db_name)  # a list of names on 19
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        _ratio, dns_calls = run(env)
        cr.rollback()
    return 0 if dns_calls == 0 else 1


if "env" in globals():  # odoo-bin shell
    run(env)  # noqa: F821
elif __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
