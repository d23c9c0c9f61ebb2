"""checkdmarc's SPF + DMARC checks over a list of domains, against one nameserver with a port.

Runs inside checkdmarc's own virtualenv (it cannot live beside Odoo's pins), as a
subprocess of ``bulk_check.py``; does not import ``deliverability``. Usage::

    python checkdmarc_run.py HOST PORT DOMAINS_FILE

checkdmarc accepts ``dns.nameserver.Nameserver`` objects in ``nameservers=``,
which is how it is pointed at a port other than 53. An audit hook refuses any
socket traffic to a non-loopback address, so a code path that ignores
``nameservers=`` fails loudly instead of reaching a public resolver.
The first few domains are checked once before the clock starts (warm). Prints
one JSON object: domains, seconds, and how many SPF/DMARC records it found valid.
"""

from __future__ import annotations

import ipaddress
import json
import sys
import time

WARM_UP = 5


def _loopback_only(event: str, args: tuple) -> None:
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg") and len(args) > 1:
        address = args[1]
        if isinstance(address, tuple) and address and not _is_loopback(address[0]):
            raise RuntimeError(f"refusing non-loopback traffic to {address!r}")
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex") and args:
        if args[0] is not None and not _is_loopback(args[0]):
            raise RuntimeError(f"refusing a system name lookup of {args[0]!r}")


def _is_loopback(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def main() -> None:
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    sys.addaudithook(_loopback_only)
    import checkdmarc.dmarc
    import checkdmarc.spf
    import dns.nameserver

    with open(path, encoding="ascii") as handle:
        domains = handle.read().split()
    nameservers = [dns.nameserver.Do53Nameserver(host, port)]
    for domain in domains[:WARM_UP]:  # warm: imports done, the providers' records seen once
        checkdmarc.spf.check_spf(domain, nameservers=nameservers, timeout=2.0)
        checkdmarc.dmarc.check_dmarc(domain, nameservers=nameservers, timeout=2.0)
    spf_valid = dmarc_valid = 0
    start = time.perf_counter()
    for domain in domains:
        spf = checkdmarc.spf.check_spf(domain, nameservers=nameservers, timeout=2.0)
        dmarc = checkdmarc.dmarc.check_dmarc(domain, nameservers=nameservers, timeout=2.0)
        spf_valid += bool(spf.get("valid"))
        dmarc_valid += bool(dmarc.get("valid"))
    seconds = time.perf_counter() - start
    json.dump(
        {"domains": len(domains), "seconds": seconds, "spf_valid": spf_valid, "dmarc_valid": dmarc_valid},
        sys.stdout,
    )


if __name__ == "__main__":
    main()
