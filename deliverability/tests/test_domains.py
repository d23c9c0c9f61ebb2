"""Reserved names (RFC 2606, RFC 6761) that no DNS answers for; organizational domains and public
suffixes from the public suffix list."""

import publicsuffixlist
import pytest

from deliverability.domains import is_reserved, organizational_domain, public_suffix


@pytest.mark.parametrize(
    "name", ["example.com", "mail.example.org", "example.net", "shop.example", "x.invalid", "a.localhost"]
)
def test_reserved_names(name):
    assert is_reserved(name)


@pytest.mark.parametrize("name", ["good.test", "example.co", "myexample.com", "example.com.au", "odoo.com"])
def test_names_that_can_be_checked(name):
    assert not is_reserved(name)


def _idn_names():
    """Names under every rule of the list that IDNA-encodes to something else, at several depths."""
    with open(publicsuffixlist.PSLFILE, encoding="utf-8") as rules:
        for line in rules:
            rule = line.strip().lstrip("!*.")
            if not rule or rule.startswith("//") or rule.isascii():
                continue
            try:
                encoded = rule.encode("idna").decode("ascii")
            except UnicodeError:
                continue
            yield from (f"b.{encoded}", f"a.b.{encoded}", f"x.y.z.{encoded}")


def test_idna_names_match_the_list_as_its_own_encoded_lookup_does():
    """The list is parsed with its rules left in Unicode (the fast way); IDNA names looked up
    through it get the answers of the library's default, which encodes every rule."""
    reference = publicsuffixlist.PublicSuffixList()
    names = list(_idn_names())
    assert len(names) > 1000  # the list has hundreds of IDN rules
    for name in names:
        assert organizational_domain(name) == (reference.privatesuffix(name) or name), name
        assert public_suffix(name) == (reference.publicsuffix(name) or name), name


@pytest.mark.parametrize(
    ("name", "organizational", "suffix"),
    [
        ("mail.shop.co.uk", "shop.co.uk", "co.uk"),
        ("a.b.xn--p1ai", "b.xn--p1ai", "xn--p1ai"),
        ("news.brand.unknowntld", "brand.unknowntld", "unknowntld"),
        ("x.xn--zz", "x.xn--zz", "xn--zz"),  # a label that does not decode: looked up as it is
    ],
)
def test_organizational_domain_and_suffix(name, organizational, suffix):
    assert organizational_domain(name) == organizational
    assert public_suffix(name) == suffix
