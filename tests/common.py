"""Odoo test base: a real NSD on loopback serving zones that pass, fail and SERVFAIL, and a silent server."""

import base64
from contextlib import contextmanager, nullcontext
from unittest.mock import patch

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from odoo.tests import common

from .. import seams
from ..deliverability.testing.nsd import NsdServer, SilentServer

SENDING_IP = "192.0.2.25"
LOGGER = "odoo.addons.mail_domain_health.models.mail_domain_health"
CRON_LOGGER = "odoo.addons.mail_domain_health.models.mail_domain_health_cron"
PARAMS = {
    "mail_domain_health.provider": "custom",
    "mail_domain_health.spf_include": "_spf.mailer.test",
    "mail_domain_health.dkim_selectors": "mdh",
    "mail_domain_health.sending_ips": "",
    "mail_domain_health.dns_timeout": "0.3",
    "mail_domain_health.domain_deadline": "5",
}


@contextmanager
def odoo_sends(env):
    """Odoo sends nothing during tests; inside this block it does (the switch moved between series:
    17 ``_is_test_mode``, 18 ``current_test``, 19 ``_disable_send``, which keeps ``current_test`` for
    ``send_after_commit``)."""
    servers = type(env["ir.mail_server"])
    if seams.SERIES >= 19:
        switch = patch.object(servers, "_disable_send", lambda *args: False)
    elif seams.SERIES >= 18:
        switch = patch("odoo.modules.module.current_test", False)
    else:
        switch = patch.object(servers, "_is_test_mode", lambda self: False)
    with switch:
        yield


def cron_test_mode(case):
    """Around ``ir.cron.method_direct_trigger``: Odoo 19 runs the job as the scheduler does, on a cursor
    of its own that commits, which a test allows only in the registry's test mode."""
    return case.enter_registry_test_mode() if seams.SERIES >= 19 else nullcontext()


def _public_key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def txt(owner, value):
    """A TXT zone line, split into strings of at most 255 characters."""
    return f"{owner} IN TXT " + " ".join(f'"{value[i : i + 255]}"' for i in range(0, len(value), 255))


def healthy(key, dmarc="p=reject"):
    """Zone lines of a domain that passes every check for the test provider."""
    return "\n".join(
        [
            '@ IN TXT "v=spf1 include:_spf.mailer.test -all"',
            txt("mdh._domainkey", f"v=DKIM1; k=rsa; p={key}"),
            f'_dmarc IN TXT "v=DMARC1; {dmarc}"',
            "@ IN MX 10 mx.mailer.test.",
        ]
    )


def zones(flip_healthy=True):
    key = _public_key()
    return {
        "mailer.test": "\n".join(
            [
                f'_spf IN TXT "v=spf1 ip4:{SENDING_IP} ip6:2001:db8::25 -all"',
                f"smtp IN A {SENDING_IP}",
                "smtp IN AAAA 2001:db8::25",
                "mx IN A 192.0.2.30",
            ]
        ),
        "good.test": healthy(key),
        "bad.test": "\n".join(
            [
                '@ IN TXT "v=spf1 ip4:198.51.100.7 -all"',
                '_dmarc IN TXT "v=DMARC1; p=quarantine"',
                "@ IN MX 10 mx.mailer.test.",
            ]
        ),
        # the seed's yahoo.com / aol.com: p=reject; a partner domain with p=quarantine; one with p=none
        "reject.test": '_dmarc IN TXT "v=DMARC1; p=reject"\n@ IN MX 10 mx.mailer.test.',
        "partner.test": '_dmarc IN TXT "v=DMARC1; p=quarantine"\n@ IN MX 10 mx.mailer.test.',
        "lax.test": '_dmarc IN TXT "v=DMARC1; p=none"\n@ IN MX 10 mx.mailer.test.',
        # healthy on one server; SPF fails and DMARC is gone on the other
        "flip.test": healthy(key)
        if flip_healthy
        else '@ IN TXT "v=spf1 -all"\n'
        + txt("mdh._domainkey", f"v=DKIM1; k=rsa; p={key}")
        + "\n@ IN MX 10 mx.mailer.test.",
    }


BROKEN = ("broken.test",)


class DnsFixtureMixin:
    """Starts the servers once per class and points the settings at the healthy one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.nsd = NsdServer(zones(), broken=BROKEN).start()
        cls.addClassCleanup(cls.nsd.stop)
        cls.nsd_degraded = NsdServer(zones(flip_healthy=False), broken=BROKEN).start()
        cls.addClassCleanup(cls.nsd_degraded.stop)
        cls.silent = SilentServer().__enter__()
        cls.addClassCleanup(cls.silent.__exit__)
        icp = cls.env["ir.config_parameter"].sudo()
        for key, value in {**PARAMS, "mail_domain_health.nameservers": cls.nsd.address}.items():
            icp.set_param(key, value)
        # every user address the database knows (demo data included) is on a served test domain
        for user in cls.env["res.users"].search([("share", "=", False)]):
            user.email = f"user{user.id}@good.test"
        cls.env["ir.mail_server"].sudo().search([]).unlink()
        cls.env["ir.mail_server"].create(
            {"name": "Mailer", "smtp_host": "smtp.mailer.test", "from_filter": "good.test"}
        )
        cls.Health = cls.env["mail.domain.health"]

    def use_nameserver(self, server):
        self.env["ir.config_parameter"].sudo().set_param("mail_domain_health.nameservers", server.address)


class DomainHealthCase(DnsFixtureMixin, common.TransactionCase):
    def health(self, *names):
        return self.Health._health_ensure(list(names))

    def verdict(self, record, check, selector=False):
        return record.check_ids.filtered(lambda c: c.check == check and c.selector == selector)
