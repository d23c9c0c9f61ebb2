"""DKIM: the key record of a selector, its delegation to the sending provider, key type and size.

A provider such as Flectra asks the domain to delegate ``<selector>._domainkey.<domain>``
to its own key with a CNAME, so it can rotate the key. The check follows that chain,
parses the key record (RFC 6376 3.6.1) and judges the key (RFC 8301, RFC 8463).
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from dataclasses import dataclass

from .dns import Answer, DnsStatus, Resolver
from .domains import DKIM_SELECTOR
from .findings import Check, DkimFinding, Status
from .texts import _lt

KEY_TYPES = ("rsa", "ed25519")
MIN_RSA_BITS = 1024  # RFC 8301: verifiers must not accept smaller keys
GOOD_RSA_BITS = 2048

_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_WSP = " \t\r\n"


class TagListError(ValueError):
    """A tag=value list that breaks RFC 6376 3.2."""


class DkimParseError(ValueError):
    """A TXT record that is not a usable DKIM key record."""


def parse_tag_list(text: str, *, allow_empty: bool = False) -> dict[str, str]:
    """Parse an RFC 6376 3.2 tag-list (``tag=value; ...``) into an ordered dict.

    Whitespace around names and values is dropped. ``allow_empty`` tolerates empty
    specs such as ``a=1;;b=2`` (DMARC records in the wild). Raises ``TagListError``
    naming the character position of the fault.
    """
    specs = text.split(";")
    if len(specs) > 1 and not specs[-1].strip(_WSP):
        specs.pop()  # a trailing ";" is allowed
    tags: dict[str, str] = {}
    position = 1
    for spec in specs:
        where = position + len(spec) - len(spec.lstrip(_WSP))
        position += len(spec) + 1
        if not spec.strip(_WSP):
            if allow_empty:
                continue
            raise TagListError(f"empty tag at character {where}")
        name, sep, value = spec.partition("=")
        name, value = name.strip(_WSP), value.strip(_WSP)
        if not sep:
            raise TagListError(f"{_clip(spec.strip(_WSP))!r} at character {where} is not tag=value")
        if not _TAG_NAME.match(name):
            raise TagListError(f"invalid tag name {_clip(name)!r} at character {where}")
        for offset, char in enumerate(value):
            if not ("!" <= char <= "~" or char in _WSP):
                column = where + spec.strip(_WSP).index("=") + 1 + offset
                raise TagListError(f"invalid character {char!r} in tag {name!r} near character {column}")
        if name in tags:
            raise TagListError(f"tag {name!r} appears twice (character {where})")
        tags[name] = value
    return tags


def _clip(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _colon_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip(_WSP) for item in value.split(":") if item.strip(_WSP))


@dataclass(frozen=True)
class DkimRecord:
    """A parsed DKIM key record (RFC 6376 3.6.1); ``public_key`` is the base64 ``p=`` (``""`` = revoked)."""

    public_key: str
    key_type: str = "rsa"
    hash_algorithms: tuple[str, ...] = ()  # h=; empty means any
    service_types: tuple[str, ...] = ("*",)
    flags: tuple[str, ...] = ()
    notes: str = ""

    @property
    def revoked(self) -> bool:
        return not self.public_key

    @property
    def testing(self) -> bool:
        return "y" in self.flags


def parse_dkim_record(text: str) -> DkimRecord:
    """Parse a DKIM key record. Raises ``DkimParseError`` (a ``ValueError``) on a malformed record."""
    try:
        tags = parse_tag_list(text)
    except TagListError as exc:
        raise DkimParseError(f"not a valid DKIM record: {exc}") from None
    if "v" in tags and (tags["v"] != "DKIM1" or next(iter(tags)) != "v"):
        raise DkimParseError("v= must be the first tag and be exactly DKIM1; receivers discard this record")
    if "p" not in tags:
        raise DkimParseError("the p= tag (the public key) is missing")
    key_type = tags.get("k", "rsa")
    if key_type not in KEY_TYPES:
        raise DkimParseError(f"unknown key type k={key_type!r} (expected rsa or ed25519)")
    return DkimRecord(
        public_key="".join(tags["p"].split()),
        key_type=key_type,
        hash_algorithms=_colon_list(tags.get("h", "")),
        service_types=_colon_list(tags.get("s", "*")) or ("*",),
        flags=_colon_list(tags.get("t", "")),
        notes=tags.get("n", ""),
    )


def key_size(record: DkimRecord) -> int:
    """The size in bits of the record's public key, checked against its ``k=`` type.

    Raises ``DkimParseError`` when ``p=`` is empty (revoked), not base64, or not a key of that type.
    A well-formed RSA key (the usual case) is measured from its DER structure; anything else
    goes to cryptography, imported then (a command line run starts faster without it).
    """
    if record.revoked:
        raise DkimParseError("the key is revoked (empty p=)")
    try:
        der = base64.b64decode(record.public_key, validate=True)
    except (binascii.Error, ValueError):
        raise DkimParseError("p= is not valid base64") from None
    if record.key_type == "rsa":
        bits = _rsa_spki_bits(der)
        if bits:
            return bits
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.backends import default_backend
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    if record.key_type == "ed25519":
        if len(der) != 32:
            raise DkimParseError(f"p= holds {len(der)} bytes; an ed25519 key is 32 raw bytes (RFC 8463)")
        try:
            ed25519.Ed25519PublicKey.from_public_bytes(der)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise DkimParseError(f"p= is not an ed25519 key: {exc}") from None
        return 256
    try:
        key = load_der_public_key(der, default_backend())
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise DkimParseError("p= is not an RSA public key (expected DER SubjectPublicKeyInfo)") from None
    if not isinstance(key, rsa.RSAPublicKey):
        # named by the key's kind, not by its class, whose name differs between cryptography versions
        kinds = {
            ec.EllipticCurvePublicKey: "EC", dsa.DSAPublicKey: "DSA", ed25519.Ed25519PublicKey: "Ed25519",
            ed448.Ed448PublicKey: "Ed448",
        }  # fmt: skip
        kind = next((name for cls, name in kinds.items() if isinstance(key, cls)), type(key).__name__)
        raise DkimParseError(f"p= holds a key of type {kind}, not RSA")
    return key.key_size


_RSA_ALGORITHM = bytes.fromhex("300d06092a864886f70d0101010500")  # SEQUENCE { rsaEncryption, NULL }


def _rsa_spki_bits(der: bytes) -> int:
    """The modulus size of a strict DER RSA SubjectPublicKeyInfo, 0 for anything else."""

    def item(data: bytes, at: int, tag: int) -> tuple[bytes, int]:
        if at + 2 > len(data) or data[at] != tag:
            raise ValueError
        size, at = data[at + 1], at + 2
        if size & 0x80:
            count = size & 0x7F
            if not 0 < count <= 4 or at + count > len(data) or data[at] == 0:
                raise ValueError
            size, at = int.from_bytes(data[at : at + count], "big"), at + count
            if size < 0x80:
                raise ValueError  # not the shortest form: not DER
        if at + size > len(data):
            raise ValueError
        return data[at : at + size], at + size

    def integer(data: bytes, at: int) -> tuple[int, int]:
        body, at = item(data, at, 0x02)
        if not body or body[0] & 0x80 or (len(body) > 1 and body[0] == 0 and not body[1] & 0x80):
            raise ValueError  # negative, empty or padded: not a DER positive integer
        return int.from_bytes(body, "big"), at

    try:
        spki, end = item(der, 0, 0x30)
        if end != len(der) or not spki.startswith(_RSA_ALGORITHM):
            return 0
        bits, end = item(spki, len(_RSA_ALGORITHM), 0x03)
        if end != len(spki) or not bits or bits[0] != 0:
            return 0
        key, end = item(bits, 1, 0x30)
        if end != len(bits):
            return 0
        modulus, at = integer(key, 0)
        exponent, at = integer(key, at)
    except ValueError:
        return 0
    if at != len(key) or exponent < 3 or not exponent & 1 or modulus < 2**511:
        return 0
    return modulus.bit_length()


def unsigned(domain: str) -> DkimFinding:
    """The finding of a domain whose mail nobody signs (a relay authorized by its addresses, without a
    key of the database or a selector in the settings): DMARC rests on SPF alone."""
    summary = (
        f"mail from {domain} is not DKIM-signed: create a DKIM key for it (DKIM Keys in the technical "
        "settings) and publish its record, so that DMARC does not rest on SPF alone"
    )
    return _finding("", Status.WARNING, summary)


def cname_fix(selector: str, domain: str, target: str) -> str:
    """The zone line delegating ``selector`` of ``domain`` to the provider's key."""
    return f"{selector}._domainkey.{domain}. IN CNAME {target}."


