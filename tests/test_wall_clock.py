"""Nothing reads the wall clock except the clock objects (`mdm_bridge.clock`, `mocks.clock`).

Curfews, DST nights and expiries are only testable exactly if time is injected everywhere.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("mdm_bridge", "connectors", "policies", "schedules", "mocks")
ALLOWED = {Path("mdm_bridge/clock.py"), Path("mocks/clock.py")}
WALL_CLOCK = re.compile(
    r"\b(datetime\.(now|utcnow|today)\(|date\.today\(|time\.(time|time_ns|monotonic|monotonic_ns|"
    r"perf_counter|localtime|gmtime)\(|(?<![\w.])(monotonic|perf_counter)\(\))"
)


def test_no_wall_clock_reads_outside_the_clock() -> None:
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative in ALLOWED:
                continue
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                if WALL_CLOCK.search(line.split("#", 1)[0]):
                    offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == [], "read time through the injected clock:\n" + "\n".join(offenders)


def test_the_scan_catches_a_wall_clock_read() -> None:
    assert WALL_CLOCK.search("started = datetime.now(UTC)")
    assert WALL_CLOCK.search("t0 = time.monotonic()")
    assert not WALL_CLOCK.search("started = clock.now()")
