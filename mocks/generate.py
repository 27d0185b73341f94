"""Deterministic creation of a simulated school's iPads from (devices, seed).

``Fleet.build`` calls ``generate_devices``; the same ``FleetConfig`` and start time always give
the same serials, UDIDs, management ids, pupils, rhythms and offline/locked devices. The loop
is kept lean because ``mdm-bridge mock --devices 100000`` must be ready in a few seconds.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass

from mocks.device import Device

_SERIAL_ALPHABET = "0123456789CDFGHJKLMNPQRTVWXY"
_FIRST_NAMES = (
    "Amira", "Ben", "Chloe", "Dev", "Ella", "Finn", "Grace", "Harry", "Isla", "Jack", "Kai",
    "Layla", "Mo", "Noah", "Olivia", "Priya", "Quinn", "Ruby", "Sam", "Tariq", "Uma", "Vera",
    "Will", "Xander", "Yusuf", "Zara",
)  # fmt: skip
_YEAR_GROUPS = ("Year 1", "Year 2", "Year 3", "Year 4", "Year 5", "Year 6")
_CLASS_LETTERS = ("A", "B", "C")
_MODELS = (
    ("iPad (9th generation)", "iPad12,1", "17.6.1"),
    ("iPad (10th generation)", "iPad13,18", "18.1"),
    ("iPad Air (5th generation)", "iPad13,16", "18.1"),
)


@dataclass(frozen=True, kw_only=True)
class FleetConfig:
    """Shape of the simulated fleet. Shares are fractions of the enrolled devices."""

    devices: int = 100
    seed: int = 0
    unsupervised_share: float = 0.03
    offline_share: float = 0.02
    offline_hours: tuple[float, float] = (2.0, 10.0)
    locked_share: float = 0.1
    locked_minutes: tuple[float, float] = (5.0, 90.0)
    no_passcode_share: float = 0.05
    shared_ipad_share: float = 0.0
    checkin_interval_seconds: tuple[float, float] = (600.0, 1800.0)
    push_delay_seconds: tuple[float, float] = (1.0, 15.0)
    # Serials Apple School Manager knows that never enrolled in the MDM; None = about 2 %.
    unenrolled_devices: int | None = None

    def __post_init__(self) -> None:
        if self.devices < 0 or (self.unenrolled_devices or 0) < 0:
            raise ValueError("device counts cannot be negative")
        shares = (
            self.unsupervised_share,
            self.offline_share,
            self.locked_share,
            self.no_passcode_share,
            self.shared_ipad_share,
        )
        if any(not 0.0 <= share <= 1.0 for share in shares):
            raise ValueError("shares are fractions between 0 and 1")
        for low, high in (
            self.offline_hours,
            self.locked_minutes,
            self.checkin_interval_seconds,
            self.push_delay_seconds,
        ):
            if not 0 < low <= high:
                raise ValueError("ranges need 0 < low <= high")

    def unenrolled_count(self) -> int:
        if self.unenrolled_devices is not None:
            return self.unenrolled_devices
        return max(1, self.devices // 50) if self.devices else 0


def generate_devices(config: FleetConfig, start: float) -> list[Device]:
    """All devices, enrolled ones first (indexes 0..devices-1), then the unenrolled extras."""
    rng = random.Random(config.seed)  # noqa: S311 - reproducible simulation, not secrets
    total = config.devices + config.unenrolled_count()
    used_serials: set[str] = set()
    devices: list[Device] = []
    interval_low, interval_high = config.checkin_interval_seconds
    push_low, push_high = config.push_delay_seconds
    offline_low, offline_high = config.offline_hours
    locked_low, locked_high = config.locked_minutes
    for index in range(total):
        enrolled = index < config.devices
        serial = _unique_serial(rng, used_serials)
        model, model_identifier, os_version = _MODELS[rng.randrange(len(_MODELS))]
        year = rng.randrange(len(_YEAR_GROUPS))
        class_name = f"{year + 1}{_CLASS_LETTERS[rng.randrange(len(_CLASS_LETTERS))]}"
        pupil_name = f"{_FIRST_NAMES[rng.randrange(len(_FIRST_NAMES))]} {chr(65 + index % 26)}."
        interval = rng.uniform(interval_low, interval_high)
        offline_until: float | None = None
        if enrolled and rng.random() < config.offline_share:
            offline_until = start + rng.uniform(offline_low, offline_high) * 3600.0
        locked_until: float | None = None
        if enrolled and rng.random() < config.locked_share:
            locked_until = start + rng.uniform(locked_low, locked_high) * 60.0
        devices.append(
            Device(
                index=index,
                serial=serial,
                udid=_udid(rng),
                management_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                name=f"{class_name}-{index + 1:06d}",
                model=model,
                model_identifier=model_identifier,
                os_version=os_version,
                wifi_mac=":".join(f"{rng.randrange(256):02x}" for _ in range(6)),
                supervised=rng.random() >= config.unsupervised_share,
                has_passcode=rng.random() >= config.no_passcode_share,
                # Drawn only when asked for, so older seeds keep generating the same fleet.
                shared_ipad=config.shared_ipad_share > 0
                and rng.random() < config.shared_ipad_share,
                enrolled=enrolled,
                pupil_ref=f"P{config.seed % 1000:03d}-{index + 1:06d}",
                pupil_name=pupil_name,
                year_group=_YEAR_GROUPS[year],
                class_name=class_name,
                checkin_interval=interval,
                push_delay=rng.uniform(push_low, push_high),
                # Spread first check-ins over one interval so they do not arrive in a wave.
                next_checkin=start + rng.uniform(0.0, interval) if enrolled else math.inf,
                last_checkin=start - rng.uniform(0.0, interval),
                offline_until=offline_until,
                screen_locked_until=locked_until,
            )
        )
    return devices


def _unique_serial(rng: random.Random, used: set[str]) -> str:
    while True:
        serial = "".join(rng.choices(_SERIAL_ALPHABET, k=10))
        if serial not in used:
            used.add(serial)
            return serial


def _udid(rng: random.Random) -> str:
    # Modern iPads report 25-character UDIDs: 8 hex digits, a dash, 16 hex digits.
    return f"{rng.getrandbits(32):08X}-{rng.getrandbits(64):016X}"
