"""The seed's "Use a default email address" rules, a table row (at least) per sentence; hostile input."""

from __future__ import annotations

import email.policy
from email import message_from_string
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deliverability.findings import Status
from deliverability.sender import (
    SEED_ENCAPSULATE,
    SEED_REPLACE,
    SEED_SPF_NOTE,
    Connection,
    DomainHealth,
    FilterSource,
    Rule,
    SenderInput,
    SenderSettings,
    Server,
    alignment,
    decide,
    from_filter_allows,
    parameter_error,
    parse_from_filter,
    parse_mailbox,
)

CATCHALL = SenderSettings(default_from="notifications", catchall_domain="example.com", bounce_alias="bounce")
FULL = SenderSettings(
    default_from="noreply@example.org", catchall_domain="example.com", bounce_alias="bounce"
)


def cli(from_filter, settings=CATCHALL):
    """Settings for a database without ir.mail_server records (odoo-bin configuration)."""
    return SenderSettings(from_filter, settings.default_from, settings.catchall_domain, settings.bounce_alias)


def servers(*filters):
    return tuple(Server(i + 1, f"server{i + 1}", f) for i, f in enumerate(filters))


# author, settings, servers, expected From, envelope, server key, rule, envelope rule
SEED_CASES = {
    # "mail.default.from: accepts the local part ..." + "... or a combination of mail.default.from
    # and mail.catchall.domain"
    "local part + catchall domain": (
        '"Jane Doe" <jane@gmail.com>',
        cli("example.com"),
        (),
        '"Jane Doe" <notifications@example.com>',
        "bounce@example.com",
        None,
        Rule.DEFAULT_FROM_CATCHALL,
        Rule.BOUNCE_ADDRESS,
    ),
    # "... or a complete email address as value" + "replaced by mail.default.from (if it contains a
    # full email address)": the catchall domain is not used for the From
    "full address": (
        '"Jane Doe" <jane@gmail.com>',
        cli("example.org, example.com", FULL),
        (),
        '"Jane Doe" <noreply@example.org>',
        "bounce@example.com",
        None,
        Rule.DEFAULT_FROM_ADDRESS,
        Rule.BOUNCE_ADDRESS,
    ),
    # "mail.default.from_filter: accepts a domain name ..."
    "filter is a domain, author matches: unchanged": (
        '"Jane Doe" <jane@example.com>',
        cli("example.com"),
        (),
        '"Jane Doe" <jane@example.com>',
        "bounce@example.com",
        None,
        Rule.AUTHOR_MATCHES,
        Rule.BOUNCE_ADDRESS,
    ),
    # "... or a full email address as value"
    "filter is the author's address: unchanged": (
        "sales@example.net",
        cli("sales@example.net"),
        (),
        "sales@example.net",
        "sales@example.net",
        None,
        Rule.AUTHOR_MATCHES,
        Rule.FROM_ADDRESS,
    ),
    # "If the email address of the author does not match mail.default.from_filter, the email
    # address is replaced ..." (keeping the author's name; the local part when there is none)
    "author without a name": (
        "jane@gmail.com",
        cli("example.com"),
        (),
        '"jane" <notifications@example.com>',
        "bounce@example.com",
        None,
        Rule.DEFAULT_FROM_CATCHALL,
        Rule.BOUNCE_ADDRESS,
    ),
    # "If the from_filter contains a full email address, and if the mail.default.from is the same
    # as this address, then all of the email addresses that are different from mail.default.from
    # will be encapsulated in mail.default.from."
    "encapsulated, other domain": (
        '"Jane Doe" <jane@gmail.com>',
        cli("noreply@example.org", FULL),
        (),
        '"Jane Doe" <noreply@example.org>',
        "noreply@example.org",
        None,
        Rule.ENCAPSULATED,
        Rule.FROM_ADDRESS,
    ),
    "encapsulated, same domain": (
        '"Ann" <ann@example.org>',
        cli("noreply@example.org", FULL),
        (),
        '"Ann" <noreply@example.org>',
        "noreply@example.org",
        None,
        Rule.ENCAPSULATED,
        Rule.FROM_ADDRESS,
    ),
    "the default address itself is not encapsulated": (
        "noreply@example.org",
        cli("noreply@example.org", FULL),
        (),
        "noreply@example.org",
        "noreply@example.org",
        None,
        Rule.AUTHOR_MATCHES,
        Rule.FROM_ADDRESS,
    ),
    # "The mail.default.from_filter works only for flectra-bin configurations, otherwise this
    # parameter can be set using the from_filter field on ir.mail_server": with a server, its own
    # from_filter applies and mail.default.from_filter is ignored
    "server's from_filter, not mail.default.from_filter": (
        '"Jane" <jane@example.com>',
        cli("other.test"),
        servers("example.com"),
        '"Jane" <jane@example.com>',
        "bounce@example.com",
        1,
        Rule.AUTHOR_MATCHES,
        Rule.BOUNCE_ADDRESS,
    ),
    "mail.default.from_filter ignored with servers": (
        '"Jane" <jane@other.test>',
        cli("other.test"),
        servers("example.com"),
        '"Jane" <notifications@example.com>',
        "bounce@example.com",
        1,
        Rule.DEFAULT_FROM_CATCHALL,
        Rule.BOUNCE_ADDRESS,
    ),
    # Note on SPF: "The SPF verification is performed on the domain mentioned in the Return-Path
    # field ... this domain corresponds to the value of the mail.catchall.domain key"
    "bounce address not allowed: envelope is the From address": (
        '"Jane" <jane@gmail.com>',
        cli("notifications@example.com"),
        (),
        '"Jane" <notifications@example.com>',
        "notifications@example.com",
        None,
        Rule.ENCAPSULATED,
        Rule.FROM_ADDRESS,
    ),
    "no from_filter: anything goes, bounce as envelope": (
        '"Jane" <jane@gmail.com>',
        cli(None),
        (),
        '"Jane" <jane@gmail.com>',
        "bounce@example.com",
        None,
        Rule.NO_FROM_FILTER,
        Rule.BOUNCE_ADDRESS,
    ),
}


