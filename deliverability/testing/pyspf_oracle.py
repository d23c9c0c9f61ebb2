"""A second opinion on an SPF record: pyspf (an independent implementation of RFC 7208, a test
dependency) evaluates it against one nameserver given explicitly, the loopback NSD of a test.

pyspf asks DNS through dnspython's default resolver; it is replaced for the call by a resolver that
knows only that nameserver (never ``/etc/resolv.conf``), and a nameserver that is not a loopback
address is refused.
"""

from __future__ import annotations

import ipaddress
import warnings
from dataclasses import dataclass

import dns.resolver

# an address no test zone authorizes (RFC 2544's benchmarking range): every term is evaluated
UNLISTED_IP = "198.18.0.1"


@dataclass(frozen=True)
class PyspfVerdict:
    result: str  # pass, fail, softfail, neutral, none, permerror, temperror
    explanation: str
    lookups: int  # DNS-querying terms evaluated (RFC 7208 4.6.4 limits them to 10)
    voids: int  # lookups that found nothing (limited to 2)

    @property
    def within_limits(self) -> bool:
        """pyspf (strict) found no permanent or temporary error: limits and syntax are kept."""
        return self.result not in ("permerror", "temperror")


def pyspf_check(domain: str, host: str, port: int, record: str | None = None, ip: str = UNLISTED_IP):
    """pyspf's ``check_host(ip, domain)`` against ``host:port``; ``record`` stands for the domain's
    published SPF record when given (the rest of the tree is what the nameserver serves)."""
    import spf  # pyspf, a test dependency

    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"pyspf is only pointed at a loopback nameserver, not {host}")
    stub = dns.resolver.Resolver(configure=False)
    stub.nameservers, stub.port, stub.lifetime = [host], port, 5.0
    saved, dns.resolver.default_resolver = dns.resolver.default_resolver, stub
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # pyspf calls dns.resolver.query
            query = spf.query(i=ip, s=f"postmaster@{domain}", h=domain, strict=True)
            result, _code, explanation = query.check(spf=record)
    finally:
        dns.resolver.default_resolver = saved
    return PyspfVerdict(result, explanation, query.lookups, query.void_lookups)
