"""Reserved names (RFC 2606, RFC 6761) that no DNS answers for."""

import pytest

from deliverability.domains import is_reserved


@pytest.mark.parametrize(
    "name", ["example.com", "mail.example.org", "example.net", "shop.example", "x.invalid", "a.localhost"]
)
def test_reserved_names(name):
    assert is_reserved(name)


@pytest.mark.parametrize("name", ["good.test", "example.co", "myexample.com", "example.com.au", "odoo.com"])
def test_names_that_can_be_checked(name):
    assert not is_reserved(name)