@pytest.mark.parametrize(
    "author, settings_, servers_, header, envelope, server, rule, envelope_rule",
    list(SEED_CASES.values()),
    ids=list(SEED_CASES),
)
def test_seed_rules(author, settings_, servers_, header, envelope, server, rule, envelope_rule):
    decision = decide(SenderInput(author, settings_, servers_))
    assert decision.header_from == header
    assert decision.envelope_from == envelope
    assert (decision.server.key if decision.server else None) == server
    assert decision.rule is rule
    assert decision.envelope_rule is envelope_rule
    assert decision.filter_source is (FilterSource.SERVER if servers_ else FilterSource.DEFAULT)


def test_rules_name_their_seed_sentence():
    assert Rule.DEFAULT_FROM_CATCHALL.sentence == SEED_REPLACE
    assert Rule.DEFAULT_FROM_ADDRESS.sentence == SEED_REPLACE
    assert Rule.AUTHOR_MATCHES.sentence == SEED_REPLACE
    assert Rule.ENCAPSULATED.sentence == SEED_ENCAPSULATE
    assert Rule.BOUNCE_ADDRESS.sentence == Rule.FROM_ADDRESS.sentence == SEED_SPF_NOTE
    assert Rule.NO_FROM_FILTER.sentence is None
    explained = decide(SenderInput("jane@gmail.com", cli("noreply@example.org", FULL))).explain()
    assert SEED_ENCAPSULATE in explained and SEED_SPF_NOTE in explained


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
    assert from_filter_allows(from_filter, address) is expected


def test_from_filter_keeps_unusable_entries_apart():
    parsed = parse_from_filter("example.com, not a domain, x@, jane@example.org")
    assert parsed.domains == {"example.com"}
    assert parsed.addresses == {"jane@example.org"}
    assert parsed.invalid == ("not a domain", "x@")
    decision = decide(SenderInput("a@gmail.com", cli("example.com, not a domain")))
    assert any("not a domain" in w for w in decision.warnings)


