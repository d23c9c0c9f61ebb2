"""Unpacking of mailed reports: gzip, zlib, zip and e-mail containers, bounded in size and ratio.

Receivers send DMARC aggregate reports as ``.xml``, ``.xml.gz`` or ``.zip`` attachments
(some inside a forwarded ``.eml``). ``unpack`` peels those layers and returns readers
that inflate lazily, so a large report is parsed as a stream, and that refuse a
decompression bomb (too large a result, or too high a ratio) with ``UnpackError``
while it is being read, before its bytes pile up in memory.
"""

from __future__ import annotations

import email
import email.policy
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

CHUNK = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
_ZLIB_SECOND = (0x01, 0x5E, 0x9C, 0xDA)
_HEADER_LINE = re.compile(rb"(From |[A-Za-z][A-Za-z0-9-]*:)")
REPORT_SUFFIXES = (".xml", ".gz", ".zip", ".zlib", ".eml")
REPORT_TYPES = frozenset(
    {
        "application/gzip", "application/x-gzip", "application/zip", "application/x-zip-compressed",
        "application/x-zip", "application/xml", "text/xml", "application/octet-stream",
        "message/rfc822",
    }
)  # fmt: skip


class UnpackError(ValueError):
    """A container that cannot or must not be unpacked; the message says why, for an administrator."""


@dataclass(frozen=True)
class Limits:
    """Bounds on what one report may become once unpacked.

    ``max_ratio`` applies beyond ``ratio_floor`` bytes: a small report may compress very well.
    """

    max_input: int = 64 * 2**20
    max_size: int = 256 * 2**20
    max_ratio: int = 200
    ratio_floor: int = 2**20
    max_members: int = 20
    max_depth: int = 4


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Payload:
    """One report found in a container: where (``name``, e.g. ``mail.eml/report.zip/report.xml``), how
    it was packed (``layers``) and a reader of its bytes (read it once)."""

    name: str
    layers: tuple[str, ...]
    stream: BinaryIO


class _Bounded(io.RawIOBase):
    """Reads ``source`` and refuses to give more than ``limits`` allow for ``packed`` input bytes."""

    def __init__(self, source: BinaryIO, packed: int, what: str, limits: Limits) -> None:
        self.source, self.packed, self.what, self.limits = source, max(packed, 1), what, limits
        self.total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._read(len(buffer))
        buffer[: len(data)] = data
        self.total += len(data)
        limits = self.limits
        if self.total > limits.max_size:
            raise UnpackError(
                f"{self.what} unpacks to more than {limits.max_size // 2**20} MiB: "
                "refused (a decompression bomb?)"
            )
        if self.total > limits.ratio_floor and self.total > limits.max_ratio * self.packed:
            raise UnpackError(
                f"{self.what} unpacks to more than {limits.max_ratio} times its size: "
                "refused (a decompression bomb?)"
            )
        return len(data)

    def _read(self, size: int) -> bytes:
        return self.source.read(size)


class _Inflating(_Bounded):
    """A gzip or zlib stream inflated as it is read; bytes after the end of the stream are ignored."""

    def __init__(self, data: bytes, wbits: int, what: str, limits: Limits) -> None:
        super().__init__(io.BytesIO(data), len(data), what, limits)
        self.inflater = zlib.decompressobj(wbits)

    def _read(self, size: int) -> bytes:
        inflater = self.inflater
        while not inflater.eof:
            pending = inflater.unconsumed_tail or self.source.read(CHUNK)
            if not pending:
                raise UnpackError(f"{self.what} is truncated: the compressed stream ends early")
            try:
                data = inflater.decompress(pending, size)
            except zlib.error as exc:
                raise UnpackError(f"{self.what} is corrupt: {exc}") from None
            if data:
                return data
        return b""


def unpack(data: bytes, name: str = "report", limits: Limits = DEFAULT_LIMITS) -> list[Payload]:
    """The reports inside ``data`` (an XML file, gzip, zlib, zip or e-mail), as lazy bounded readers.

    Raises ``UnpackError`` for input too large, a corrupt or encrypted archive, an
    e-mail without a report, or something that is not a report container at all.
    """
    if len(data) > limits.max_input:
        raise UnpackError(f"{name} is larger than {limits.max_input // 2**20} MiB: refused")
    found = list(_unpack(data, name, (), limits))
    if not found:
        raise UnpackError(f"{name} holds no report (no XML, gzip or zip attachment)")
    return found


