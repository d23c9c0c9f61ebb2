"""Browser tour: an administrator opens Domain Health, adds a domain, checks, sees verdicts and records."""

from odoo.tests import HttpCase, tagged

from .. import seams
from .common import DnsFixtureMixin

WEB_CLIENT = "/odoo" if seams.SERIES >= 18 else "/web"  # the web client's address (/odoo since 18)


@tagged("post_install", "-at_install")
class TestDomainHealthTour(DnsFixtureMixin, HttpCase):
    def test_domain_health_wizard_tour(self):
        # One static request first: the browser's parallel first requests would otherwise parse
        # every manifest in several threads at once, which CPython 3.11.7 can fail with "AST
        # constructor recursion depth mismatch" (a race in the interpreter, not in the module).
        self.assertEqual(self.url_open("/mail_domain_health/static/description/icon.png").status_code, 200)
        self.start_tour(f"{WEB_CLIENT}?debug=1", "mail_domain_health_tour", login="admin")
        added = self.env["mail.domain.health"].search([("name", "=", "bad.test")])
        self.assertTrue(added.manual)
        self.assertEqual(added.state, "fail")
