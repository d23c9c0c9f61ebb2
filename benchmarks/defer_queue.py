"""Cost of deferring a queue, beside Odoo's own queue run over the same mails.

10,000 queued ``mail.mail`` go through ``mail.mail.process_email_queue`` (the cron's call, one run
over all of them: ``mail.mail.queue.batch.size`` is raised to 10,000) on an outgoing server that is
a real SMTP server on 127.0.0.1 (``deliverability/testing/smtp_sink.py``):

* **Odoo's queue run**: the relay accepts, every mail is sent (the reference);
* **daily limit reached**: the server's limit (200) is used up, every mail is put off, in order;
* **relay refuses for quota**: the relay answers ``550 5.4.5`` to the first mail, the others wait;
* **relay refuses the connection**: ``421`` at the greeting, every batch waits.

Each scenario then accounts for every mail: sent exactly once (the relay's count, no recipient twice)
or still queued with its reason. Times are wall-clock seconds of the queue run (PostgreSQL included).
The mails are created before each run and deleted after it; the database keeps nothing.

    PYTHONPATH=/path/to/odoo python benchmarks/defer_queue.py --addons-path=... --db_host=... -d DB
"""

import collections
import sys
import time
from unittest.mock import patch

MAILS = 10_000
LIMIT = 200


def _scenario(env, server, sink, script, limit):
    from odoo.addons.mail_domain_health.deliverability.testing.smtp_sink import Script

    Mail = env["mail.mail"].sudo()
    sink.script = script or Script()
    del sink.received[:], sink.refused[:]
    usage = env["mail.server.usage"]._mdh_for([server.id])[server.id]
    today = env.cr.now().date()
    usage.write({"day": today, "sent": limit if limit else 0, "tail_day": False, "tail_count": 0,
                 "paused_until": False, "pause_reason": False, "alerted_on": today})  # fmt: skip
    server.mdh_daily_limit = limit
    mails = Mail.create([
        {"email_from": "sender@bench.example.com", "email_to": f"to{i}@example.org", "subject": f"Mail {i}",
         "body_html": f"<p>Mail {i}</p>", "auto_delete": False}
        for i in range(MAILS)
    ])  # fmt: skip
    env.cr.commit()
    start = time.perf_counter()
    with patch("odoo.modules.module.current_test", False):
        Mail.process_email_queue()
    elapsed = time.perf_counter() - start
    env.invalidate_all()
    states = collections.Counter(mails.mapped("state"))
    received = collections.Counter(r.rcpt_to[0] for r in sink.received)
    waiting = mails.filtered(lambda m: m.state == "outgoing")
    accounted = (
        states["sent"] == len(received) == sum(received.values())
        and states["sent"] + len(waiting) == MAILS
        and all(m.failure_reason for m in waiting)
    )
    mails.unlink()
    env.cr.commit()
    return elapsed, dict(states), len(sink.received), len(sink.refused), accounted


def run(env):
    from odoo.addons.mail_domain_health.deliverability.testing.smtp_sink import (
        CLOSING,
        QUOTA,
        Script,
        SmtpSink,
    )

    env["ir.config_parameter"].sudo().set_param("mail.mail.queue.batch.size", str(MAILS))
    env["ir.mail_server"].search([]).write({"active": False})
    with SmtpSink() as sink:
        server = env["ir.mail_server"].create({
            "name": "Bench sink", "smtp_host": "127.0.0.1", "smtp_port": sink.port, "smtp_encryption": "none",
        })  # fmt: skip
        env.cr.commit()
        scenarios = [
            ("Odoo's queue run (relay accepts)", None, 0),
            ("daily limit reached", None, LIMIT),
            ("relay refuses for quota", Script(accept=0, stage="mail", refusal=QUOTA), 0),
            ("relay refuses the connection", Script(accept=0, stage="connect", refusal=CLOSING), 0),
        ]
        results = [
            (label, *_scenario(env, server, sink, script, limit)) for label, script, limit in scenarios
        ]
        server.unlink()
        env["ir.config_parameter"].sudo().set_param("mail.mail.queue.batch.size", "")
        env.cr.commit()
    reference = results[0][1]
    print(f"{MAILS} queued mails, one process_email_queue run (wall-clock seconds)")
    worst = 0.0
    for label, elapsed, states, received, refused, accounted in results:
        ratio = elapsed / reference
        if label != results[0][0]:
            worst = max(worst, ratio)
        print(f"- {label:36s} {elapsed:7.2f} s  {ratio:5.2f}x  states {states}, relay received {received}, "
              f"refused {refused}, every mail accounted for: {accounted}")  # fmt: skip
    print(f"worst deferral / Odoo's queue run: {worst:.2f} (target <= 1.00)")
    return worst, all(r[5] for r in results)


def main(argv):
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(argv)
    registry = Registry(odoo.tools.config["db_name"])
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        worst, accounted = run(env)
    return 0 if worst <= 1.0 and accounted else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