def _unpack(data: bytes, name: str, layers: tuple[str, ...], limits: Limits) -> Iterator[Payload]:
    if len(layers) > limits.max_depth:
        raise UnpackError(f"{name}: containers nested more than {limits.max_depth} deep: refused")
    if data[:2] == GZIP_MAGIC:
        yield from _peeled(
            _Inflating(data, 16 + zlib.MAX_WBITS, name, limits), name, (*layers, "gzip"), limits
        )
    elif data[:4] == ZIP_MAGIC:
        yield from _zip_members(data, name, (*layers, "zip"), limits)
    elif (
        len(data) > 2 and data[0] == 0x78 and data[1] in _ZLIB_SECOND and (data[0] * 256 + data[1]) % 31 == 0
    ):
        yield from _peeled(_Inflating(data, zlib.MAX_WBITS, name, limits), name, (*layers, "zlib"), limits)
    elif _is_email(data, name):
        yield from _email_reports(data, name, (*layers, "eml"), limits)
    else:
        _refuse_unless_xml(data, name)
        yield Payload(name, layers, io.BytesIO(data))


def _refuse_unless_xml(head: bytes, name: str) -> None:
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if first == b"<":
        return
    if first in (b"{", b"["):
        raise UnpackError(f"{name} is JSON (an SMTP TLS report?), not a DMARC aggregate report")
    if not head.strip():
        raise UnpackError(f"{name} is empty")
    raise UnpackError(f"{name} is neither XML nor a gzip, zip or e-mail container")


def _peeled(reader: _Bounded, name: str, layers: tuple[str, ...], limits: Limits) -> Iterator[Payload]:
    """What an inflating reader holds: XML is streamed; a nested container is read (bounded) and unpacked."""
    stream = io.BufferedReader(reader, CHUNK)
    head = stream.peek(64)[:64]
    if head[:2] == GZIP_MAGIC or head[:4] == ZIP_MAGIC or _is_email(head, ""):
        yield from _unpack(stream.read(), name, layers, limits)
    else:
        _refuse_unless_xml(head, name)
        yield Payload(name, layers, stream)


def _zip_members(data: bytes, name: str, layers: tuple[str, ...], limits: Limits) -> Iterator[Payload]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise UnpackError(f"{name} is not a readable zip archive: {exc}") from None
    if len(members) > limits.max_members:
        raise UnpackError(f"{name} holds {len(members)} files, more than {limits.max_members}: refused")
    reports = [m for m in members if m.filename.lower().endswith(REPORT_SUFFIXES)] or members
    if not reports:
        raise UnpackError(f"{name} is an empty zip archive")
    for member in reports:
        where = f"{name}/{member.filename}"
        if member.flag_bits & 0x1:
            raise UnpackError(f"{where} is encrypted: refused")
        if member.file_size > limits.max_size:
            raise UnpackError(f"{where} unpacks to more than {limits.max_size // 2**20} MiB: refused")
        try:
            raw = archive.open(member)
        except (zipfile.BadZipFile, NotImplementedError, ValueError) as exc:
            raise UnpackError(f"{where} cannot be read: {exc}") from None
        reader = _ZipMember(raw, member.compress_size, where, limits)
        yield from _peeled(reader, where, layers, limits)


class _ZipMember(_Bounded):
    """A zip member's reader whose errors (bad CRC, truncated data) become ``UnpackError``."""

    def _read(self, size: int) -> bytes:
        try:
            return self.source.read(size)
        except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as exc:
            raise UnpackError(f"{self.what} is corrupt: {exc}") from None


def _report_head(data: bytes) -> bool:
    """True when ``data`` starts like a report or a report container (attachments such as logos are not)."""
    return data[:2] == GZIP_MAGIC or data[:4] == ZIP_MAGIC or data.lstrip()[:1] in (b"<", b"{", b"x")


def _is_email(data: bytes, name: str) -> bool:
    return name.lower().endswith(".eml") or bool(_HEADER_LINE.match(data[:64]) and b":" in data[:200])


def _email_reports(data: bytes, name: str, layers: tuple[str, ...], limits: Limits) -> Iterator[Payload]:
    """The report attachments of an e-mail (nested messages included), each unpacked in turn."""
    message = email.message_from_bytes(data, policy=email.policy.compat32)
    found = False
    for index, part in enumerate(message.walk()):
        if part.is_multipart() or part.get_content_type() == "message/rfc822":
            continue
        filename = part.get_filename() or ""
        if part.get_content_type() not in REPORT_TYPES and not filename.lower().endswith(REPORT_SUFFIXES):
            continue
        payload = part.get_payload(decode=True)
        if not payload or not _report_head(payload):
            continue
        found = True
        yield from _unpack(payload, f"{name}/{filename or f'part {index}'}", layers, limits)
    if not found:
        if message.get_content_type() == "multipart/report":
            raise UnpackError(f"{name} is a failure (forensic) report, not an aggregate report: not read")
        raise UnpackError(f"{name} is an e-mail without a report attachment")
