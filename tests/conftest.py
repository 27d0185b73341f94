"""Suite-wide fixtures and manners.

Every asyncio test fails if it leaves a task running: components must stop what they start.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest


@pytest.fixture(autouse=True)
async def _no_leaked_tasks() -> AsyncIterator[None]:
    """Fail the test when an asyncio task it started is still pending at its end."""
    before = asyncio.all_tasks()
    yield
    await asyncio.sleep(0)  # let tasks that are finishing finish
    current = asyncio.current_task()
    leaked = [t for t in asyncio.all_tasks() - before if t is not current and not t.done()]
    for task in leaked:
        task.cancel()
    if leaked:
        names = ", ".join(sorted(t.get_name() + ":" + repr(t.get_coro()) for t in leaked))
        pytest.fail(f"test leaked {len(leaked)} asyncio task(s): {names}")
