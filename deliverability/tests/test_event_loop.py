"""``event_loop.run``: asyncio.run's result, errors and clean-up, without its Ctrl-C handler."""

from __future__ import annotations

import asyncio
import signal

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
