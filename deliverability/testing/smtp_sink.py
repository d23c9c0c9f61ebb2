"""A real SMTP server on loopback that keeps what it receives: the envelope and the DATA bytes as a
receiving server sees them (dot-stuffing undone, nothing else changed)."""

from __future__ import annotations

import socketserver
import threading
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_to: tuple[str, ...]
    data: bytes


class _Handler(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
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
                mail_from, rcpt = line.split(b":", 1)[1].split(b">")[0].strip(b" <").decode(), []
                self.reply("250 ok")
            elif verb == b"RCPT":
                rcpt.append(line.split(b":", 1)[1].split(b">")[0].strip(b" <").decode())
                self.reply("250 ok")
            elif verb == b"DATA":
                self.reply("354 go ahead")
                chunks = []
                while True:
                    chunk = self.rfile.readline()
                    if chunk in (b".\r\n", b""):
                        break
                    chunks.append(chunk[1:] if chunk.startswith(b".") else chunk)
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
    """``with SmtpSink() as sink:`` … ``sink.received`` (host 127.0.0.1, ``sink.port``)."""

    host: str = "127.0.0.1"
    received: list[Received] = field(default_factory=list)

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
