"""One event loop per run, for the blocking entry points (Odoo, the command line, scripts), and
work put off until that loop has nothing else to do."""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class _IdleSelector(selectors.DefaultSelector):
    """The loop's selector: when the loop is about to wait (no callback ready) and no socket has
    data, the callbacks put off until then are made ready instead."""

    def __init__(self) -> None:
        super().__init__()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.idle: list[Callable[[], object]] = []

    def select(self, timeout: float | None = None):
        if self.idle and timeout != 0:
            events = super().select(0)
            if events:
                return events
            callbacks, self.idle = self.idle, []
            for callback in callbacks:
                self.loop.call_soon(callback)  # run by the loop in this very turn
            timeout = 0
        return super().select(timeout)


class _Loop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self.idle_selector = _IdleSelector()
        super().__init__(self.idle_selector)
        self.idle_selector.loop = self


def call_when_idle(callback: Callable[[], object]) -> None:
    """Call ``callback`` once the running loop has nothing to do but wait: no callback ready to run,
    no answer waiting to be read. Work that takes time (storing results) is put off this way so
    that it does not hold up answers already in. In a loop not made by ``run``: soon."""
    loop = asyncio.get_running_loop()
    if isinstance(loop, _Loop):
        loop.idle_selector.idle.append(callback)
    else:
        loop.call_soon(callback)


async def when_idle(function: Callable[[], T]) -> T:
    """``function()``, called once the running loop has nothing to do but wait (``call_when_idle``)."""
    future = asyncio.get_running_loop().create_future()

    def call() -> None:
        try:
            future.set_result(function())
        except Exception as exc:  # noqa: BLE001 - raised where it is awaited
            future.set_exception(exc)

    call_when_idle(call)
    return await future


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` without its Ctrl-C handler: putting Python's back reprs the running
    task (its whole stack, a few ms) twice per run. Ctrl-C still ends the run with
    ``KeyboardInterrupt``; the tasks left are cancelled and the loop closed, as asyncio.run does."""
    loop = _Loop()
    try:
        return loop.run_until_complete(main)
    finally:
        try:
            left = asyncio.all_tasks(loop)
            for task in left:
                task.cancel()
            if left:
                loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()
