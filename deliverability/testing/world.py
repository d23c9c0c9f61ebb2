"""A world of realistic sending domains for NSD on loopback: what a real database checks.

Twenty sending domains (``brandNN.test`` and ``news.brandNN.test``) send through
the provider ``mailer.test`` (SPF include ``_spf.mailer.test``, DKIM selector ``s1``
as a CNAME to the provider's key, SMTP host ``smtp.mailer.test``), many through Google
and Microsoft look-alikes too, whose SPF chains are as deep as the real ones (3-4 includes
below the domain's record). ``news.*`` find their DMARC record on their parent (the tree
walk); the parents send reports to ``reports.test``, which authorizes most of them.
Every domain has two MX hosts. Some domains are broken the ways real ones are (the
provider's include missing, too many lookups, no DKIM, an unauthorized report address,
``?all``, a DMARC record of their own that is weaker), so every verdict is exercised.

``PEOPLE`` are the domains of users and contacts whose DMARC policy the wizard's People
tab asks. ``floor_round_trips()`` is the deepest chain of questions whose answers depend
on each other in this world, each asked once: the least number of round trips in a row any
checker waits.
"""

from __future__ import annotations

import re

from .keys import dkim_rsa_record

INCLUDE = "_spf.mailer.test"
SELECTORS = ("s1",)
SMTP_HOST = "smtp.mailer.test"
BRANDS = [f"brand{i:02d}.test" for i in range(1, 11)]
DOMAINS = [name for brand in BRANDS for name in (brand, f"news.{brand}")]
PEOPLE = (
    "yahoo.test", "gmail.test", "partner.test", "eu.partner.test", "lax.test",
    "brand01.test", "news.brand02.test", "nowhere.test",
)  # fmt: skip

# the SPF records of the providers, by name (their zones are written from these)
PROVIDER_SPF = {
    # mailer.test: 3 levels, as large ESPs publish them
    "_spf.mailer.test": "v=spf1 include:_s1._spf.mailer.test include:_s2._spf.mailer.test ~all",
    "_s1._spf.mailer.test": "v=spf1 include:_n1._s1._spf.mailer.test ip4:198.51.100.0/26 ~all",
    "_n1._s1._spf.mailer.test": "v=spf1 ip4:192.0.2.0/25 ip6:2001:db8:25::/48 ~all",
    "_s2._spf.mailer.test": "v=spf1 ip4:198.51.100.64/26 ~all",
    # google.test: _spf.google.com's shape (netblocks), one level deeper for IPv6
    "_spf.google.test": "v=spf1 include:_netblocks.google.test include:_netblocks2.google.test "
    "include:_netblocks3.google.test ~all",
    "_netblocks.google.test": "v=spf1 ip4:203.0.113.0/26 ~all",
    "_netblocks2.google.test": "v=spf1 ip6:2001:db8:4860::/48 ~all",
    "_netblocks3.google.test": "v=spf1 ip4:203.0.113.64/26 include:_v6.google.test ~all",
    "_v6.google.test": "v=spf1 ip6:2001:db8:4861::/48 ~all",
    # outlook.test: spf.protection.outlook.com's shape
    "spf.protection.outlook.test": "v=spf1 include:spf-a.outlook.test ~all",
    "spf-a.outlook.test": "v=spf1 include:spfd.outlook.test ip4:203.0.113.128/26 ~all",
    "spfd.outlook.test": "v=spf1 ip4:203.0.113.192/26 -all",
}


def _brand_spf(index: int, brand: str) -> str:
    """The SPF record of ``brandNN``: the provider's include, often Google's or Microsoft's, mx."""
    if index == 3:
        return "v=spf1 include:_spf.google.test mx -all"  # the provider's include is missing
    if index == 5:  # 13 lookups: receivers return permerror
        return (
            f"v=spf1 include:{INCLUDE} include:_spf.google.test include:spf.protection.outlook.test a mx -all"
        )
    if index == 8:
        return f"v=spf1 include:{INCLUDE} ?all"
    if index % 2:
        return f"v=spf1 include:_spf.{brand} include:{INCLUDE} -all"  # 4 includes deep through its own
    return f"v=spf1 include:{INCLUDE} include:spf.protection.outlook.test mx -all"


