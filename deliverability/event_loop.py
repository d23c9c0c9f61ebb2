"""One event loop per run, for the blocking entry points (Odoo, the command line, scripts)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` without its Ctrl-C handler: putting Python's back reprs the running
    task (its whole stack, a few ms) twice per run. Ctrl-C still ends the run with
    ``KeyboardInterrupt``; the tasks left are cancelled and the loop closed, as asyncio.run does."""
    loop = asyncio.new_event_loop()
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
