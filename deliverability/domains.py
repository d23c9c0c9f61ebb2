"""Domain names as the checks need them: validated, IDNA-encoded, and their organizational domain."""

from __future__ import annotations

import functools
import ipaddress
import re

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


def normalize_domain(text: str) -> str:
    """``text`` as a lower-case ASCII (IDNA) domain without a final dot.

    Raises ``ValueError`` with a readable message for anything that is not a domain
    name of at least two labels (an email address gives its domain).
    """
    value = (text or "").strip().rstrip(".")
    if "@" in value:
        value = value.rpartition("@")[2]
    if not value:
        raise ValueError("empty domain name")
    try:
        ascii_name = value.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError(f"{text!r} is not a valid domain name") from None
    labels = ascii_name.split(".")
    if len(labels) < 2 or len(ascii_name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"{text!r} is not a valid domain name")
    return ascii_name


def domain_to_check(text: str) -> str:
    """``normalize_domain(text)`` for a domain to check; an IP address (``192.0.2.1``, ``[::1]``,
    ``jane@192.0.2.1``) is refused with a readable ``ValueError``: it is not a domain."""
    if is_ip((text or "").strip().rpartition("@")[2].strip("[]")):
        raise ValueError(f"{text!r}: an IP address is not a domain; give the domain your mail is sent from")
    return normalize_domain(text)


# a DKIM selector: one or more DNS labels (RFC 6376 3.1), checked before asking <selector>._domainkey
DKIM_SELECTOR = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*\Z", re.IGNORECASE)

# Names that have no DNS of their own to check: documentation names (RFC 2606: example.com, .net,
# .org and the .example TLD), .invalid and .localhost (RFC 6761). ``.test`` (RFC 6761) is left out:
# test setups serve it from their own nameservers.
RESERVED_TLDS = frozenset({"example", "invalid", "localhost"})
RESERVED_DOMAINS = frozenset({"example.com", "example.net", "example.org"})


def is_reserved(name: str) -> bool:
    """True for a normalized domain under a reserved name that no DNS answers for (see above)."""
    labels = name.lower().rstrip(".").split(".")
    return labels[-1] in RESERVED_TLDS or ".".join(labels[-2:]) in RESERVED_DOMAINS


def is_ip(text: str) -> bool:
    """True for an IPv4 or IPv6 address in text form."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


@functools.cache
def _psl():
    from publicsuffixlist import PublicSuffixList  # loaded (and its list parsed) on first use

    # The list's rules stay in Unicode (encoding each of them costs most of the parse): names
    # are looked up in Unicode and their answer encoded back, see _in_unicode.
    return PublicSuffixList(accept_encoded_idn=False)


def _in_unicode(lookup, domain: str) -> str | None:
    """``lookup`` (a list's method) of ``domain``, whose IDNA labels are decoded for it and whose
    answer is IDNA-encoded again, as the list's own ``accept_encoded_idn`` would match them."""
    if "xn--" not in domain:
        return lookup(domain)
    try:
        answer = lookup(domain.encode("ascii").decode("idna"))
    except UnicodeError:  # a label that does not decode: matched as it is, as an unknown one
        return lookup(domain)
    return answer.encode("idna").decode("ascii") if answer else answer


def organizational_domain(domain: str) -> str:
    """The registrable domain (RFC 7489 organizational domain) from the public suffix list."""
    return _in_unicode(_psl().privatesuffix, domain) or domain


def public_suffix(domain: str) -> str:
    """The public suffix of ``domain`` from the public suffix list (an unknown TLD is one)."""
    return _in_unicode(_psl().publicsuffix, domain) or domain


# Networks receivers never see a message come from: the address of a relay there is not the one SPF
# judges (RFC 1918 / RFC 6598 / RFC 4193 private ranges; loopback, link-local, unspecified besides).
# Documentation ranges (192.0.2.0/24, 2001:db8::/32...) are not among them.
PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
NOT_AN_IP = "not an IP address"


def address_problem(text: str) -> str | None:
    """Why ``text`` cannot be a sending IP receivers judge (not an IP address, loopback, private,
    link-local, unspecified), or None."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return NOT_AN_IP
    if address.is_loopback:
        return "a loopback address: receivers never see mail come from it"
    if address.is_unspecified or address.is_link_local:
        return "not the address of a host on the Internet: receivers never see mail come from it"
    if any(address in network for network in PRIVATE_NETWORKS):
        return "a private address: receivers see the public address the relay sends from, give that one"
    return None
