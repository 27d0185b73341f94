"""The fleet's agenda: when each device next checks in and when installed profiles expire.

A heap of (time, sequence, kind, device index). ``Fleet`` schedules entries and drains the due
ones on ``tick``; entries made stale by a later reschedule are skipped by the fleet, which checks
each against the device's current ``next_checkin``.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator


class Timetable:
    CHECKIN = 0
    REMOVAL = 1

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, int, int]] = []
        self._sequence = itertools.count()

    def schedule_checkin(self, when: float, device_index: int) -> None:
        heapq.heappush(self._heap, (when, next(self._sequence), self.CHECKIN, device_index))

    def schedule_removal(self, when: float, device_index: int) -> None:
        heapq.heappush(self._heap, (when, next(self._sequence), self.REMOVAL, device_index))

    def due(self, limit: float) -> Iterator[tuple[float, int, int]]:
        """Yield (time, kind, device index) for every entry at or before ``limit``, in order.

        Entries scheduled while iterating are yielded too when they fall due by ``limit``.
        """
        heap = self._heap
        while heap and heap[0][0] <= limit:
            when, _, kind, index = heapq.heappop(heap)
            yield when, kind, index

    def __len__(self) -> int:
        return len(self._heap)
