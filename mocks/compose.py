"""Composition of the mock MDM: which vendor apps to build over which fleets.

``build_mock_apps(MockPlan(...), clock)`` is what ``mdm-bridge mock`` and the benchmarks call.
A school runs Jamf Pro or Jamf School, so each MDM front gets its own fleet (same devices for
the same seed); Apple School Manager shares the MDM's fleet, so it lists the same serials plus a
few that never enrolled. Each fleet is ticked by exactly one app's lifespan.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import FastAPI

from mocks.asm.app import create_app as create_asm_app
from mocks.clock import Clock
from mocks.common.faults import FaultSettings
from mocks.fleet import Fleet
from mocks.generate import FleetConfig
from mocks.jamf_pro.app import build_jamf_pro_app
from mocks.jamf_pro.state import JamfProSettings
from mocks.jamf_school.app import create_app as create_jamf_school_app
from mocks.ticker import FleetTicker, attach_ticker

JAMF_PRO = "jamf-pro"
JAMF_SCHOOL = "jamf-school"
ASM = "asm"
VENDORS = (JAMF_PRO, JAMF_SCHOOL, ASM)


@dataclass(frozen=True, kw_only=True)
class MockPlan:
    fleet: FleetConfig = field(default_factory=FleetConfig)
    vendors: tuple[str, ...] = VENDORS
    faults: FaultSettings = field(default_factory=FaultSettings)
    jamf_pro: JamfProSettings = field(default_factory=JamfProSettings)
    checkin_slowdown: float = 1.0
    tick_seconds: float = 1.0

    def __post_init__(self) -> None:
        unknown = [vendor for vendor in self.vendors if vendor not in VENDORS]
        if unknown or not self.vendors:
            raise ValueError(f"unknown vendor(s) {unknown}; choose from {', '.join(VENDORS)}")


@dataclass(kw_only=True)
class BuiltMock:
    apps: dict[str, FastAPI]
    fleets: dict[str, Fleet]  # the fleet behind each vendor (ASM shares its MDM's)


def build_mock_apps(plan: MockPlan, clock: Clock) -> BuiltMock:
    apps: dict[str, FastAPI] = {}
    fleets: dict[str, Fleet] = {}

    def new_fleet() -> Fleet:
        fleet = Fleet.build(plan.fleet, clock)
        fleet.checkin_slowdown = plan.checkin_slowdown
        return fleet

    def owned(app: FastAPI, fleet: Fleet) -> FastAPI:
        attach_ticker(app, FleetTicker(fleet, interval_seconds=plan.tick_seconds))
        return app

    if JAMF_PRO in plan.vendors:
        fleets[JAMF_PRO] = new_fleet()
        apps[JAMF_PRO] = owned(
            build_jamf_pro_app(fleets[JAMF_PRO], settings=plan.jamf_pro, faults=plan.faults),
            fleets[JAMF_PRO],
        )
    if JAMF_SCHOOL in plan.vendors:
        fleets[JAMF_SCHOOL] = new_fleet()
        apps[JAMF_SCHOOL] = owned(
            create_jamf_school_app(fleets[JAMF_SCHOOL], faults=plan.faults), fleets[JAMF_SCHOOL]
        )
    if ASM in plan.vendors:
        shared = fleets.get(JAMF_PRO) or fleets.get(JAMF_SCHOOL)
        fleets[ASM] = shared or new_fleet()
        asm_app = create_asm_app(fleets[ASM], faults=plan.faults)
        apps[ASM] = asm_app if shared is not None else owned(asm_app, fleets[ASM])
    return BuiltMock(apps=apps, fleets=fleets)


def vendor_ports(vendors: tuple[str, ...], port: int) -> dict[str, int]:
    """One vendor serves on ``port``; several take fixed offsets from it (+0, +1, +2)."""
    if len(vendors) == 1:
        return {vendors[0]: port}
    return {vendor: port + VENDORS.index(vendor) for vendor in vendors}