def txt_fix(selector: str, domain: str) -> str:
    """The zone line for a self-managed key (the key itself comes from the signing server)."""
    return f'{selector}._domainkey.{domain}. IN TXT "v=DKIM1; k=rsa; p=<public key of selector {selector}>"'


@dataclass(frozen=True)
class KeyVerdict:
    """The judgement of one key record: ``label`` names the key (``RSA 2048-bit``) when it could be read."""

    status: Status
    summary: str
    details: tuple[str, ...] = ()
    key_type: str | None = None
    key_bits: int | None = None

    @property
    def label(self) -> str:
        kind = "RSA" if self.key_type == "rsa" else self.key_type
        return f"{kind} {self.key_bits}-bit" if self.key_bits else "unreadable"


@functools.lru_cache(maxsize=256)
def judge_record(text: str, where: str) -> KeyVerdict:
    """Judge one DKIM key record found at ``where``: syntax, key, size, hash, service, flags.

    Cached: a provider's key, delegated to by thousands of domains, is parsed and sized once.
    """
    try:
        record = parse_dkim_record(text)
        bits = key_size(record)
    except DkimParseError as exc:
        summary = f"the DKIM record at {where} is unusable: {exc}"
        return KeyVerdict(Status.FAIL, summary, (f"record: {_clip(text, 120)}",))
    label = KeyVerdict(Status.PASS, "", key_type=record.key_type, key_bits=bits).label
    problems: list[tuple[Status, str]] = []
    if record.key_type == "rsa" and bits < MIN_RSA_BITS:
        problems.append((Status.FAIL, "is too short: receivers ignore keys under 1024 bits"))
    elif record.key_type == "rsa" and bits < GOOD_RSA_BITS:
        problems.append((Status.WARNING, "is weak: 2048 bits is the recommended size"))
    if record.hash_algorithms and "sha256" not in record.hash_algorithms:
        allowed = ":".join(record.hash_algorithms)
        problems.append((Status.FAIL, f"allows only h={allowed}, and receivers require sha256"))
    if not {"*", "email"} & set(record.service_types):
        problems.append((Status.FAIL, f"is not for email (s={':'.join(record.service_types)})"))
    if record.testing:
        problems.append(
            (Status.WARNING, "is flagged as testing (t=y): receivers may treat signed mail as unsigned")
        )
    details = [_lt("key: %(label)s") % {"label": label}]
    if record.key_type == "ed25519":
        details.append(_lt("some receivers verify only RSA signatures: sign with an RSA key too (RFC 8463)"))
    status = Status.worst(p[0] for p in problems)
    if problems:
        worst_first = sorted(problems, key=lambda p: -p[0].severity)
        summary = f"the {label} DKIM key at {where} " + ", and ".join(p[1] for p in worst_first)
    else:
        summary = _lt("%(label)s DKIM key published at %(where)s") % {"label": label, "where": where}
    return KeyVerdict(status, summary, tuple(details), record.key_type, bits)


