"""Request budgets of the fake Apple School Manager API (the 429 behaviour).

`mocks.asm.app` asks `RequestBudget.spend` before serving each API call of a client. The real
service is reported to allow about 20 GETs a minute and 10 POSTs an hour; past that it answers 429
with `Retry-After` in seconds. A sliding window keeps the answer honest: `Retry-After` is exactly
the wait until the oldest counted request leaves the window, so a client that honours it succeeds
on its next try. The POST budget's window is an hour, which is where `Retry-After` > 60 comes from.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True, kw_only=True)
class BudgetRule:
    """At most `requests` within any `window`; `requests=0` switches the budget off."""

    requests: int
    window: timedelta


@dataclass(kw_only=True)
class RequestBudget:
    """Per-client sliding windows for one kind of request (GET or POST)."""

    rule: BudgetRule
    _spent: dict[str, deque[datetime]] = field(default_factory=dict)

    def spend(self, client_id: str, now: datetime) -> int | None:
        """Count one request; return None when allowed, else the seconds to wait."""
        if self.rule.requests <= 0:
            return None
        spent = self._spent.setdefault(client_id, deque())
        while spent and now - spent[0] >= self.rule.window:
            spent.popleft()
        if len(spent) >= self.rule.requests:
            wait = (spent[0] + self.rule.window - now).total_seconds()
            return max(1, math.ceil(wait))
        spent.append(now)
        return None

    def reset(self) -> None:
        self._spent.clear()
