"""A UDP relay on 127.0.0.1 that delays every datagram by half a round trip, in both directions.

    python delay_relay.py TARGET_PORT RTT_MS      (prints the port it listens on, then relays)

Stands in for ``tc qdisc ... netem delay`` where the kernel has no netem: each
client address gets its own upstream socket to the target, so answers find their
way back; upstream sockets idle for 10 s are closed. UDP only. Every datagram is
sent half a round trip after it arrived, whatever came with it: one epoll loop,
no event-loop machinery per datagram, so a burst of a hundred queries costs the
last of them about a tenth of a millisecond, not several.
"""

from __future__ import annotations

import collections
import select
import socket
import sys
import time

HOST = "127.0.0.1"
IDLE = 10.0


class Relay:
    def __init__(self, target_port: int, delay: float) -> None:
        self.target = (HOST, target_port)
        self.delay = delay
        self.listener = self._socket()
        self.listener.bind((HOST, 0))
        self.poll = select.epoll()
        self.poll.register(self.listener.fileno(), select.EPOLLIN)
        self.upstreams: dict[tuple, socket.socket] = {}  # client address -> its socket to the target
        self.clients: dict[int, tuple] = {}  # upstream fileno -> client address
        self.used: dict[tuple, float] = {}
        # the delay is the same for every datagram: the order they arrived in is the order they are due
        self.due: collections.deque[tuple[float, socket.socket, bytes, tuple | None]] = collections.deque()

    @staticmethod
    def _socket() -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        return sock

    def _upstream(self, client: tuple) -> socket.socket:
        upstream = self.upstreams.get(client)
        if upstream is None:
            upstream = self.upstreams[client] = self._socket()
            upstream.connect(self.target)
            self.clients[upstream.fileno()] = client
            self.poll.register(upstream.fileno(), select.EPOLLIN)
        return upstream

    def _read(self, fileno: int, now: float) -> None:
        """Every datagram waiting on ``fileno``, each due half a round trip from now."""
        while True:
            try:
                if fileno == self.listener.fileno():
                    data, client = self.listener.recvfrom(65535)
                    self.used[client] = now
                    self.due.append((now + self.delay, self._upstream(client), data, None))
                else:
                    data = self.upstreams[self.clients[fileno]].recv(65535)
                    self.due.append((now + self.delay, self.listener, data, self.clients[fileno]))
            except (BlockingIOError, ConnectionRefusedError):
                return

    def _send_due(self, now: float) -> None:
        while self.due and self.due[0][0] <= now:
            _, sock, data, to = self.due.popleft()
            try:
                if to is None:
                    sock.send(data)
                else:
                    sock.sendto(data, to)
            except OSError:
                pass  # lost, as a datagram may be

    def _sweep(self, now: float) -> None:
        for client, used in list(self.used.items()):
            if now - used > IDLE:
                upstream = self.upstreams.pop(client)
                del self.clients[upstream.fileno()], self.used[client]
                self.poll.unregister(upstream.fileno())
                upstream.close()

    def serve(self) -> None:
        swept = time.monotonic()
        while True:
            now = time.monotonic()
            timeout = max(0.0, self.due[0][0] - now) if self.due else IDLE / 2
            for fileno, _ in self.poll.poll(timeout):
                self._read(fileno, time.monotonic())
            now = time.monotonic()
            self._send_due(now)
            if now - swept > IDLE / 2:
                self._sweep(now)
                swept = now


def main() -> None:
    target_port, rtt_ms = int(sys.argv[1]), float(sys.argv[2])
    relay = Relay(target_port, rtt_ms / 2000)
    print(relay.listener.getsockname()[1], flush=True)
    relay.serve()


if __name__ == "__main__":
    main()
