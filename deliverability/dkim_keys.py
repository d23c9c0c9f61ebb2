"""DKIM keys a database signs with: generation, PEM import, the TXT record to publish, and whether
DNS publishes the public half of a stored key.

Keys are RSA (2048 bits when generated) or Ed25519 (RFC 8463, for dual signing beside RSA). The
private key is kept as unencrypted PKCS#8 PEM; nothing here logs or formats it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import enum
import re
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from . import dkim, event_loop
from .dns import Resolver
from .domains import DKIM_SELECTOR
from .findings import Check, DkimFinding, Status
from .records import DnsRecord, parse_zone_line

ALGORITHMS = ("rsa", "ed25519")
RSA_BITS = 2048
SELECTOR_PREFIX = "mdh"
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S)


class DkimKeyError(ValueError):
    """A key that cannot be used for DKIM signing (the message says why, never the key)."""


class Publication(str, enum.Enum):
    """Whether DNS publishes a stored key at its selector."""

    PUBLISHED = "published"
    NOT_PUBLISHED = "not_published"
    DIFFERS = "differs"
    UNKNOWN = "unknown"  # DNS did not answer

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Publication.PUBLISHED: "published",
    Publication.NOT_PUBLISHED: "not yet published",
    Publication.DIFFERS: "published key differs",
    Publication.UNKNOWN: "DNS did not answer",
}


@dataclass(frozen=True)
class KeyPair:
    """A signing key: ``private_pem`` (PKCS#8) and ``public_key``, the base64 ``p=`` of its record."""

    algorithm: str
    private_pem: str
    public_key: str
    bits: int

    def __repr__(self) -> str:  # never show the private key
        return f"KeyPair({self.algorithm}, {self.bits} bits)"


def generate(algorithm: str = "rsa") -> KeyPair:
    """A new key: RSA-2048 or Ed25519."""
    if algorithm == "rsa":
        private = rsa.generate_private_key(65537, RSA_BITS, default_backend())
    elif algorithm == "ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
    else:
        raise DkimKeyError(f"unknown key type {algorithm!r} (expected rsa or ed25519)")
    return _pair(private)


def import_pem(pem: str | bytes) -> KeyPair:
    """The key of an unencrypted PEM private key (PKCS#1 or PKCS#8), RSA of at least 1024 bits or Ed25519.

    Raises ``DkimKeyError`` with a message that does not quote the key.
    """
    text = pem.decode("ascii", "replace") if isinstance(pem, bytes) else (pem or "")
    block = _PEM.search(text)
    if not block:
        raise DkimKeyError("this is not a PEM private key (-----BEGIN PRIVATE KEY----- …)")
    if "ENCRYPTED" in block.group(0).splitlines()[0] or "Proc-Type: 4,ENCRYPTED" in block.group(0):
        raise DkimKeyError("the private key is protected by a passphrase: export it without one")
    try:
        private = serialization.load_pem_private_key(block.group(0).encode(), None, default_backend())
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise DkimKeyError("the private key could not be read (damaged or unsupported PEM)") from None
    if isinstance(private, rsa.RSAPrivateKey):
        if private.key_size < dkim.MIN_RSA_BITS:
            raise DkimKeyError(
                f"an RSA key of {private.key_size} bits is too short: receivers ignore keys under 1024 bits"
            )
    elif not isinstance(private, ed25519.Ed25519PrivateKey):
        raise DkimKeyError("only RSA and Ed25519 keys can sign DKIM signatures")
    return _pair(private)


def load_private(pem: str):
    """The ``cryptography`` private key object of a stored PEM."""
    return serialization.load_pem_private_key(pem.encode(), None, default_backend())


def _pair(private) -> KeyPair:
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = private.public_key()
    if isinstance(private, rsa.RSAPrivateKey):
        der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return KeyPair("rsa", pem, base64.b64encode(der).decode(), private.key_size)
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return KeyPair("ed25519", pem, base64.b64encode(raw).decode(), 256)


def record_text(algorithm: str, public_key: str) -> str:
    """The TXT record of a key: ``v=DKIM1; k=rsa; p=...``."""
    return f"v=DKIM1; k={algorithm}; p={public_key}"


def zone_line(selector: str, domain: str, algorithm: str, public_key: str) -> str:
    """The zone-file line to publish, the record split in strings of at most 255 characters."""
    text = record_text(algorithm, public_key)
    strings = " ".join(f'"{text[i : i + 255]}"' for i in range(0, len(text), 255))
    return f"{selector}._domainkey.{domain}. IN TXT {strings}"


def dns_record(selector: str, domain: str, algorithm: str, public_key: str) -> DnsRecord:
    """The record to publish, with the Host / Type / Value a registrar's form asks for."""
    return parse_zone_line(zone_line(selector, domain, algorithm, public_key))


def valid_selector(text: str) -> bool:
    """True for a DKIM selector: one or more DNS labels."""
    return bool(DKIM_SELECTOR.match(text or ""))


def new_selector(algorithm: str, year: int, month: int, taken: set[str]) -> str:
    """A selector not in ``taken``: ``mdh202612`` for RSA, ``mdh202612e`` for Ed25519, then ``-2``, ``-3``…"""
    base = f"{SELECTOR_PREFIX}{year:04d}{month:02d}{'e' if algorithm == 'ed25519' else ''}"
    selector, n = base, 1
    while selector in taken:
        n += 1
        selector = f"{base}-{n}"
    return selector


@dataclass(frozen=True)
class OwnKey:
    """A stored key whose publication is checked; ``required``: mail is signed with it (not a key
    prepared for a rotation), so not publishing it is a failure rather than a warning."""

    domain: str
    selector: str
    algorithm: str
    public_key: str
    required: bool = True


def _same_key(text: str, own: OwnKey) -> bool:
    try:
        record = dkim.parse_dkim_record(text)
        return record.key_type == own.algorithm and base64.b64decode(record.public_key) == base64.b64decode(
            own.public_key
        )
    except (dkim.DkimParseError, binascii.Error, ValueError):
        return False


async def check(own: OwnKey, resolver: Resolver) -> tuple[Publication, DkimFinding]:
    """Is the key published at its selector, and is it the public half of the stored key?"""
    finding = await dkim.check(own.domain, resolver, own.selector, None)
    name = f"{own.selector}._domainkey.{own.domain}"
    answer = await resolver.query(name, "TXT")  # cached: the query dkim.check made
    fix = zone_line(own.selector, own.domain, own.algorithm, own.public_key)
    if not answer.answered:
        return Publication.UNKNOWN, finding
    if not answer.records:
        status = Status.FAIL if own.required else Status.WARNING
        consequence = (
            f"mail from {own.domain} is not signed until it is" if own.required else "the switch to it waits"
        )
        summary = f"the DKIM key of selector {own.selector!r} is not yet published at {name}: {consequence}"
        return Publication.NOT_PUBLISHED, _with(finding, status, summary, fix)
    if len(answer.records) == 1 and _same_key(answer.records[0], own):
        return Publication.PUBLISHED, finding
    summary = (
        f"the key published at {name} is not the public half of the stored key of selector "
        f"{own.selector!r}: signatures with it would fail"
    )
    details = ("replace the record with the one below",)
    return Publication.DIFFERS, _with(finding, Status.FAIL, summary, fix, details)


def check_keys(keys, run_options) -> list[tuple[Publication, DkimFinding]]:
    """Blocking (Odoo, scripts): ``check`` for each of ``keys``, through one resolver built from
    ``run_options`` (an ``options.RunOptions``)."""

    async def main():
        resolver = run_options.resolver()
        return await asyncio.gather(*(check(key, resolver) for key in keys))

    return list(event_loop.run(main())) if keys else []


def _with(finding: DkimFinding, status: Status, summary: str, fix: str, details=()) -> DkimFinding:
    return DkimFinding(
        Check.DKIM,
        status,
        summary,
        (*finding.details, *details),
        fix,
        selector=finding.selector,
        key_type=finding.key_type,
        key_bits=finding.key_bits,
    )
