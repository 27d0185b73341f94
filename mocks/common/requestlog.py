"""What each vendor front received: a bounded request log and a concurrent-connection gauge.

The middleware records every vendor request here (control-API calls are left out); tests read it
through ``GET /_mock/requests`` and ``GET /_mock/connections`` to assert call counts, order and
peak parallelism.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class RequestRecord:
    sequence: int
    at: str  # ISO-8601 on the mock clock
    method: str
    path: str
    query: str
    status: int
    in_flight: int  # requests in progress when this one arrived, itself included
    fault: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "at": self.at,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "inFlight": self.in_flight,
            "fault": self.fault,
        }


class RequestLog:
    def __init__(self, capacity: int = 20_000) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=capacity)
        self._sequence = 0

    def next_sequence(self) -> int:
        self._sequence += 1
        return self._sequence

    def add(self, record: RequestRecord) -> None:
        self._records.append(record)

    def since(self, sequence: int = 0, limit: int | None = None) -> list[RequestRecord]:
        found = [record for record in self._records if record.sequence > sequence]
        return found if limit is None else found[:limit]

    @property
    def total(self) -> int:
        return self._sequence

    def clear(self) -> None:
        self._records.clear()


class ConnectionGauge:
    """Requests in flight. Over HTTP/1.1 one connection carries one request at a time, so this is
    the number of connections a client keeps busy at once."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.peak = 0
        self.over_cap = 0  # requests that arrived with the cap already in use

    def enter(self) -> int:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        return self.in_flight

    def leave(self) -> None:
        self.in_flight -= 1

    def reset(self) -> None:
        self.peak = self.in_flight
        self.over_cap = 0
