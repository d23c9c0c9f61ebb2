"""A UDP relay on 127.0.0.1 that delays every datagram by half a round trip, in both directions.

    python delay_relay.py TARGET_PORT RTT_MS      (prints the port it listens on, then relays)

Stands in for ``tc qdisc ... netem delay`` where the kernel has no netem: each
client address gets its own upstream socket to the target, so answers find their
way back; upstream sockets idle for 10 s are closed. UDP only.
"""

from __future__ import annotations

import asyncio
import sys
import time

HOST = "127.0.0.1"
IDLE = 10.0


class Upstream(asyncio.DatagramProtocol):
    def __init__(self, relay: Relay, client) -> None:
        self.relay = relay
        self.client = client
        self.used = time.monotonic()

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        self.relay.later(self.relay.transport.sendto, data, self.client)


class Relay(asyncio.DatagramProtocol):
    def __init__(self, target_port: int, delay: float) -> None:
        self.target = (HOST, target_port)
        self.delay = delay
        self.upstreams: dict[tuple, Upstream] = {}
        self.opening: dict[tuple, list[bytes]] = {}  # datagrams waiting for their upstream socket
        self.tasks: set[asyncio.Task] = set()

    def connection_made(self, transport) -> None:
        self.transport = transport

    def later(self, send, *args) -> None:
        asyncio.get_running_loop().call_later(self.delay, send, *args)

    def datagram_received(self, data: bytes, addr) -> None:
        upstream = self.upstreams.get(addr)
        if upstream is not None:
            upstream.used = time.monotonic()
            self.later(upstream.transport.sendto, data)
        elif addr in self.opening:
            self.opening[addr].append(data)
        else:
            self.opening[addr] = [data]
            task = asyncio.get_running_loop().create_task(self._open(addr))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _open(self, addr) -> None:
        loop = asyncio.get_running_loop()
        _, upstream = await loop.create_datagram_endpoint(
            lambda: Upstream(self, addr), remote_addr=self.target
        )
        self.upstreams[addr] = upstream
        for data in self.opening.pop(addr):
            self.later(upstream.transport.sendto, data)

    async def sweep(self) -> None:
        while True:
            await asyncio.sleep(IDLE / 2)
            now = time.monotonic()
            for addr, upstream in list(self.upstreams.items()):
                if now - upstream.used > IDLE:
                    upstream.transport.close()
                    del self.upstreams[addr]


async def main() -> None:
    target_port, rtt_ms = int(sys.argv[1]), float(sys.argv[2])
    loop = asyncio.get_running_loop()
    transport, relay = await loop.create_datagram_endpoint(
        lambda: Relay(target_port, rtt_ms / 2000), local_addr=(HOST, 0)
    )
    print(transport.get_extra_info("sockname")[1], flush=True)
    await relay.sweep()


if __name__ == "__main__":
    asyncio.run(main())
