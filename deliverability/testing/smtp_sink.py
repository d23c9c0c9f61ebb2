"""A real SMTP server on loopback that keeps what it receives: the envelope and the DATA bytes as a
receiving server sees them (dot-stuffing undone, nothing else changed).

Its ``script`` makes it behave as relays do when they refuse: after ``accept`` messages it answers
``refusal`` at one stage of the dialogue (a quota refusal, or a ``421`` after which it closes the
connection, as relays do); recipients in ``unknown`` are refused ``550 5.1.1`` and recipients in
``greylisted`` ``451 4.7.1``. Every refusal it gave is in ``refused``.
"""

from __future__ import annotations

import socketserver
import threading
from dataclasses import dataclass, field

QUOTA = "550 5.4.5 Daily user sending limit exceeded. For more information, see the relay's help."
CLOSING = "421 4.7.0 Try again later, closing connection."


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_to: tuple[str, ...]
    data: bytes


@dataclass(frozen=True)
class Script:
    """How the sink answers. ``stage``: ``connect`` (the greeting), ``mail``, ``rcpt`` or ``data``."""

    accept: int | None = None
    refusal: str = QUOTA
    stage: str = "mail"
    unknown: tuple[str, ...] = ()
    greylisted: tuple[str, ...] = ()


def _address(line: bytes) -> str:
    return line.split(b":", 1)[1].split(b">")[0].strip(b" <").decode()


class _Handler(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def refuse(self, stage: str, line: str) -> bool:
        """Answer ``line``; True when the sink then closes the connection (a ``421``)."""
        self.server.sink.refused.append((stage, line))
        self.reply(line)
        return line.startswith("421")

    def refuses(self, stage: str) -> bool:
        sink = self.server.sink
        script = sink.script
        return script.stage == stage and script.accept is not None and len(sink.received) >= script.accept

    def handle(self) -> None:
        script = self.server.sink.script
        if self.refuses("connect"):
            self.refuse("connect", script.refusal)
            return
        self.reply("220 sink.test ESMTP")
        mail_from, rcpt = "", []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250-sink.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 100000000\r\n")
            elif verb == b"MAIL":
                if self.refuses("mail"):
                    if self.refuse("mail", script.refusal):
                        return
                    continue
                mail_from, rcpt = _address(line), []
                self.reply("250 ok")
            elif verb == b"RCPT":
                address = _address(line)
                if address in script.unknown:
                    self.refuse("rcpt", f"550 5.1.1 <{address}>: Recipient address rejected: User unknown")
                elif address in script.greylisted:
                    self.refuse("rcpt", f"451 4.7.1 <{address}>: Recipient address rejected: Greylisted")
                elif self.refuses("rcpt"):
                    if self.refuse("rcpt", script.refusal):
                        return
                else:
                    rcpt.append(address)
                    self.reply("250 ok")
            elif verb == b"DATA":
                self.reply("354 go ahead")
                chunks = []
                while True:
                    chunk = self.rfile.readline()
                    if chunk in (b".\r\n", b""):
                        break
                    chunks.append(chunk[1:] if chunk.startswith(b".") else chunk)
                if self.refuses("data"):
                    if self.refuse("data", script.refusal):
                        return
                    continue
                self.server.sink.received.append(Received(mail_from, tuple(rcpt), b"".join(chunks)))
                self.reply("250 queued")
            elif verb == b"QUIT":
                self.reply("221 bye")
                return
            else:  # RSET, NOOP, anything else
                self.reply("250 ok")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@dataclass
class SmtpSink:
    """``with SmtpSink() as sink:`` … ``sink.received`` (host 127.0.0.1, ``sink.port``); set
    ``sink.script`` to make it refuse."""

    host: str = "127.0.0.1"
    script: Script = field(default_factory=Script)
    received: list[Received] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def __enter__(self) -> SmtpSink:
        self._server = _Server((self.host, 0), _Handler)
        self._server.sink = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
