"""The simulated fleet is generated deterministically and has the documented mix of devices."""

from __future__ import annotations

import pytest

from mocks.clock import ManualClock
from mocks.fleet import Fleet
from mocks.generate import FleetConfig
from tests.mocks.conftest import START


def identities(fleet: Fleet) -> list[tuple[str, str, str, str]]:
    return [(d.serial, d.udid, d.management_id, d.name) for d in fleet.devices]


def test_same_seed_gives_the_same_fleet() -> None:
    first = Fleet.build(FleetConfig(devices=300, seed=42), ManualClock(START))
    second = Fleet.build(FleetConfig(devices=300, seed=42), ManualClock(START))
    assert identities(first) == identities(second)
    assert [d.next_checkin for d in first.devices] == [d.next_checkin for d in second.devices]


def test_another_seed_gives_another_fleet() -> None:
    first = Fleet.build(FleetConfig(devices=50, seed=1), ManualClock(START))
    second = Fleet.build(FleetConfig(devices=50, seed=2), ManualClock(START))
    assert identities(first) != identities(second)


def test_identities_are_unique_and_shaped_like_real_ones() -> None:
    fleet = Fleet.build(FleetConfig(devices=2000, seed=3), ManualClock(START))
    everyone = fleet.devices + fleet.unenrolled
    assert len({d.serial for d in everyone}) == len(everyone)
    assert len({d.management_id for d in fleet.devices}) == 2000
    udid = fleet.devices[0].udid
    assert len(udid) == 25
    assert udid[8] == "-"
    assert [d.device_id for d in fleet.devices[:3]] == [1, 2, 3]
    assert all(d.year_group.startswith("Year ") and d.pupil_ref for d in fleet.devices)


def test_mix_has_a_few_unsupervised_offline_and_locked_devices() -> None:
    clock = ManualClock(START)
    fleet = Fleet.build(FleetConfig(devices=2000, seed=3), clock)
    now = fleet.now()
    unsupervised = sum(not d.supervised for d in fleet.devices)
    offline = sum(not d.is_online(now) for d in fleet.devices)
    locked = sum(d.is_screen_locked(now) for d in fleet.devices)
    assert 20 <= unsupervised <= 110
    assert 15 <= offline <= 70
    assert 120 <= locked <= 300
    assert len(fleet.unenrolled) == 40
    assert all(not d.enrolled for d in fleet.unenrolled)


def test_lookups_find_enrolled_devices_only() -> None:
    fleet = Fleet.build(FleetConfig(devices=20, seed=5, unenrolled_devices=3), ManualClock(START))
    device = fleet.devices[4]
    assert fleet.device_by_id(5) is device
    assert fleet.device_by_udid(device.udid) is device
    assert fleet.device_by_management_id(device.management_id) is device
    assert fleet.device_by_serial(device.serial) is device
    stranger = fleet.unenrolled[0]
    assert fleet.device_by_serial(stranger.serial) is None
    assert fleet.device_by_serial(stranger.serial, include_unenrolled=True) is stranger
    assert fleet.device_by_udid(stranger.udid) is None
    assert fleet.device_by_id(0) is None
    assert fleet.device_by_id(21) is None


@pytest.mark.parametrize(
    "bad",
    [
        {"devices": -1},
        {"offline_share": 1.5},
        {"locked_share": -0.1},
        {"checkin_interval_seconds": (600.0, 300.0)},
        {"push_delay_seconds": (0.0, 1.0)},
    ],
)
def test_nonsense_fleet_shapes_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"negative|fractions|ranges"):
        FleetConfig(**bad)  # type: ignore[arg-type]
