"""DKIM keys against a real NSD: publication (published, not yet, different), the health check's
verdict on them, rotation, PEM import, and who may read what (internal, portal, administrator)."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from ..deliverability import dkim_keys
from ..deliverability.testing.keys import receiver_verifies, txt_strings
from ..deliverability.testing.nsd import NsdServer
from .dkim_common import DkimCase, key_line


@tagged("post_install", "-at_install")
class TestDkimKeys(DkimCase):
    def test_record_to_publish(self):
        key = self.rsa
        self.assertEqual((key.dns_host, key.dns_type), (f"{key.selector}._domainkey", "TXT"))
        self.assertEqual(key.dns_value, f"v=DKIM1; k=rsa; p={key.public_key}")
        # read back as a receiver would (dnspython, dkimpy): the line and the Host / Value verify the
        # key's own signatures
        for each in (key, self.ed):
            typed = f"{each.dns_host}.{each.domain}. IN {each.dns_type} {txt_strings(each.dns_value)}"
            for line in (each.zone_line, typed):
                self.assertTrue(receiver_verifies(line, each.private_key, each.selector, each.domain), line)
        self.assertEqual((key.key_bits, self.ed.key_bits, self.ed.algorithm), (2048, 256, "ed25519"))
        self.assertTrue(key.selector.startswith("mdh") and self.ed.selector.endswith("e"))

    def test_publication_states(self):
        keys = self.rsa | self.ed | self.unpublished | self.stale
        keys.action_check_dns()
        self.assertEqual(keys.mapped("publication"), ["published", "published", "not_published", "differs"])
        self.assertEqual(keys.mapped("signs"), [True, True, False, False])
        self.assertIn("not the public half", self.stale.publication_detail)
        self.unpublished.force_signing = True
        self.assertTrue(self.unpublished.signs)

    def test_health_check_knows_the_keys(self):
        health = self.env["mail.domain.health"]._health_ensure(
            ["signed.test", "stale.test", "unpublished.test"]
        )
        health._health_check()
        verdicts = {
            (c.health_id.name, c.selector): c
            for c in health.check_ids
            if c.check == "dkim"
        }  # fmt: skip
        self.assertEqual(verdicts[("signed.test", self.rsa.selector)].status, "pass")
        self.assertEqual(verdicts[("signed.test", self.ed.selector)].status, "pass")
        self.assertEqual(verdicts[("stale.test", self.stale.selector)].status, "fail")
        self.assertIn("not the public half", verdicts[("stale.test", self.stale.selector)].summary)
        missing = verdicts[("unpublished.test", self.unpublished.selector)]
        self.assertIn("not yet published", missing.summary)
        key = self.unpublished
        verified = receiver_verifies(missing.fix, key.private_key, key.selector, key.domain)
        self.assertTrue(verified, missing.fix)
        self.assertEqual(
            len([k for k in verdicts if k[0] == "signed.test"]), 2
        )  # a key is checked on its domain

    def test_rotation(self):
        old = self.rsa
        action = old.action_rotate()
        new = self.env["mail.dkim.key"].browse(action["res_id"])
        self.assertEqual((new.state, new.replaces_id, new.domain), ("new", old, "signed.test"))
        self.assertNotEqual(new.selector, old.selector)
        self.assertEqual(old.action_rotate()["res_id"], new.id)  # one pending rotation at a time
        (old | new).action_check_dns()
        self.assertEqual((old.state, new.state, new.publication), ("active", "new", "not_published"))
        health = self.env["mail.domain.health"]._health_ensure(["signed.test"])
        health._health_check()
        pending = health.check_ids.filtered(lambda c: c.selector == new.selector)
        self.assertEqual(pending.status, "warning")  # the next key is not required yet

        zones = self.zones()
        zones["signed.test"] += "\n" + key_line(new)
        with NsdServer(zones) as both:
            self.env["ir.config_parameter"].set_param("mail_domain_health.nameservers", both.address)
            self.env["mail.dkim.key"]._cron_check_keys()
            self.assertEqual((old.state, new.state), ("previous", "active"))
            self.assertGreater(old.remove_after, fields.Datetime.now() + timedelta(days=6))
            signers = self.env["mail.dkim.key"]._dkim_signers()["signed.test"]
            self.assertEqual(sorted(s.selector for s in signers), sorted([new.selector, self.ed.selector]))
            old.sudo().write({"remove_after": fields.Datetime.now() - timedelta(minutes=1)})
            self.env["mail.dkim.key"]._cron_check_keys()
            self.assertEqual((old.state, old.active), ("remove", True))  # its record is still published

        zones["signed.test"] = zones["signed.test"].replace(key_line(old) + "\n", "")
        with NsdServer(zones) as removed:
            self.env["ir.config_parameter"].set_param("mail_domain_health.nameservers", removed.address)
            self.env["mail.dkim.key"]._cron_check_keys()
            self.assertFalse(old.active)
            self.assertEqual(new.publication, "published")

    def test_second_key_is_a_rotation(self):
        key = self.env["mail.dkim.key"].create({"domain": "signed.test"})
        self.assertEqual((key.state, key.replaces_id), ("new", self.rsa))

    def test_import_pem(self):
        pair = dkim_keys.generate("rsa")
        key = self.env["mail.dkim.key"].create({"domain": "Imported.Test", "pem_import": pair.private_pem})
        self.assertEqual(
            (key.domain, key.public_key, key.pem_import), ("imported.test", pair.public_key, False)
        )
        with self.assertRaisesRegex(ValidationError, "passphrase"):
            self.env["mail.dkim.key"].create(
                {
                    "domain": "x.test",
                    "pem_import": "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAA\n"
                    "-----END ENCRYPTED PRIVATE KEY-----",
                }
            )
        with self.assertRaisesRegex(ValidationError, "not a valid selector"):
            self.env["mail.dkim.key"].create({"domain": "x.test", "selector": "bad selector"})

    def test_private_key_for_the_system_only(self):
        admin = new_test_user(self.env, "dkim_admin", groups="base.group_user,base.group_system")
        internal = new_test_user(self.env, "dkim_internal", groups="base.group_user")
        portal = new_test_user(self.env, "dkim_portal", groups="base.group_portal")
        Key = self.env["mail.dkim.key"]
        for user in (internal, portal):
            with self.assertRaises(AccessError):
                Key.with_user(user).search([])
            with self.assertRaises(AccessError):
                self.rsa.with_user(user).read(["public_key"])
            with self.assertRaises(AccessError):
                Key.with_user(user).create({"domain": "mine.test"})
        as_admin = self.rsa.with_user(admin)
        self.assertEqual(as_admin.read(["public_key"])[0]["public_key"], self.rsa.public_key)
        with self.assertRaises(AccessError):
            as_admin.read(["private_key"])
        with self.assertRaises(AccessError):
            as_admin.export_data(["private_key"])
        with self.assertRaises(AccessError):
            as_admin.write({"private_key": dkim_keys.generate().private_pem})
        with self.assertRaises(AccessError):
            as_admin.search([("private_key", "ilike", "PRIVATE")])
        self.assertNotIn("private_key", Key.with_user(admin).fields_get())
        with self.assertRaises(AccessError):
            as_admin.web_read({"private_key": {}})
        self.assertNotIn("BEGIN", str(as_admin.read()[0]))
        self.assertIn("BEGIN PRIVATE KEY", self.rsa.sudo().private_key)  # the system reads it to sign
        created = Key.with_user(admin).create({"domain": "admin.test"})  # administrators manage keys
        self.assertTrue(created.sudo().private_key)
