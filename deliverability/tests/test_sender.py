"""Addresses and From filters in the ASCII form Odoo compares, the rules a sent message is classified
by, hostile input, parameter validation."""

from __future__ import annotations

import email.policy
from email import message_from_string
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deliverability.sender import (
    Rule,
    Sending,
    SentAs,
    ascii_address,
    ascii_from_filter,
    classify,
    clean_text,
    format_mailbox,
    parameter_error,
    parse_from_filter,
    parse_mailbox,
)


@pytest.mark.parametrize(
    "address, from_filter, expected",
    [
        ("admin@mail.example.com", "mail.example.com", True),
        ("admin@mail.example.com", "mail.EXAMPLE.com", True),
        ("ADMIN@Mail.Example.com", "admin@mail.example.com", True),
        ("admin@mail.example.com", None, True),
        ("admin@mail.example.com", "", True),
        ('"fake@test.mycompany.com" <admin@mail.example.com>', "mail.example.com", True),
        ("admin@mail.example.com", "test.mycompany.com, mail.example.com, test2.com", True),
        ("admin@mail.example.com", " test.mycompany.com ,mail.example.com,", True),
        ("admin@mail.éxample.com", "mail.xn--xample-9ua.com", True),
        ("admin@mail.xn--xample-9ua.com", "MAIL.ÉXAMPLE.COM", True),
        ("admin@mail.example.com", "test@mail.example.com", False),
        ("admin@mail.example.com", "mail.éxample.com", False),
        ("admin@mmail.example.com", "mail.example.com", False),
        ("admin@mail.example.com", "mmail.example.com", False),
        ("admin@sub.mail.example.com", "mail.example.com", False),
        ('"admin@mail.example.com" <fake@test.mycompany.com>', "mail.example.com", False),
        ("admin@mail.example.com", " ", False),
        ("admin@mail.example.com", ",", False),
        ("not an address", "example.com", False),
        ("strange@example¢¡.com", "xn--example-0hai.com", False),
        (None, "example.com", False),
    ],
)
def test_from_filter_matching(address, from_filter, expected):
    assert parse_from_filter(from_filter).allows(parse_mailbox(address)) is expected


def test_from_filter_keeps_unusable_entries_apart():
    parsed = parse_from_filter("example.com, not a domain, x@, jane@example.org")
    assert parsed.domains == {"example.com"}
    assert parsed.addresses == {"jane@example.org"}
    assert parsed.invalid == ("not a domain", "x@")


# --- ASCII (IDNA) forms for Odoo's comparisons --------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("test@ééééééé.com", "test@xn--9caaaaaaa.com"),
        ('"Jöhn" <john@exämple.com>', '"Jöhn" <john@xn--exmple-cua.com>'),
        ("Jane <jane@ÉXAMPLE.com>", '"Jane" <jane@xn--xample-9ua.com>'),
        ('"Jöhn" <john@example.com>', '"Jöhn" <john@example.com>'),  # only the name is not ASCII
        ("jöhn@example.com", "jöhn@example.com"),  # a non-ASCII local part needs SMTPUTF8: as it is
        ("strange@example¢¡.com", "strange@example¢¡.com"),  # not a domain: Odoo refuses it as it is
        ("a@é.com, b@é.com", "a@é.com, b@é.com"),
        ("", ""),
        (None, None),
        (False, False),
    ],
)
def test_ascii_address(text, expected):
    assert ascii_address(text) == expected


def test_ascii_address_keeps_ascii_text_as_it_is():
    text = '"Jane Doe" <Jane@Example.COM>'
    assert ascii_address(text) is text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("éxample.com", "xn--xample-9ua.com"),
        ("MAIL.ÉXAMPLE.COM, sales@éxample.org", "mail.xn--xample-9ua.com,sales@xn--xample-9ua.org"),
        ("éxample.com, not a domain", "xn--xample-9ua.com,not a domain"),
        ("example.com, test.example.org", "example.com, test.example.org"),
        (False, False),
        ("", ""),
    ],
)
def test_ascii_from_filter(text, expected):
    assert ascii_from_filter(text) == expected


def test_ascii_forms_match_as_the_unicode_forms_do():
    for address, from_filter in [("admin@mail.éxample.com", "mail.xn--xample-9ua.com"),
                                 ("admin@mail.xn--xample-9ua.com", "MAIL.ÉXAMPLE.COM")]:  # fmt: skip
        assert parse_from_filter(ascii_from_filter(from_filter)).allows(parse_mailbox(ascii_address(address)))


