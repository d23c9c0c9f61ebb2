"""DKIM test base: keys created in the database, then a real NSD on loopback serving their records
(published, missing, different), and a real SMTP sink on 127.0.0.1 as the outgoing server."""

import asyncio
from contextlib import contextmanager

from odoo.tests import common

from ..deliverability import dkim_keys, verdict
from ..deliverability.dns import DnsResolver, Nameserver
from ..deliverability.testing.nsd import NsdServer
from ..deliverability.testing.smtp_sink import SmtpSink
from .common import odoo_sends

SENDING_IP = "192.0.2.25"
OTHER = dkim_keys.generate("rsa")


def key_line(key, public_key=None):
    """The zone line of ``key`` (a ``mail.dkim.key``), or of another public key at its selector."""
    return dkim_keys.zone_line(key.selector, key.domain, key.algorithm, public_key or key.public_key)


class DkimCase(common.TransactionCase):
    """``signed.test`` publishes its RSA and Ed25519 keys; ``unpublished.test`` has a key and no record;
    ``stale.test`` publishes another key at its key's selector."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Key = cls.env["mail.dkim.key"]
        cls.rsa = Key.create({"domain": "signed.test", "algorithm": "rsa"})
        cls.ed = Key.create({"domain": "signed.test", "algorithm": "ed25519"})
        cls.unpublished = Key.create({"domain": "unpublished.test"})
        cls.stale = Key.create({"domain": "stale.test"})
        cls.nsd = NsdServer(cls.zones()).start()
        cls.addClassCleanup(cls.nsd.stop)
        icp = cls.env["ir.config_parameter"].sudo()
        for key, value in {
            "mail_domain_health.nameservers": cls.nsd.address,
            "mail_domain_health.sending_ips": SENDING_IP,
            "mail_domain_health.provider": "custom",
            "mail_domain_health.spf_include": "_spf.signed.test",
            "mail_domain_health.dkim_selectors": "",
            "mail_domain_health.dns_timeout": "0.3",
            "mail.catchall.domain": "signed.test",
        }.items():
            icp.set_param(key, value)

    @classmethod
    def send_from_signed_domain(cls):
        """The company sends from ``signed.test``, its published keys confirmed."""
        cls.env["mail.dkim.key"].search([]).action_check_dns()
        domains = cls.env["mail.alias.domain"]
        alias = domains.search([("name", "=", "signed.test")]) or domains.create({"name": "signed.test"})
        cls.env.company.alias_domain_id = alias

    @classmethod
    def zones(cls):
        base = f'@ IN TXT "v=spf1 ip4:{SENDING_IP} -all"\n_dmarc IN TXT "v=DMARC1; p=reject"\n'
        return {
            "signed.test": base + key_line(cls.rsa) + "\n" + key_line(cls.ed),
            "unpublished.test": base,
            "stale.test": base + key_line(cls.stale, OTHER.public_key),
        }

    def resolver(self):
        return DnsResolver([Nameserver(self.nsd.host, self.nsd.port)], timeout=1.0, lifetime=3.0)

    def verify(self, data):
        """``[(selector, result)]`` of the signatures of ``data``, verified against the served keys."""
        return [(r.selector, r.result) for r in asyncio.run(verdict._verify_dkim(data, self.resolver()))]


class SinkMixin:
    """An outgoing server on a real SMTP sink; Odoo sends for real while ``sending()`` is open."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sink = SmtpSink().__enter__()
        cls.addClassCleanup(cls.sink.__exit__)
        cls.env["ir.mail_server"].search([]).unlink()
        cls.server = cls.env["ir.mail_server"].create(
            {"name": "Sink", "smtp_host": "127.0.0.1", "smtp_port": cls.sink.port, "smtp_encryption": "none"}
        )

    @contextmanager
    def sending(self):
        """Odoo sends nothing during tests: let it talk to the sink."""
        del self.sink.received[:]
        with odoo_sends(self.env):
            yield self.sink.received
