"""DKIM keys for served test zones."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa


def txt_strings(value: str, size: int = 255) -> str:
    """``value`` as zone-file TXT data: quoted strings of at most ``size`` characters."""
    return " ".join(f'"{value[i : i + size]}"' for i in range(0, len(value), size))


def dkim_rsa_record(bits: int = 2048) -> str:
    """The TXT data of a DKIM key record for a freshly generated RSA key of ``bits``."""
    der = (
        rsa.generate_private_key(public_exponent=65537, key_size=bits)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return txt_strings(f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}")


def receiver_verifies(zone_line: str, private_pem: str, selector: str, domain: str) -> bool:
    """Whether a receiver accepts mail signed with ``private_pem`` as ``selector``/``domain`` once
    ``zone_line`` is published, read as a receiver reads it, not by the code that wrote it: dnspython
    loads the line as a nameserver loads a zone file, and dkimpy signs a message and verifies it
    against that record's strings, joined, found only at the line's owner name."""
    import dkim as dkimpy
    import dns.name
    import dns.zone

    zone = dns.zone.from_text(f"$TTL 300\n{zone_line}\n", origin=dns.name.root, relativize=False,
                              check_origin=False)  # fmt: skip
    published = {
        name.to_text().lower().encode(): b"".join(rdata.strings)
        for name, _ttl, rdata in zone.iterate_rdatas("TXT")
    }
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        algorithm = b"ed25519-sha256"
        raw = key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        signing_key = base64.b64encode(raw)
    else:
        algorithm, signing_key = b"rsa-sha256", private_pem.encode()
    message = (
        f"From: someone@{domain}\r\nTo: person@example.org\r\nSubject: published key\r\n"
        "Message-ID: <published@example.org>\r\n\r\nBody.\r\n"
    ).encode()
    signature = dkimpy.sign(message, selector.encode(), domain.encode(), signing_key,
                            signature_algorithm=algorithm)  # fmt: skip
    return dkimpy.verify(signature + message, dnsfunc=lambda name, timeout=5: published.get(name.lower()))
