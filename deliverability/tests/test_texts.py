"""Engine texts: English as they are, translated by msgid and arguments, also when read back as plain text."""

import ast
from pathlib import Path

from deliverability import verdict
from deliverability.texts import Catalog, Text, _lt, catalog, msgids_in, translate

FR = {
    "DMARC passes through aligned %(through)s (%(label)s)": "DMARC réussit : %(through)s (%(label)s)",
    "DMARC p=%(policy)s of %(domain)s": "DMARC p=%(policy)s de %(domain)s",
    "SPF and DKIM": "SPF et DKIM",
    "no DKIM signature": "aucune signature DKIM",
}


def test_a_text_is_its_english_and_remembers_its_msgid():
    text = _lt("DMARC p=%(policy)s of %(domain)s") % {"policy": "reject", "domain": "x.test"}
    assert text == "DMARC p=reject of x.test" and isinstance(text, Text)
    assert (text.msgid, text.args) == (
        "DMARC p=%(policy)s of %(domain)s",
        {"policy": "reject", "domain": "x.test"},
    )


def test_a_verdict_is_translated_with_its_arguments():
    label = _lt("DMARC p=%(policy)s of %(domain)s") % {"policy": "reject", "domain": "x.test"}
    text = _lt("DMARC passes through aligned %(through)s (%(label)s)") % {
        "through": _lt("SPF and DKIM"),
        "label": label,
    }
    assert translate(text, FR) == "DMARC réussit : SPF et DKIM (DMARC p=reject de x.test)"
    # read back from the database: a plain string, matched back to its msgid and arguments
    assert translate(str(text), FR) == "DMARC réussit : SPF et DKIM (DMARC p=reject de x.test)"
    assert translate("no DKIM signature", FR) == "aucune signature DKIM"


def test_what_is_not_an_engine_text_or_not_translated_stays_english():
    assert translate("a text of someone else", FR) == "a text of someone else"
    untranslated = _lt("SPF gives %(result)s for %(domain)s") % {"result": "fail", "domain": "x.test"}
    assert translate(untranslated, FR) == "SPF gives fail for x.test"
    broken = {"DMARC p=%(policy)s of %(domain)s": "DMARC %(politique)s"}
    assert translate("DMARC p=reject of x.test", broken) == "DMARC p=reject of x.test"


def test_repeated_placeholders_and_percent_signs():
    catalog_ = Catalog(["%(domain)s publishes DMARC p=%(policy)s: receivers will %(policy)s this message."])
    fr = {catalog_.patterns[0][0]: "%(domain)s publie p=%(policy)s : les destinataires vont %(policy)s."}
    assert catalog_.translate("x.test publishes DMARC p=reject: receivers will reject this message.", fr) == (
        "x.test publie p=reject : les destinataires vont reject."
    )
    assert catalog_.translate(
        "x.test publishes DMARC p=reject: receivers will quarantine this message.", fr
    ) == ("x.test publishes DMARC p=reject: receivers will quarantine this message.")


def test_every_marked_text_of_the_engine_is_a_literal_in_the_catalog():
    """Odoo's extractor reads literals only: an ``_lt`` call on anything else would never be translated."""
    root = Path(verdict.__file__).parent
    calls = literal = 0
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_lt":
                calls += 1
                literal += isinstance(node.args[0], ast.Constant)
    assert calls > 30 and literal == calls
    found = {m for p in root.glob("*.py") for m in msgids_in(p.read_text())}
    assert found == {m for m, _p in catalog().patterns} | catalog().plain
