"""``event_loop.run``: asyncio.run's result, errors and clean-up, without its Ctrl-C handler."""

from __future__ import annotations

import asyncio
import signal
import socket

import pytest

from deliverability import event_loop


def test_the_result_and_the_tasks_left_are_cancelled_and_the_loop_closed():
    ended = []

    async def left_running():
        try:
            await asyncio.sleep(60)
        finally:
            ended.append("cancelled")

    async def main():
        asyncio.get_running_loop().create_task(left_running())
        await asyncio.sleep(0)
        main.loop = asyncio.get_running_loop()
        return 42

    handler = signal.getsignal(signal.SIGINT)
    assert event_loop.run(main()) == 42
    assert ended == ["cancelled"]
    assert main.loop.is_closed()
    assert signal.getsignal(signal.SIGINT) is handler  # never replaced


def test_an_error_comes_out_as_it_was_raised():
    async def main():
        raise LookupError("no such thing")

    with pytest.raises(LookupError, match="no such thing"):
        event_loop.run(main())


def test_work_put_off_until_idle_waits_for_ready_callbacks_and_waiting_data():
    async def main():
        loop = asyncio.get_running_loop()
        order = []
        reader, writer = socket.socketpair()
        try:
            event_loop.call_when_idle(lambda: order.append("idle"))
            for i in range(3):
                loop.call_soon(order.append, i)
            writer.send(b"x")  # data waiting: read before the loop counts as idle
            loop.add_reader(reader, lambda: order.append(reader.recv(1).decode()))
            await asyncio.sleep(0)
            order.append("ready")
            await asyncio.sleep(0.05)  # now the loop waits for the timer: idle
            loop.remove_reader(reader)
        finally:
            reader.close()
            writer.close()
        return order

    assert event_loop.run(main()) == [0, 1, 2, "ready", "x", "idle"]


def test_work_put_off_until_idle_in_another_loop_runs_soon():
    async def main():
        order = []
        event_loop.call_when_idle(lambda: order.append("idle"))
        order.append("first")
        await asyncio.sleep(0)
        return order

    assert asyncio.run(main()) == ["first", "idle"]
