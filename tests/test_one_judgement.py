"""One judgement: Domain Health, the Sending Preview and Test Deliverability give the same answer for the
same author and the same DNS (a real NSD on loopback, a real SMTP sink), in the scenarios an
administrator meets: their own relay all right, their own key not yet published (SPF still aligned),
a wrong relay IP, and a provider (include + CNAME)."""

from odoo.tests import new_test_user, tagged

from ..deliverability import dkim_keys
from ..deliverability.judgement import Outcome
from .dkim_common import SENDING_IP, DkimCase, SinkMixin, key_line

PROVIDER_KEY = dkim_keys.generate("rsa")


def _zone(spf, *lines):
    return "\n".join([f'@ IN TXT "{spf}"', '_dmarc IN TXT "v=DMARC1; p=reject"', *lines])


@tagged("post_install", "-at_install")
class TestOneJudgement(SinkMixin, DkimCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["mail.dkim.key"].search([]).action_check_dns()
        cls.env["ir.config_parameter"].sudo().set_param("mail_domain_health.provider", "own")

    @classmethod
    def zones(cls):
        """The database's keys of own.test, pending.test and wrongip.test are made here (the zones are
        built from them)."""
        Key = cls.env["mail.dkim.key"]
        cls.own = Key.create({"domain": "own.test"})
        cls.pending = Key.create({"domain": "pending.test"})
        cls.relay = Key.create({"domain": "wrongip.test"})
        zones = super().zones()
        own_ip = f"v=spf1 ip4:{SENDING_IP} -all"
        zones.update(
            {
                "own.test": _zone(own_ip, key_line(cls.own)),
                "pending.test": _zone(own_ip),  # its key is not published yet
                "wrongip.test": _zone("v=spf1 ip4:198.51.100.1 -all", key_line(cls.relay)),
                "provider.test": _zone(
                    "v=spf1 include:_spf.acme.test -all",
                    "acme._domainkey IN CNAME acme._domainkey.acme.test.",
                ),
                "acme.test": "\n".join(
                    [
                        f'_spf IN TXT "v=spf1 ip4:{SENDING_IP} -all"',
                        dkim_keys.zone_line(
                            "acme", "acme.test", PROVIDER_KEY.algorithm, PROVIDER_KEY.public_key
                        ),
                    ]
                ),
            }
        )
        return zones

    def three_screens(self, domain):
        """``{screen: (outcome, alignment state)}`` for mail of a user of ``domain``, its envelope on it."""
        self.env["ir.config_parameter"].sudo().set_param("mail.catchall.domain", domain)
        user = new_test_user(self.env, f"u-{domain}", groups="base.group_user", email=f"ann@{domain}")
        health = self.env["mail.domain.health"]._health_ensure([domain])
        health._health_check()
        preview = self.env["mail.send.preview"].create({"user_id": user.id})
        self.assertEqual(preview.result_envelope, f"bounce@{domain}")
        test = self.env["mail.deliverability.test"].create({"author_type": "user", "user_id": user.id})
        with self.sending():
            test.action_run()
        said = Outcome(health.mail_outcome).label
        self.assertIn(f"Domain Health for these domains: {said}", test.reason)
        answers = {
            "Domain Health": (health.mail_outcome, health.dmarc_state),
            "Sending Preview": (preview.mail_outcome, preview.alignment_state),
            "Test Deliverability": (test.outcome, health.dmarc_state),
        }
        self.assertEqual(len(set(answers.values())), 1, answers)
        return health, preview, test

    def test_own_relay_all_right_is_green_everywhere(self):
        health, preview, test = self.three_screens("own.test")
        self.assertEqual(
            (health.spf_state, health.dkim_state, health.dmarc_state, health.mail_outcome),
            ("pass", "pass", "pass", "delivered"),
        )
        self.assertNotIn("_spf.odoo.com", self.verdict_text(health))
        self.assertEqual(preview.alignment_state, "pass")
        self.assertIn("DMARC passes through aligned SPF and DKIM", test.reason)
        self.assertNotIn("This message adds", test.reason)

    def test_own_key_unpublished_spf_still_aligned(self):
        health, preview, test = self.three_screens("pending.test")
        self.assertEqual((health.spf_state, health.dkim_state), ("pass", "fail"))
        self.assertEqual((health.dmarc_state, health.mail_outcome), ("pass", "delivered"))
        self.assertIn("DMARC passes through aligned SPF", preview.alignment_details)
        self.assertIn("the message is not signed", test.dkim_result)

    def test_wrong_relay_ip(self):
        """SPF fails (the record names another address, and says which to add); the database's own
        published key still carries DMARC: every screen says delivered through DKIM."""
        health, preview, test = self.three_screens("wrongip.test")
        self.assertEqual((health.spf_state, health.dkim_state, health.dmarc_state), ("fail", "pass", "pass"))
        spf = health.check_ids.filtered(lambda c: c.check == "spf")
        self.assertIn(f"ip4:{SENDING_IP}", spf.fix)
        self.assertIn("DMARC passes through aligned DKIM", preview.alignment_details)
        self.assertIn(f"{SENDING_IP}: fail for wrongip.test", test.spf_result)

    def test_a_provider_include_and_cname(self):
        icp = self.env["ir.config_parameter"].sudo()
        icp.set_param("mail_domain_health.provider", "custom")
        icp.set_param("mail_domain_health.spf_include", "_spf.acme.test")
        icp.set_param("mail_domain_health.dkim_selectors", "acme")
        health, preview, test = self.three_screens("provider.test")
        self.assertEqual(
            (health.spf_state, health.dkim_state, health.dmarc_state, health.mail_outcome),
            ("pass", "pass", "pass", "delivered"),
        )
        # the message leaves unsigned; the provider's key (CNAME) is what Domain Health found
        self.assertIn("acme._domainkey.provider.test: pass, added by the provider", test.dkim_result)

    def verdict_text(self, health):
        return "\n".join(f"{c.summary}\n{c.details or ''}\n{c.fix or ''}" for c in health.check_ids)
