"""Records to publish: zone lines read back as Host / Type / Value."""

from hypothesis import given
from hypothesis import strategies as st

from deliverability.records import parse_fix, parse_zone_line
from deliverability.spf_record import txt_line


@given(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=600)
)
def test_txt_value_round_trips_through_the_zone_line(text):
    assert parse_zone_line(txt_line("example.com", text)).value == text


def test_host_is_relative_to_the_organizational_domain():
    spf = parse_zone_line(txt_line("mail.example.co.uk", "v=spf1 -all"))
    assert (spf.name, spf.host(), spf.type) == ("mail.example.co.uk", "mail", "TXT")
    assert parse_zone_line('example.com. IN TXT "v=spf1 -all"').host() == "@"
    assert spf.host("other.org") == "mail.example.co.uk."


def test_fix_with_several_lines_and_other_types():
    fix = (
        "flectra._domainkey.example.com. IN CNAME flectra._domainkey.flectra.com.\n"
        "example.com. IN MX 10 example.com.\n"
        "# not a record"
    )
    cname, mx = parse_fix(fix)
    assert (cname.host(), cname.type, cname.value) == (
        "flectra._domainkey",
        "CNAME",
        "flectra._domainkey.flectra.com.",
    )
    assert (mx.host(), mx.type, mx.value) == ("@", "MX", "10 example.com.")
    assert parse_fix(None) == ()
