"""The CLI on sample domains served by a throwaway NSD on loopback: ``python -m deliverability.testing.demo``.

Three sample domains, checked for a provider whose SPF include is
``_spf.provider.example`` and whose DKIM selector is ``mail``:

* ``healthy.example``: SPF with the include, DKIM key, DMARC p=quarantine, MX;
* ``noinclude.example``: an SPF record without the provider include;
* ``strict.example``: DMARC p=reject and no DKIM key, SPF without the include.

Extra arguments go to the CLI (e.g. ``--json``, ``--ip 192.0.2.7``).
"""

from __future__ import annotations

import shlex
import sys

from .. import cli
from .keys import dkim_rsa_record
from .nsd import NsdServer

DOMAINS = ("healthy.example", "noinclude.example", "strict.example")
PROVIDER_ARGS = ("--spf-include", "_spf.provider.example", "--dkim-selector", "mail")


def zones() -> dict[str, str]:
    key_strings = dkim_rsa_record()
    mx = ["@ IN MX 10 mx", "mx IN A 198.51.100.25"]
    return {
        "provider.example": '_spf IN TXT "v=spf1 ip4:192.0.2.0/25 ~all"\n'
        f"mail._domainkey IN TXT {key_strings}",
        "healthy.example": "\n".join(
            [
                '@ IN TXT "v=spf1 include:_spf.provider.example -all"',
                *mx,
                "mail._domainkey IN CNAME mail._domainkey.provider.example.",
                '_dmarc IN TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@healthy.example"',
            ]
        ),
        "noinclude.example": "\n".join(
            [
                '@ IN TXT "v=spf1 include:_spf.google.example ~all"',
                *mx,
                "mail._domainkey IN CNAME mail._domainkey.provider.example.",
                '_dmarc IN TXT "v=DMARC1; p=none; rua=mailto:dmarc@noinclude.example"',
            ]
        ),
        "google.example": '_spf IN TXT "v=spf1 ip4:203.0.113.0/24 ~all"',
        "strict.example": "\n".join(['@ IN TXT "v=spf1 mx -all"', *mx, '_dmarc IN TXT "v=DMARC1; p=reject"']),
    }


def main(argv: list[str] | None = None) -> int:
    extra = list(sys.argv[1:] if argv is None else argv)
    with NsdServer(zones()) as server:
        args = ["check", *DOMAINS, *PROVIDER_ARGS, "--nameserver", server.address, *extra]
        print(f"NSD serving the sample zones on {server.address} (loopback only)", file=sys.stderr)
        print(f"$ python -m deliverability {shlex.join(args)}\n", file=sys.stderr, flush=True)
        status = cli.main(args)
    # 1 only says that a sample domain failed a check, which is the point of the demo
    return 0 if status in (cli.EXIT_OK, cli.EXIT_FAILED) else status


if __name__ == "__main__":
    raise SystemExit(main())