def zones() -> dict[str, str]:
    """Origin -> zone-file lines, for ``NsdServer``."""
    key = dkim_rsa_record()
    provider: dict[str, list[str]] = {"mailer.test": [], "google.test": [], "outlook.test": []}
    for name, text in PROVIDER_SPF.items():
        origin = next(o for o in provider if name.endswith(o))
        provider[origin].append(f'{name}. IN TXT "{text}"')
    provider["mailer.test"] += [
        f"s1.dkim.mailer.test. IN TXT {key}",
        f"{SMTP_HOST}. IN A 192.0.2.25",
        f"{SMTP_HOST}. IN AAAA 2001:db8:25::25",
        *(f"mx{i}.mailer.test. IN A 192.0.2.{30 + i}" for i in (1, 2)),
    ]
    result = {origin: "\n".join(lines) for origin, lines in provider.items()}
    result["reports.test"] = "\n".join(
        f'{brand}._report._dmarc IN TXT "v=DMARC1"' for i, brand in enumerate(BRANDS, 1) if i != 7
    )
    result["test"] = '_dmarc IN TXT "v=DMARC1; p=none; psd=y"'  # a public suffix's own policy
    for i, brand in enumerate(BRANDS, 1):
        policy = ("quarantine", "reject", "none")[i % 3]
        lines = [
            f'@ IN TXT "{_brand_spf(i, brand)}"',
            f'_spf IN TXT "v=spf1 include:_spf.google.test ip4:198.51.100.{i} ~all"',
            "@ IN MX 10 mx1",
            "@ IN MX 20 mx2",
            f"mx1 IN A 198.51.100.{100 + i}",
            f"mx2 IN A 198.51.100.{200 + i}",
            "mx2 IN AAAA 2001:db8:100::" + str(i),
            f'_dmarc IN TXT "v=DMARC1; p={policy}; sp={policy}; rua=mailto:dmarc@reports.test"',
            f'news IN TXT "v=spf1 include:{INCLUDE} -all"',
            "news IN MX 10 mx1.mailer.test.",
            "news IN MX 20 mx2.mailer.test.",
        ]
        if i != 6:  # brand06 never set DKIM up
            lines += [
                "s1._domainkey IN CNAME s1.dkim.mailer.test.",
                "s1._domainkey.news IN CNAME s1.dkim.mailer.test.",
            ]
        if i == 4:  # a record of its own, weaker than its parent's
            lines.append('_dmarc.news IN TXT "v=DMARC1; p=none"')
        result[brand] = "\n".join(lines)
    result.update(
        {
            "yahoo.test": '_dmarc IN TXT "v=DMARC1; p=reject"',
            "gmail.test": '_dmarc IN TXT "v=DMARC1; p=none"',
            "partner.test": '_dmarc IN TXT "v=DMARC1; p=quarantine; sp=reject"',
            "lax.test": '@ IN TXT "v=spf1 -all"',
        }
    )
    return result


_TERM = re.compile(r"^[+?~-]?(include|redirect|a|mx)(?:[:=/](\S*))?$")


def floor_round_trips() -> int:
    """The least number of round trips in a row any checker of this world waits: a question can
    only be asked once the answer that names it is in, and it is asked once for every domain
    that needs it (one resolver, one cache). For each question, the earliest round it can be
    asked in; the floor is the latest of those rounds.

    SPF records name includes (asked the round after), ``a`` (its A/AAAA: one round) and ``mx``
    (MX, then the hosts' addresses: two); DKIM needs one round (NSD follows the CNAME in its
    answer), MX two (then its hosts), DMARC two (the tree walk after the own record; the report
    authorization of a parent's record is named by the parent's own record, asked in round 1),
    the SMTP host one and the People tab's policies two.
    """
    records = dict(PROVIDER_SPF)
    for i, brand in enumerate(BRANDS, 1):
        records[brand] = _brand_spf(i, brand)
        records[f"_spf.{brand}"] = f"v=spf1 include:_spf.google.test ip4:198.51.100.{i} ~all"
        records[f"news.{brand}"] = f"v=spf1 include:{INCLUDE} -all"
    earliest: dict[str, int] = {}

    def ask(name: str, round_: int) -> None:
        if earliest.get(name, round_ + 1) <= round_:
            return
        earliest[name] = round_
        for term in records.get(name, "").split()[1:]:
            match = _TERM.match(term)
            if match and match.group(1) in ("include", "redirect"):
                ask(match.group(2), round_ + 1)

    for domain in DOMAINS:
        ask(domain, 1)
    deepest = 2  # DKIM, MX and its hosts, DMARC and its tree walk, the SMTP host, the People tab
    for name, round_ in earliest.items():
        deepest = max(deepest, round_)
        for term in records.get(name, "").split()[1:]:
            match = _TERM.match(term)
            if match and match.group(1) in ("a", "mx"):
                deepest = max(deepest, round_ + (1 if match.group(1) == "a" else 2))
    return deepest
