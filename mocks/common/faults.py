"""Fault knobs for one vendor front: latency, 5xx share, 429 bursts and the connection cap.

``mocks.common.middleware`` asks a ``FaultInjector`` what to do with each request; the control API
and the CLI change its ``FaultSettings`` at run time. Random choices come from a seeded generator
so a run with the same seed and the same requests injects the same faults.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any


class OverCapBehaviour(StrEnum):
    """What happens to a request that arrives while the connection cap is already in use."""

    SLOW = "slow"  # served, but later: how an overloaded Jamf Pro shows strain
    REJECT = "reject"  # answered 503 at once
    RECORD = "record"  # served normally; only counted


@dataclass(frozen=True, kw_only=True)
class FaultSettings:
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_share: float = 0.0  # share of requests answered with a 5xx
    error_statuses: tuple[int, ...] = (500, 502, 503)
    rate_limit_share: float = 0.0  # chance that a request starts a 429 burst
    rate_limit_burst: int = 3  # 429 answers per burst
    retry_after_seconds: int = 2
    connection_cap: int = 5
    over_cap: OverCapBehaviour = OverCapBehaviour.SLOW
    over_cap_delay_ms: float = 200.0  # extra wait per connection beyond the cap
    conflict_on_overlap: bool = True  # 409 when two writes hit the same object at once
    # Share of requests whose connection drops after the server acted but before the answer's
    # body arrived: the client cannot tell whether its write happened.
    drop_share: float = 0.0

    def updated(self, changes: dict[str, Any]) -> FaultSettings:
        return replace(self, **changes)


@dataclass(frozen=True, kw_only=True)
class FaultDecision:
    status: int
    retry_after: int | None = None
    reason: str


class FaultInjector:
    def __init__(self, settings: FaultSettings | None = None, *, seed: int = 0) -> None:
        self.settings = settings or FaultSettings()
        self._rng = random.Random(f"faults-{seed}")  # noqa: S311 - reproducible, not secret
        self._burst_left = 0
        self._burst_until = 0.0
        self._burst_retry_after = 0

    def latency_seconds(self) -> float:
        settings = self.settings
        if settings.latency_ms <= 0 and settings.jitter_ms <= 0:
            return 0.0
        return (settings.latency_ms + self._rng.uniform(0.0, settings.jitter_ms)) / 1000.0

    def over_cap_delay_seconds(self, in_flight: int) -> float:
        excess = in_flight - self.settings.connection_cap
        return max(0, excess) * self.settings.over_cap_delay_ms / 1000.0

    def start_rate_limit_burst(self, now: float, *, count: int, retry_after: int) -> None:
        """The next ``count`` requests (until ``retry_after`` seconds pass) get 429."""
        self._burst_left = count
        self._burst_until = now + retry_after
        self._burst_retry_after = retry_after

    def decide(self, now: float) -> FaultDecision | None:
        """Pick this request's injected failure, if any (429 bursts win over 5xx)."""
        settings = self.settings
        starts_burst = (
            self._burst_left <= 0
            and settings.rate_limit_share > 0
            and self._rng.random() < settings.rate_limit_share
        )
        if starts_burst:
            self.start_rate_limit_burst(
                now, count=settings.rate_limit_burst, retry_after=settings.retry_after_seconds
            )
        if self._burst_left > 0 and now < self._burst_until:
            self._burst_left -= 1
            remaining = max(1, round(self._burst_until - now))
            return FaultDecision(status=429, retry_after=remaining, reason="rate-limit burst")
        self._burst_left = 0
        if settings.error_share > 0 and self._rng.random() < settings.error_share:
            status = self._rng.choice(settings.error_statuses)
            return FaultDecision(status=status, reason="injected server error")
        return None

    def drops_connection(self) -> bool:
        share = self.settings.drop_share
        return share > 0 and self._rng.random() < share

    def describe(self) -> dict[str, Any]:
        settings = self.settings
        return {
            "latencyMs": settings.latency_ms,
            "jitterMs": settings.jitter_ms,
            "errorShare": settings.error_share,
            "errorStatuses": list(settings.error_statuses),
            "rateLimitShare": settings.rate_limit_share,
            "rateLimitBurst": settings.rate_limit_burst,
            "retryAfterSeconds": settings.retry_after_seconds,
            "connectionCap": settings.connection_cap,
            "overCap": str(settings.over_cap),
            "overCapDelayMs": settings.over_cap_delay_ms,
            "conflictOnOverlap": settings.conflict_on_overlap,
            "dropShare": settings.drop_share,
            "rateLimitBurstLeft": self._burst_left,
        }
