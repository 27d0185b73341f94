"""Everything `desired_state` needs, read from the store in a few queries and grouped by pupil
and device, so deciding for 100,000 iPads never scans every ban for every iPad.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from mdm_bridge.model import DeviceRef, LockState, ObservedDevice, PendingCommand
from mdm_bridge.store.bans import ban_from_row
from mdm_bridge.store.engine_tables import ObservationRow
from mdm_bridge.store.records import BanRow, DeviceHoldRow, ExemptionRow, HomeUseAgreementRow
from mdm_bridge.store.tables import Device, MdmInstance, Pupil, PupilGroup, SchoolGroup
from policies import (
    Ban,
    DeviceFacts,
    DeviceHold,
    Exemption,
    ExemptionKind,
    HoldKind,
    HomeUseAgreement,
    PupilFacts,
)

DEVICES = Device.__table__  # type: ignore[attr-defined]
INSTANCES = MdmInstance.__table__  # type: ignore[attr-defined]
PUPILS = Pupil.__table__  # type: ignore[attr-defined]
MEMBERS = PupilGroup.__table__  # type: ignore[attr-defined]
GROUPS = SchoolGroup.__table__  # type: ignore[attr-defined]
BANS = BanRow.__table__  # type: ignore[attr-defined]
EXEMPTIONS = ExemptionRow.__table__  # type: ignore[attr-defined]
AGREEMENTS = HomeUseAgreementRow.__table__  # type: ignore[attr-defined]
HOLDS = DeviceHoldRow.__table__  # type: ignore[attr-defined]
OBSERVATIONS = ObservationRow.__table__  # type: ignore[attr-defined]
ROWS = 2000  # rows fetched at a time from the big tables (one fetch per row is slow)
DEVICE_COLUMNS = (
    "id",
    "mdm_instance_id",
    "vendor_id",
    "serial_number",
    "udid",
    "management_id",
    "supervised",
    "takes_home",
    "pupil_id",
)


@dataclass(frozen=True, kw_only=True, slots=True)
class DeviceRecord:
    device_id: int
    instance_id: int
    facts: DeviceFacts
    pupil_id: int | None


@dataclass(frozen=True, kw_only=True, slots=True)
class ExemptionIndex:
    """Exemptions by whom they can concern: curfew ones by pupil, web allow-lists by group."""

    size: int
    curfew: Mapping[str, tuple[Exemption, ...]]
    web: Mapping[str, tuple[Exemption, ...]]

    @classmethod
    def of(cls, exemptions: Sequence[Exemption]) -> ExemptionIndex:
        curfew: dict[str, list[Exemption]] = defaultdict(list)
        web: dict[str, list[Exemption]] = defaultdict(list)
        for exemption in exemptions:
            if exemption.kind is ExemptionKind.CURFEW and exemption.pupil_reference:
                curfew[exemption.pupil_reference].append(exemption)
            elif exemption.kind is ExemptionKind.WEB_ALLOW and exemption.group:
                web[exemption.group].append(exemption)
        return cls(
            size=len(exemptions),
            curfew={key: tuple(found) for key, found in curfew.items()},
            web={key: tuple(found) for key, found in web.items()},
        )

    def concerning(self, pupil: PupilFacts | None) -> tuple[Exemption, ...]:
        """Every exemption `desired_state` could apply to `pupil` (it still checks each one)."""
        if pupil is None:
            return ()
        found = self.curfew.get(pupil.reference, ())
        for group in pupil.groups:
            more = self.web.get(group)
            if more:
                found = (*found, *more)
        return found


@dataclass(kw_only=True)
class Facts:
    devices: list[DeviceRecord] = field(default_factory=list)
    pupils: dict[int, PupilFacts] = field(default_factory=dict)
    bans: dict[str, list[Ban]] = field(default_factory=lambda: defaultdict(list))
    agreements: dict[str, list[HomeUseAgreement]] = field(default_factory=lambda: defaultdict(list))
    holds: dict[str, list[DeviceHold]] = field(default_factory=lambda: defaultdict(list))
    exemptions: list[Exemption] = field(default_factory=list)
    observations: dict[int, ObservedDevice] = field(default_factory=dict)
    _index: ExemptionIndex | None = field(default=None, init=False, repr=False, compare=False)

    def exemptions_for(self, pupil: PupilFacts | None) -> tuple[Exemption, ...]:
        """The exemptions that can concern `pupil`, so deciding for each of 100,000 iPads does
        not scan every exemption of the school (indexed on first use, again if more are added)."""
        if self._index is None or self._index.size != len(self.exemptions):
            self._index = ExemptionIndex.of(self.exemptions)
        return self._index.concerning(pupil)


def device_ref(row: object, instance_name: str) -> DeviceRef:
    return DeviceRef(
        mdm_instance=instance_name,
        vendor_id=row.vendor_id,  # type: ignore[attr-defined]
        serial_number=row.serial_number,  # type: ignore[attr-defined]
        udid=row.udid,  # type: ignore[attr-defined]
        management_id=row.management_id,  # type: ignore[attr-defined]
    )


def load_facts(connection: Connection, *, device_ids: Sequence[int] | None = None) -> Facts:
    """The facts for every enabled instance's devices (or only `device_ids`, with only their
    pupils' records: a run for one banned pupil's iPad reads that pupil, not the school)."""
    facts = Facts()
    query = (
        select(
            # Only what deciding reads: every other column (three instants among them) would
            # be converted for each of 100,000 rows and dropped.
            *(DEVICES.c[name] for name in DEVICE_COLUMNS),
            INSTANCES.c.name.label("instance_name"),
        )
        .join(INSTANCES, INSTANCES.c.id == DEVICES.c.mdm_instance_id)
        .where(INSTANCES.c.enabled.is_(True))
        .order_by(DEVICES.c.id)
    )
    if device_ids is not None:
        query = query.where(DEVICES.c.id.in_(list(device_ids)))
    query = query.execution_options(yield_per=ROWS)
    keys: dict[int, str] = {}
    refs: dict[int, DeviceRef] = {}
    for row in connection.execute(query):
        ref = device_ref(row, row.instance_name)
        keys[row.id] = ref.key
        refs[row.id] = ref
        facts.devices.append(
            DeviceRecord(
                device_id=row.id,
                instance_id=row.mdm_instance_id,
                facts=DeviceFacts(ref=ref, supervised=row.supervised, takes_home=row.takes_home),
                pupil_id=row.pupil_id,
            )
        )
    only: list[int] | None = None  # the pupils whose records are read; None: all
    if device_ids is not None:
        only = sorted({d.pupil_id for d in facts.devices if d.pupil_id is not None})

    def of_pupils(statement: Any, column: Any) -> Any:
        return statement if only is None else statement.where(column.in_(only))

    groups_of: dict[int, set[str]] = defaultdict(set)
    joined = select(MEMBERS.c.pupil_id, GROUPS.c.name).join(
        GROUPS, GROUPS.c.id == MEMBERS.c.group_id
    )
    joined = of_pupils(joined, MEMBERS.c.pupil_id)
    for pupil_id, name in connection.execute(joined.execution_options(yield_per=ROWS)):
        groups_of[pupil_id].add(name)
    references: dict[int, str] = {}
    pupils = of_pupils(select(PUPILS.c.id, PUPILS.c.reference, PUPILS.c.year_group), PUPILS.c.id)
    for row in connection.execute(pupils.execution_options(yield_per=ROWS)):
        references[row.id] = row.reference
        facts.pupils[row.id] = PupilFacts(
            reference=row.reference,
            year_group=row.year_group,
            groups=frozenset(groups_of.get(row.id, ())),
        )

    for row in connection.execute(of_pupils(select(BANS), BANS.c.pupil_id)):
        reference = references[row.pupil_id]
        facts.bans[reference].append(ban_from_row(row, reference))
    agreements = select(
        AGREEMENTS.c.pupil_id,
        AGREEMENTS.c.academic_year,
        AGREEMENTS.c.parent_meeting_on,
        AGREEMENTS.c.declaration_signed_on,
    )
    agreements = of_pupils(agreements, AGREEMENTS.c.pupil_id)
    for row in connection.execute(agreements.execution_options(yield_per=ROWS)):
        reference = references[row.pupil_id]
        facts.agreements[reference].append(
            HomeUseAgreement(
                pupil_reference=reference,
                academic_year=row.academic_year,
                parent_meeting_on=row.parent_meeting_on,
                declaration_signed_on=row.declaration_signed_on,
            )
        )
    for row in connection.execute(select(HOLDS).where(HOLDS.c.released_at.is_(None))):
        key = keys.get(row.device_id)
        if key is None:
            continue
        facts.holds[key].append(
            DeviceHold(
                id=str(row.id),
                device_key=key,
                kind=HoldKind(row.kind),
                reason=row.reason,
                placed_by=row.placed_by,
                placed_at=row.placed_at,
            )
        )
    for row in connection.execute(select(EXEMPTIONS)):
        if row.pupil_id is not None and row.pupil_id not in references:
            continue  # another pupil's (only when reading some devices' facts)
        facts.exemptions.append(
            Exemption(
                id=str(row.id),
                kind=ExemptionKind(row.kind),
                reason=row.reason,
                requested_by=row.requested_by,
                starts_at=row.starts_at,
                ends_at=row.ends_at,
                approved_by=row.approved_by,
                group=row.group_name,
                pupil_reference=references.get(row.pupil_id) if row.pupil_id else None,
                domains=tuple(row.domains),
            )
        )
    facts.observations = load_observations(connection, refs)
    return facts


def load_observations(
    connection: Connection, refs: Mapping[int, DeviceRef]
) -> dict[int, ObservedDevice]:
    """The stored observation of each device in `refs` (device id -> its DeviceRef, as
    `load_facts` just read them: the devices table is not read a second time)."""
    found: dict[int, ObservedDevice] = {}
    # Most iPads hold the same few profile sets: share one frozenset per distinct set.
    sets: dict[tuple[str, ...], frozenset[str]] = {}

    def shared(identifiers: list[str]) -> frozenset[str]:
        key = tuple(identifiers)
        known = sets.get(key)
        if known is None:
            known = sets[key] = frozenset(key)
        return known

    for row in connection.execute(select(OBSERVATIONS).execution_options(yield_per=ROWS)):
        ref = refs.get(row.device_id)
        if ref is None:
            continue
        found[row.device_id] = ObservedDevice(
            ref=ref,
            observed_at=row.observed_at,
            supervised=row.supervised,
            lock=LockState(row.lock),
            profiles=shared(row.profiles),
            groups=shared(row.groups),
            last_check_in=row.last_check_in,
            pending_commands=tuple(
                PendingCommand(
                    command_id=item["id"],
                    kind=item["kind"],
                    queued_at=datetime.fromisoformat(item["queued_at"]),
                )
                for item in row.pending
            ),
        )
    return found


def observation_values(device_id: int, observed: ObservedDevice) -> dict[str, object]:
    """The row to store for one observation."""
    return {
        "device_id": device_id,
        "observed_at": observed.observed_at,
        "supervised": observed.supervised,
        "lock": observed.lock.value,
        "profiles": sorted(observed.profiles),
        "groups": sorted(observed.groups),
        "pending": [
            {"id": c.command_id, "kind": c.kind, "queued_at": c.queued_at.isoformat()}
            for c in observed.pending_commands
        ],
        "last_check_in": observed.last_check_in,
    }