def _finding(
    selector: str, status: Status, summary: str, details=(), fix=None, verdict: KeyVerdict | None = None
) -> DkimFinding:
    return DkimFinding(
        Check.DKIM,
        status,
        summary,
        tuple(details),
        fix,
        selector=selector,
        key_type=verdict.key_type if verdict else None,
        key_bits=verdict.key_bits if verdict else None,
    )


async def check(domain: str, resolver: Resolver, selector: str, expected_target: str | None) -> DkimFinding:
    """Check the DKIM key of ``selector`` for ``domain``.

    With ``expected_target`` (the provider's key name) the selector must be a CNAME to it;
    without, a key record must be published at the selector. WARNING means signatures
    verify but something should change; FAIL means they cannot verify.
    """
    target = expected_target.lower().rstrip(".") if expected_target else None
    name = f"{selector}._domainkey.{domain}"
    fix = cname_fix(selector, domain, target) if target else txt_fix(selector, domain)
    if not DKIM_SELECTOR.match(selector):
        return _finding(selector, Status.FAIL, f"{selector!r} is not a valid DKIM selector (a DNS label)")
    answer = await resolver.query(name, "TXT")
    chain = " -> ".join((name, *answer.cnames))
    if answer.broken_chain:
        summary = _lt("the DKIM name %(name)s is a broken alias chain (%(error)s)") % {
            "name": name,
            "error": answer.error,
        }
        return _finding(selector, Status.FAIL, summary, [chain], fix)
    if not answer.answered:
        summary = _lt("DKIM could not be checked: DNS did not answer for %(name)s (%(status)s)") % {
            "name": name,
            "status": answer.status.value,
        }
        return _finding(selector, Status.UNKNOWN, summary)
    delegated = target is not None and target in answer.cnames
    if not answer.records:
        if not answer.cnames:
            what = "DKIM is not enabled" if target else f"no DKIM key is published for selector {selector!r}"
            return _finding(selector, Status.FAIL, f"{what}: there is no record at {name}", (), fix)
        missing = "does not exist" if answer.status is DnsStatus.NXDOMAIN else "has no key record"
        if delegated:
            summary = (
                f"{name} points to the provider's key {target}, which {missing}: signatures cannot verify"
            )
            note = "the provider must publish its key; nothing to change in your zone"
            return _finding(selector, Status.FAIL, summary, [chain, note])
        summary = f"{name} is an alias to {answer.final_name}, which {missing} (dangling CNAME)"
        return _finding(selector, Status.FAIL, summary, [chain], fix)
    trail = [chain] if answer.cnames else []
    if len(answer.records) > 1:
        summary = (
            f"{len(answer.records)} TXT records at {answer.final_name}: there must be exactly one key record"
        )
        records = [f"record: {_clip(r, 120)}" for r in answer.records]
        keep = [] if target else [_lt("delete all but the current key record")]
        return _finding(
            selector,
            Status.FAIL,
            summary,
            [*trail, *records, *keep],
            fix if target and not delegated else None,
        )
    verdict = judge_record(answer.records[0], answer.final_name)
    details = [*trail, *verdict.details]
    if delegated:
        if verdict.status is Status.PASS:
            summary = _lt("DKIM is enabled: %(name)s points to the provider's key (%(label)s)") % {
                "name": name,
                "label": verdict.label,
            }
            return _finding(selector, Status.PASS, summary, details, None, verdict)
        details.append(_lt("this key is managed by the provider; nothing to change in your zone"))
        return _finding(selector, verdict.status, verdict.summary, details, None, verdict)
    if target is None:
        own_fix = fix if verdict.status is Status.FAIL else None
        return _finding(selector, verdict.status, verdict.summary, details, own_fix, verdict)
    status, summary, note = await _compare_with_provider(answer, resolver, target, verdict)
    where = f"points to {answer.final_name} instead of {target}" if answer.cnames else "holds a key itself"
    details += [*note, _lt("replace the record with the CNAME to %(target)s") % {"target": target}]
    return _finding(selector, status, f"{name} {where}: {summary}", details, fix, verdict)


async def _compare_with_provider(
    answer: Answer, resolver: Resolver, target: str, verdict: KeyVerdict
) -> tuple[Status, str, list[str]]:
    """Is the key found without the CNAME to the provider a copy of the provider's key?"""
    provider = await resolver.query(target, "TXT")
    ours = _public_key(answer.records[0])
    if len(provider.records) == 1 and ours and ours == _public_key(provider.records[0]):
        summary = "a copy of the provider's key, which breaks when the provider rotates it"
        return Status.worst((Status.WARNING, verdict.status)), summary, []
    if not provider.answered:
        note = f"the provider's key at {target} could not be fetched to compare ({provider.status.value})"
        return Status.worst((Status.WARNING, verdict.status)), "use the CNAME to the provider's key", [note]
    return Status.FAIL, "mail signed by the provider will fail DKIM", []


def _public_key(text: str) -> str | None:
    try:
        return parse_dkim_record(text).public_key or None
    except DkimParseError:
        return None
