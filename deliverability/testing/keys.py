"""DKIM keys for served test zones."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


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
