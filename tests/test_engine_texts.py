"""The engine's texts are in the .pot and shown in the reader's language (the engine imports no Odoo)."""

from pathlib import Path
from unittest.mock import patch

from babel.messages.pofile import read_po
from odoo.tests import common, tagged
from odoo.tools.translate import code_translations

from ..deliverability import dmarc, judgement, mx, spf
from ..deliverability.texts import _lt
from ..models.engine_texts import translated

POT = Path(__file__).resolve().parents[1] / "i18n" / "mail_domain_health.pot"
NO_SPF = "%(domain)s has no SPF record: receivers cannot tell which servers may send its mail."
NOT_AUTHENTICATED = "the message is not authenticated (%(why)s; %(label)s)"
MX_HOST = "MX %(preference)s %(host)s %(state)s: %(addresses)s"
MX_DELIVERED = "mail to %(domain)s is delivered to %(targets)s"
DMARC_RECORD = "record at _dmarc.%(domain)s: %(record)s"
FRENCH = {
    DMARC_RECORD: "enregistrement de _dmarc.%(domain)s : %(record)s",
    MX_HOST: "MX %(preference)s %(host)s %(state)s : %(addresses)s",
    MX_DELIVERED: "le courrier pour %(domain)s est remis à %(targets)s",
    "resolves": "se résout",
    NO_SPF: "%(domain)s n'a pas d'enregistrement SPF : les destinataires ne savent pas qui peut envoyer "
    "son courrier.",
    NOT_AUTHENTICATED: "le message n'est pas authentifié (%(why)s ; %(label)s)",
    "no DKIM signature": "aucune signature DKIM",
    "no DMARC policy for %(domain)s": "aucune politique DMARC pour %(domain)s",
}


@tagged("post_install", "-at_install")
class TestEngineTexts(common.TransactionCase):
    def french(self):
        """French installed, and the addon's French translations (the .po Odoo reads) hold ``FRENCH``."""
        self.env["res.lang"]._activate_lang("fr_FR")
        key = ("mail_domain_health", "fr_FR")
        loaded = dict(code_translations.get_python_translations(*key))
        return patch.dict(code_translations.python_translations, {key: {**loaded, **FRENCH}})

    def stored_check(self, domain, check, status, summary, details=False):
        """A verdict of ``domain`` as the checks store it: in English."""
        health = self.env["mail.domain.health"].create({"name": domain})
        values = {"check": check, "status": status, "summary": summary, "details": details}
        run = self.env["mail.domain.health.run"].create(
            {"health_id": health.id, "state": status, "check_ids": [(0, 0, values)]}
        )
        return run.check_ids

    def test_the_engine_texts_are_in_the_pot(self):
        with POT.open("rb") as pot:
            msgids = {message.id for message in read_po(pot)}
        sent_as = "Sent as the author: the server has no From filter"
        for msgid in (NO_SPF, NOT_AUTHENTICATED, MX_HOST, MX_DELIVERED, DMARC_RECORD, "resolves", sent_as):
            self.assertIn(msgid, msgids)
        for module in (spf, judgement, mx, dmarc):  # the engine marks its texts without importing Odoo
            self.assertNotIn("odoo", Path(module.__file__).read_text())

    def test_a_stored_verdict_is_shown_in_the_readers_language(self):
        summary = _lt(NO_SPF) % {"domain": "nospf.test"}  # as the SPF check words it
        check = self.stored_check("nospf.test", "spf", "fail", summary)
        self.assertEqual(check.summary, summary, "stored in English")
        with self.french():
            french = check.with_context(lang="fr_FR")
            self.assertEqual(
                french.summary_text,
                "nospf.test n'a pas d'enregistrement SPF : les destinataires ne savent pas qui peut envoyer "
                "son courrier.",
            )
            self.assertEqual(check.with_context(lang="en_US").summary_text, summary)

    def test_a_fresh_verdict_is_translated_with_its_parts(self):
        reason = judgement.judge("x.test", "x.test", (), (), judgement.Policy()).reason
        self.assertEqual(
            reason,
            "the message is not authenticated (SPF could not be evaluated: no sending IP is known, "
            "no DKIM signature; no DMARC policy for x.test)",
        )
        with self.french():
            self.assertEqual(
                translated(self.env(context={"lang": "fr_FR"}), reason),
                "le message n'est pas authentifié (SPF could not be evaluated: no sending IP is known, "
                "aucune signature DKIM ; aucune politique DMARC pour x.test)",
            )

    def test_the_mx_verdict_and_its_details_are_shown_in_the_readers_language(self):
        host = mx.MxHost(10, "mx.good.test")
        detail = mx._Resolution(mx.HostState.OK, ("192.0.2.30",)).detail(host)  # as the MX check words it
        self.assertEqual(detail, "MX 10 mx.good.test resolves: 192.0.2.30")
        summary = "mail to good.test is delivered to mx.good.test (10)"
        check = self.stored_check("good.test", "mx", "pass", summary, f"{detail}\nMX 20 other.test resolves")
        with self.french():
            french = check.with_context(lang="fr_FR")
            self.assertEqual(french.summary_text, "le courrier pour good.test est remis à mx.good.test (10)")
            self.assertEqual(
                french.details_text, "MX 10 mx.good.test se résout : 192.0.2.30\nMX 20 other.test se résout"
            )
        self.assertEqual(check.with_context(lang="en_US").details_text, check.details)

    def test_a_record_in_a_detail_line_is_shown_as_published(self):
        """The words around a DNS record are translated; the record itself, semicolons included, is not."""
        details = "record at _dmarc.good.test: v=DMARC1; p=reject; rua=mailto:d@good.test"
        check = self.stored_check("good.test", "dmarc", "pass", "DMARC policy p=reject is met", details)
        with self.french():
            self.assertEqual(
                check.with_context(lang="fr_FR").details_text,
                "enregistrement de _dmarc.good.test : v=DMARC1; p=reject; rua=mailto:d@good.test",
            )