# Odoo 18's priorities when choosing among several servers (odoo/addons/mail/tests/test_ir_mail_server.py)
MANY = (
    Server(1, "domain", "test.mycompany.com"),
    Server(2, "user", "domain1.com, specific_user@test.mycompany.com, domain2.com"),
    Server(3, "notifications", "notifications@test.mycompany.com"),
    Server(4, "no filter", None),
)
NOTIF = SenderSettings(
    default_from="notifications", catchall_domain="test.mycompany.com", bounce_alias="bounce"
)


@pytest.mark.parametrize(
    "author, server, connection_from",
    [
        ("specific_user@test.mycompany.com", 2, "specific_user@test.mycompany.com"),
        ('"Name" <SPECIFIC_USER@test.mycompany.com>', 2, '"Name" <SPECIFIC_USER@test.mycompany.com>'),
        ("unknown_email@TEST.MYCOMPANY.COM", 1, "unknown_email@TEST.MYCOMPANY.COM"),
        ('"Example" <test@domain2.com>', 2, '"Example" <test@domain2.com>'),
        ('"Test" <test@unknown_domain.com>', 3, "notifications@test.mycompany.com"),
        (None, 3, "notifications@test.mycompany.com"),
    ],
)
def test_server_priorities(author, server, connection_from):
    decision = decide(SenderInput(author, NOTIF, MANY))
    assert decision.server.key == server
    assert decision.connection_from == connection_from


def test_server_without_filter_then_first_server():
    no_default = SenderSettings()
    decision = decide(SenderInput('"Test" <test@unknown_domain.com>', no_default, MANY))
    assert (decision.server.key, decision.header_from, decision.rule) == (
        4,
        '"Test" <test@unknown_domain.com>',
        Rule.NO_FROM_FILTER,
    )
    # every server filtered for another domain: the first one, sent as the default address
    decision = decide(
        SenderInput("user@test.com", SenderSettings("x", "test@custom_domain.com"), servers("random.domain"))
    )
    assert decision.server.key == 1
    assert decision.header_from == '"user" <test@custom_domain.com>'
    assert decision.envelope_from == "test@custom_domain.com"
    assert len(decision.warnings) == 2


def test_no_default_address_sends_as_author_with_warning():
    decision = decide(SenderInput("a@gmail.com", SenderSettings(default_from_filter="example.com")))
    assert decision.rule is Rule.AUTHOR_NOT_ALLOWED
    assert decision.header_from == "a@gmail.com"
    assert decision.warnings


def test_connection_forced_server_applies_the_rules():
    """A server forced by the caller (mass mailing) still replaces an author it does not accept."""
    conn = Connection(Server(7, "forced", "test.mycompany.com"), "test.mycompany.com", "user_1@test_2.com")
    decision = decide(SenderInput("user_1@test_2.com", NOTIF, (), None, conn))
    assert decision.header_from == '"user_1" <notifications@test.mycompany.com>'
    assert decision.envelope_from == "bounce@test.mycompany.com"
    assert decision.server.key == 7


def test_connection_opened_for_the_default_address():
    conn = Connection(Server(4, "no filter", None), None, "notifications@test.mycompany.com")
    decision = decide(SenderInput('"Name" <test@unknown_domain.com>', NOTIF, (), None, conn))
    assert decision.header_from == '"Name" <notifications@test.mycompany.com>'
    assert decision.rule is Rule.DEFAULT_FROM_CATCHALL


def test_session_of_the_caller_without_sender():
    conn = Connection(None, "example.com", None, FilterSource.SESSION)
    decision = decide(SenderInput('"Joé Doe" <joe@example.com>', SenderSettings(), (), None, conn))
    assert decision.header_from == '"Joé Doe" <joe@example.com>'
    assert decision.envelope_from == "joe@example.com"
    assert decision.filter_source is FilterSource.SESSION


def test_requested_return_path_wins_over_bounce_alias():
    decision = decide(SenderInput("a@example.com", cli("example.com"), (), "bounce+42@example.com"))
    assert decision.envelope_from == "bounce+42@example.com"
    hostile = decide(SenderInput("a@example.com", cli("example.com"), (), "x\r\ny"))
    assert hostile.envelope_from == "bounce@example.com"
    assert any("Return-Path" in w for w in hostile.warnings)