# --- what a prepared message was sent as ----------------------------------------------------------

NOTIF, BOUNCE = "notifications@example.com", "bounce@example.com"

# author, From sent, envelope, from_filter, default sender, bounce -> rule, envelope rule
CLASSIFY = {
    "author accepted, bounce accepted": (
        '"Ann" <ann@example.com>', '"Ann" <ann@example.com>', BOUNCE, "example.com", NOTIF, BOUNCE,
        Rule.AUTHOR_MATCHES, Rule.BOUNCE_ADDRESS,
    ),
    "author accepted by address, not the bounce": (
        "spec@example.com", "spec@example.com", "spec@example.com", "spec@example.com", NOTIF, BOUNCE,
        Rule.AUTHOR_MATCHES, Rule.FROM_ADDRESS,
    ),
    "no from_filter": (
        "jane@gmail.com", "jane@gmail.com", BOUNCE, None, NOTIF, BOUNCE,
        Rule.NO_FROM_FILTER, Rule.BOUNCE_ADDRESS,
    ),
    "replaced by the default sender": (
        '"Jane" <jane@gmail.com>', '"Jane" <notifications@example.com>', BOUNCE, "example.com", NOTIF,
        BOUNCE, Rule.DEFAULT_FROM, Rule.BOUNCE_ADDRESS,
    ),
    "encapsulated: the filter is the default sender's address": (
        '"Jane" <jane@gmail.com>', '"Jane" <notifications@example.com>', NOTIF, NOTIF, NOTIF, BOUNCE,
        Rule.ENCAPSULATED, Rule.FROM_ADDRESS,
    ),
    "IDNA author is the same author": (
        '"Jöhn" <john@ÉXAMPLE.com>', '"Jöhn" <john@xn--xample-9ua.com>', "john@xn--xample-9ua.com",
        "xn--xample-9ua.com", None, None, Rule.AUTHOR_MATCHES, Rule.FROM_ADDRESS,
    ),
    "no default sender: the author goes out refused": (
        "jane@gmail.com", "jane@gmail.com", "jane@gmail.com", "example.com", None, None,
        Rule.AUTHOR_NOT_ALLOWED, Rule.FROM_ADDRESS,
    ),
    "the connection's address": (
        "jane@gmail.com", "other@example.com", "other@example.com", "example.com", NOTIF, BOUNCE,
        Rule.CONNECTION_FROM, Rule.FROM_ADDRESS,
    ),
    "unusable author": (
        "robert", '"robert" <notifications@example.com>', BOUNCE, "example.com", NOTIF, BOUNCE,
        Rule.DEFAULT_FROM, Rule.BOUNCE_ADDRESS,
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    "author, header, envelope, from_filter, default, bounce, rule, envelope_rule",
    list(CLASSIFY.values()),
    ids=list(CLASSIFY),
)
def test_classify(author, header, envelope, from_filter, default, bounce, rule, envelope_rule):
    assert classify(author, header, envelope, from_filter, default, bounce) == (rule, envelope_rule)


def test_sent_as_explains_in_plain_words():
    sent = SentAs('"Jane" <notifications@example.com>', BOUNCE, "example.com", Rule.DEFAULT_FROM,
                  Rule.BOUNCE_ADDRESS, reply_to="catchall@example.com")  # fmt: skip
    signed = sent.with_note("Signed with selector odoo.")
    text = signed.explain("Mailer")
    assert Rule.DEFAULT_FROM.label in text and Rule.BOUNCE_ADDRESS.label in text
    assert "Server: Mailer; From filter: example.com." in text
    assert "Reply-To: catchall@example.com." in text
    assert text.endswith("Signed with selector odoo.")
    assert sent.notes == () and "seed" not in text.lower()


def test_every_rule_has_a_label_without_quotations():
    for rule in Rule:
        assert rule.label and '"' not in rule.label and "seed" not in rule.label.lower()


def test_sending_compares_by_identity():
    assert Sending(1, "a") != Sending(1, "a")


# --- hostile input ------------------------------------------------------------------------------

HOSTILE = {
    "CRLF in the name": (
        '"Evil\r\nBcc: victim@example.net" <evil@gmail.com>',
        '"Evil Bcc: victim@example.net"',
    ),
    "LF in the address": ("evil@gmail.com\nBcc: victim@example.net", None),
    "quotes": ('"Jane \\"JD\\" Doe" <jane@gmail.com>', '"Jane \\"JD\\" Doe"'),
    "comma": ('"Doe, Jane" <jane@gmail.com>', '"Doe, Jane"'),
    "non-ASCII name": ('"Jöhn Dœ 😊" <john@gmail.com>', '"Jöhn Dœ 😊"'),
    "IDNA author": ('"Jane" <jane@exämple.com>', '"Jane"'),
    "two authors": ("a@gmail.com, b@gmail.com", None),
    "angle brackets only": ("<>", None),
    "NUL": ("jane\x00@gmail.com", None),
    "symbols in an IDN": ("strange@example¢¡.com", None),
}


@pytest.mark.parametrize("author, name", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_authors_give_one_safe_from(author, name):
    """The author as the Odoo layer hands it to Odoo: cleaned, ASCII domain; Odoo then encapsulates it."""
    cleaned = ascii_address(clean_text(author))
    assert "\r" not in cleaned and "\n" not in cleaned and "\x00" not in cleaned
    mailbox = parse_mailbox(cleaned)
    header = format_mailbox(mailbox.name if mailbox else "", "notifications@example.com")
    if name and mailbox:
        assert header.startswith(name)
    _assert_safe(header, "notifications@example.com")


def _assert_safe(header, address):
    """Serialized with Odoo's policy, the header is one From line that parses back to ``address``."""
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = header
    msg["To"] = "dest@example.com"
    wire = msg.as_string()
    head = wire.split("\r\n\r\n")[0]
    assert [line.split(":")[0] for line in head.split("\r\n") if not line.startswith((" ", "\t"))] == [
        "From",
        "To",
    ]
    assert "=?" not in head.split("<")[-1]  # no encoded-word in the address
    parsed = message_from_string(wire, policy=email.policy.default)
    assert parsed["From"].addresses[0].addr_spec == address


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_author_never_raises_and_never_injects(author):
    cleaned = ascii_address(clean_text(author))
    assert "\r" not in cleaned and "\n" not in cleaned
    mailbox = parse_mailbox(cleaned)
    if mailbox is not None and mailbox.local.isascii():
        _assert_safe(format_mailbox(mailbox.name, mailbox.address), mailbox.address)


# --- validation of the system parameters -----------------------------------------------------------


@pytest.mark.parametrize(
    "key, value",
    [
        ("mail.default.from", "notifications"),
        ("mail.default.from", "noreply+odoo@example.com"),
        ("mail.default.from", "notifications@éxample.com"),
        ("mail.default.from", ""),
        ("mail.default.from", "  "),
        ("mail.default.from", None),
        ("mail.default.from", "migrate+default_from"),
        ("mail.default.from_filter", "example.com"),
        ("mail.default.from_filter", "notifications@example.com"),
        ("mail.default.from_filter", "example.com, Sales@Example.org,"),
        ("mail.default.from_filter", "éxample.com"),
        ("mail.catchall.domain", "example.com"),
        ("mail.catchall.domain", "Mail.Éxample.COM"),
        ("mail.catchall.domain", "test.migration.com"),
        ("mail.bounce.alias", "bounce"),
        ("mail.bounce.alias", "migrate+bounce"),
        ("mail.catchall.alias", "catchall+odoo"),
        ("web.base.url", "anything goes here"),
    ],
)
def test_valid_parameters(key, value):
    assert parameter_error(key, value) is None


@pytest.mark.parametrize(
    "key, value, says",
    [
        ("mail.default.from", "notifi cations", "local part"),
        ("mail.default.from", '"Notif" <n@example.com>', "without a name"),
        ("mail.default.from", "n@not_a_domain", "not a valid domain"),
        ("mail.default.from", "a@b.com, c@d.com", "neither"),
        ("mail.default.from", "nötif", "local part"),
        ("mail.default.from_filter", "example.com, bad domain", "'bad domain' is neither"),
        ("mail.default.from_filter", "@example.com", "neither"),
        ("mail.catchall.domain", "bounce@example.com", "domain only"),
        ("mail.catchall.domain", "localhost", "not a valid domain"),
        ("mail.catchall.domain", "exa mple.com", "not a valid domain"),
        ("mail.bounce.alias", "bounce@example.com", "local part only"),
        ("mail.bounce.alias", "bou nce", "not a valid local part"),
        ("mail.catchall.alias", "replies@example.com", "local part only"),
        ("mail.catchall.domain", "example.com\r\nX: y", "one line"),
    ],
)
def test_invalid_parameters(key, value, says):
    error = parameter_error(key, value)
    assert error and key in error and says in error
