"""One-click unsubscribe: the fields leave as valid header fields (folded only at whitespace, never
encoded words, URLs unchanged) whatever their length, and a receiver's reading of them."""

from __future__ import annotations

import email.policy
from email import message_from_bytes
from email.message import EmailMessage

from hypothesis import given
from hypothesis import strategies as st

from deliverability import unsubscribe
from deliverability.unsubscribe import ONE_CLICK, fold, keep_intact, one_click, unfold

LONG = (
    "<https://db.example.com/mailing/20/unsubscribe_oneclick?document_id=279&email=user%40gmail.com"
    "&hash_token=cf90d03a1ceb04833c9577ae067a3b959a635bf055038388aab39e3887d86433fee819d646d8f66a2cc61ad4>"
)


def _message(value, post=ONE_CLICK):
    message = EmailMessage(policy=email.policy.SMTP)
    message["Subject"] = "News"
    message["List-Unsubscribe"] = value
    if post:
        message["List-Unsubscribe-Post"] = post
    message.set_content("Hello")
    return message


def _received(message):
    """The header fields of ``message`` (or its bytes) as a receiver reads them: name and raw (folded)
    value."""
    data = message if isinstance(message, bytes) else message.as_bytes()
    return message_from_bytes(data, policy=email.policy.compat32).items()


def test_the_email_package_alone_encodes_a_long_url():
    """What Odoo sends without the module: unusable."""
    found = one_click(_received(_message(LONG)))
    assert "List-Unsubscribe is encoded (RFC 2047 encoded words): receivers cannot read it" in found.problems
    assert not found.usable


def test_long_url_leaves_intact():
    data = keep_intact(_message(LONG)).as_bytes()
    assert b"=?" not in data
    assert f"List-Unsubscribe: {LONG}\r\n".encode() in data
    found = one_click(_received(data))
    assert found.usable and found.urls == (LONG[1:-1],)


def test_several_urls_fold_at_whitespace_only():
    value = f"{LONG}, <mailto:unsubscribe@example.com?subject=unsubscribe>, {LONG}"
    data = keep_intact(_message(value)).as_bytes()
    raw = dict(_received(data))["List-Unsubscribe"]
    assert "\r\n" in raw and "=?" not in raw
    assert unfold(raw) == value
    assert one_click(_received(data)).urls[1] == "mailto:unsubscribe@example.com?subject=unsubscribe"


@given(st.lists(st.text("abc/:?=&%-_.~0123456789", min_size=1, max_size=120), min_size=1, max_size=6))
def test_fold_round_trip(paths):
    value = ", ".join(f"<https://x.test/{p}>" for p in paths)
    folded = fold("List-Unsubscribe", value)
    name, _sep, raw = folded.rstrip("\r\n").partition(": ")
    assert unfold(raw) == value
    for line in folded.split("\r\n")[1:-1]:
        assert line[0] in " \t" and line.strip()
    for line in folded.split("\r\n")[:-1]:
        assert len(line) <= 78 or " " not in line.strip()


def test_unfolded_policy_keeps_one_line():
    assert fold("List-Unsubscribe", f"{LONG}, {LONG}", None) == f"List-Unsubscribe: {LONG}, {LONG}\r\n"


def test_other_values_are_left_to_the_email_package():
    """Not ASCII (no URL is) or several fields: as they were; the receiver's reading says what is wrong."""
    message = _message("<https://x.test/é>")
    keep_intact(message)
    assert not isinstance(message["List-Unsubscribe"], unsubscribe.IntactHeader)
    message = _message(LONG)
    message["List-Unsubscribe"] = "<https://x.test/2>"
    keep_intact(message)
    found = one_click(_received(message))
    assert "the message has 2 List-Unsubscribe headers: it must have one" in found.problems


def test_receiver_reading():
    assert not one_click([("Subject", "x")]).present
    assert one_click(_received(_message("<mailto:u@x.test>"))).problems == (
        "List-Unsubscribe has no https:// URL: one-click unsubscribe needs one (RFC 8058)",
    )
    assert one_click(_received(_message("https://x.test/u"))).problems == (
        "List-Unsubscribe is not a list of <URL> in angle brackets",
    )
    assert one_click(_received(_message("<https://x.test/u>", post=None))).problems == (
        f"there is no List-Unsubscribe-Post header ({ONE_CLICK})",
    )
    assert one_click(_received(_message("<https://x.test/u>", post="One-Click"))).problems == (
        f"List-Unsubscribe-Post is 'One-Click': it must be {ONE_CLICK!r}",
    )
    fields = _received(keep_intact(_message(LONG)))
    assert one_click(fields, signed={"from", "list-unsubscribe"}).problems == (
        "no verified DKIM signature covers List-Unsubscribe-Post",
    )
    assert one_click(fields, signed={"list-unsubscribe", "list-unsubscribe-post"}).usable