def test_nothing_to_send_from():
    decision = decide(SenderInput("garbage", SenderSettings()))
    assert decision.rule is Rule.NO_SENDER and not decision.applicable
    assert decision.envelope_from == ""


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
    "two authors": ("a@gmail.com, b@gmail.com", '"a"'),
    "angle brackets only": ("<>", None),
    "NUL": ("jane\x00@gmail.com", None),
    "symbols in an IDN": ("strange@example¢¡.com", '"strange"'),
}


@pytest.mark.parametrize("author, name", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_authors_give_one_safe_from(author, name):
    decision = decide(SenderInput(author, cli("example.com")))
    assert decision.applicable
    assert "notifications@example.com" in decision.header_from
    if name:
        assert decision.header_from.startswith(name)
    _assert_safe(decision.header_from, "notifications@example.com")


@pytest.mark.parametrize(
    "author, header",
    [
        ("test@ééééééé.com", "test@xn--9caaaaaaa.com"),
        ('"Jöhn" <john@exämple.com>', '"Jöhn" <john@xn--exmple-cua.com>'),
        ('"A\r\nB" <a@example.com>', '"A B" <a@example.com>'),
    ],
)
def test_unchanged_author_is_made_safe(author, header):
    decision = decide(SenderInput(author, SenderSettings()))
    assert decision.header_from == header
    assert decision.envelope_from.isascii()
    _assert_safe(decision.header_from, parse_mailbox(header).address)


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
    decision = decide(SenderInput(author, cli("example.com")))
    assert "\r" not in decision.header_from and "\n" not in decision.header_from
    _assert_safe(decision.header_from, parse_mailbox(decision.header_from).address)


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
        ("mail.catchall.domain", "example.com\r\nX: y", "one line"),
    ],
)
def test_invalid_parameters(key, value, says):
    error = parameter_error(key, value)
    assert error and key in error and says in error


# --- SPF / DMARC alignment ----------------------------------------------------------------------

GOOD = DomainHealth(spf=Status.PASS, dkim=Status.PASS, dmarc=Status.PASS, dmarc_policy="reject")
NO_DKIM = DomainHealth(spf=Status.PASS, dkim=Status.FAIL, dmarc=Status.PASS, dmarc_policy="reject")
BAD = DomainHealth(spf=Status.FAIL, dkim=Status.FAIL, dmarc=Status.FAIL, dmarc_policy="reject")
WEAK = DomainHealth(spf=Status.FAIL, dkim=Status.FAIL, dmarc=Status.WARNING, dmarc_policy="none")


@pytest.mark.parametrize(
    "header, envelope, known, status, aligned",
    [
        (
            '"Jane" <notifications@example.com>',
            "bounce@example.com",
            {"example.com": GOOD},
            Status.PASS,
            True,
        ),
        # relaxed alignment: the organizational domain is the same
        (
            "a@mail.example.com",
            "bounce@example.com",
            {"mail.example.com": NO_DKIM, "example.com": GOOD},
            Status.PASS,
            True,
        ),
        (
            "a@example.co.uk",
            "bounce@mail.example.co.uk",
            {"example.co.uk": NO_DKIM, "mail.example.co.uk": GOOD},
            Status.PASS,
            True,
        ),
        # SPF passes for another domain only, no DKIM: the seed's DMARC failure
        ("jane@yahoo.com", "bounce@example.com", {"yahoo.com": BAD, "example.com": GOOD}, Status.FAIL, False),
        (
            "jane@weak.example",
            "bounce@example.com",
            {"weak.example": WEAK, "example.com": GOOD},
            Status.WARNING,
            False,
        ),
        ("jane@unknown.example", "bounce@example.com", {"example.com": NO_DKIM}, Status.UNKNOWN, False),
        ("garbage", "bounce@example.com", {}, Status.UNKNOWN, False),
    ],
)
def test_alignment(header, envelope, known, status, aligned):
    verdict = alignment(header, envelope, known.get)
    assert verdict.status is status
    assert verdict.spf_aligned is aligned
    assert verdict.reasons
