"""The device check-in life cycle: PENDING until check-in, then ACKNOWLEDGED, NOT_NOW or ERROR."""

from __future__ import annotations

from mocks.clock import ManualClock
from mocks.commands import CommandState, RequestType
from mocks.fleet import CheckedIn, CommandCompleted, Fleet, FleetEvent

LOCK = {"message": "Curfew: iPads rest until 07:00", "phone": "01234 567890"}


def test_command_stays_pending_until_the_device_checks_in(fleet: Fleet, clock: ManualClock) -> None:
    device = fleet.devices[0]
    command = fleet.enqueue(device, RequestType.ENABLE_LOST_MODE, LOCK, source="test")
    assert command.state is CommandState.PENDING
    assert device.lost_mode is None  # queueing alone changes nothing on the device
    assert [c.uuid for c in fleet.pending_for(device)] == [command.uuid]
    clock.advance(device.push_delay + 0.01)
    fleet.tick()
    assert command.state is CommandState.ACKNOWLEDGED
    assert command.completed_at is not None
    assert device.lost_mode is not None
    assert device.lost_mode.message == LOCK["message"]
    assert fleet.pending_for(device) == []


def test_push_wakes_device_before_its_regular_check_in(fleet: Fleet) -> None:
    device = fleet.devices[1]
    regular = device.next_checkin
    fleet.enqueue(device, RequestType.DEVICE_INFORMATION, source="test")
    assert device.next_checkin == min(regular, fleet.now() + device.push_delay)


def test_offline_device_keeps_commands_pending_then_runs_them_in_order(
    fleet: Fleet, clock: ManualClock
) -> None:
    device = fleet.devices[2]
    fleet.set_offline(device)
    lock = fleet.enqueue(device, RequestType.ENABLE_LOST_MODE, LOCK, source="test")
    clock.advance(6 * 3600)
    fleet.tick()
    unlock = fleet.enqueue(device, RequestType.DISABLE_LOST_MODE, source="test")
    clock.advance(6 * 3600)
    fleet.tick()
    assert (lock.state, unlock.state) == (CommandState.PENDING, CommandState.PENDING)
    fleet.set_online(device)
    clock.advance(device.push_delay + 0.01)
    fleet.tick()
    assert (lock.state, unlock.state) == (CommandState.ACKNOWLEDGED, CommandState.ACKNOWLEDGED)
    assert lock.completed_at == unlock.completed_at  # back-to-back at the same check-in
    assert device.lost_mode is None
    assert [n.kind for n in device.notices or ()] == ["lost_mode_turned_off"]


def test_device_offline_for_hours_returns_by_itself(fleet: Fleet, clock: ManualClock) -> None:
    device = fleet.devices[3]
    fleet.set_offline(device, until=fleet.now() + 3 * 3600)
    command = fleet.enqueue(device, RequestType.DEVICE_LOCK, source="test")
    clock.advance(2 * 3600)
    fleet.tick()
    assert command.state is CommandState.PENDING
    clock.advance(3600)
    fleet.tick()
    assert command.state is CommandState.ACKNOWLEDGED


def test_lost_mode_refuses_other_commands_with_12078(fleet: Fleet, clock: ManualClock) -> None:
    device = fleet.devices[0]
    fleet.enqueue(device, RequestType.ENABLE_LOST_MODE, LOCK, source="test")
    restart = fleet.enqueue(device, RequestType.RESTART_DEVICE, source="test")
    lock = fleet.enqueue(device, RequestType.DEVICE_LOCK, source="test")
    fleet.check_in(device)
    assert restart.state is CommandState.ERROR
    assert restart.error is not None
    assert restart.error.code == 12078
    assert lock.state is CommandState.ACKNOWLEDGED
    assert lock.result == {"MessageResult": "DeviceInLostMode"}


def test_releasing_a_device_not_in_lost_mode_fails_with_12067(fleet: Fleet) -> None:
    device = fleet.devices[0]
    release = fleet.enqueue(device, RequestType.DISABLE_LOST_MODE, source="test")
    fleet.check_in(device)
    assert release.state is CommandState.ERROR
    assert release.error is not None
    assert release.error.code == 12067


def test_forced_release_failure_gives_12069_and_keeps_lost_mode(fleet: Fleet) -> None:
    device = fleet.devices[0]
    fleet.enqueue(device, RequestType.ENABLE_LOST_MODE, LOCK, source="test")
    fleet.check_in(device)
    device.fail_lost_mode_release = True
    release = fleet.enqueue(device, RequestType.DISABLE_LOST_MODE, source="test")
    fleet.check_in(device)
    assert release.error is not None
    assert release.error.code == 12069
    assert device.lost_mode is not None


def test_unsupervised_device_refuses_lost_mode(fleet: Fleet) -> None:
    device = fleet.devices[0]
    device.supervised = False
    command = fleet.enqueue(device, RequestType.ENABLE_LOST_MODE, LOCK, source="test")
    fleet.check_in(device)
    assert command.state is CommandState.ERROR
    assert device.lost_mode is None


def test_lost_mode_needs_a_message_or_phone(fleet: Fleet) -> None:
    device = fleet.devices[0]
    command = fleet.enqueue(device, RequestType.ENABLE_LOST_MODE, {"footnote": "x"}, source="t")
    fleet.check_in(device)
    assert command.state is CommandState.ERROR


def test_device_lock_reports_missing_passcode(fleet: Fleet) -> None:
    device = fleet.devices[0]
    device.has_passcode = False
    command = fleet.enqueue(device, RequestType.DEVICE_LOCK, source="test")
    fleet.check_in(device)
    assert command.result == {"MessageResult": "NoPasscodeSet"}
    assert not device.is_screen_locked(fleet.now())


def test_device_lock_locks_the_screen_of_a_passcode_device(fleet: Fleet) -> None:
    device = fleet.devices[0]
    command = fleet.enqueue(device, RequestType.DEVICE_LOCK, source="test")
    fleet.check_in(device)
    assert command.result == {"MessageResult": "Success"}
    assert device.is_screen_locked(fleet.now())


def test_flush_forgets_pending_and_failed_commands(fleet: Fleet) -> None:
    device = fleet.devices[0]
    failed = fleet.enqueue(device, RequestType.DISABLE_LOST_MODE, source="test")
    fleet.check_in(device)
    pending = fleet.enqueue(device, RequestType.DEVICE_LOCK, source="test")
    assert failed.state is CommandState.ERROR
    removed = fleet.flush(device, [CommandState.PENDING, CommandState.ERROR])
    assert removed == 2
    assert fleet.command(failed.uuid) is None
    assert fleet.command(pending.uuid) is None
    assert fleet.pending_for(device) == []


def test_not_now_can_stay_queued_when_switched_on(fleet: Fleet) -> None:
    fleet.requeue_not_now = True
    device = fleet.devices[0]
    fleet.set_screen_locked(device, fleet.now() + 600)
    command = fleet.enqueue(device, RequestType.SECURITY_INFO, source="test")
    fleet.check_in(device)
    assert command.state is CommandState.PENDING
    fleet.set_screen_locked(device, None)
    fleet.check_in(device)
    assert command.state is CommandState.ACKNOWLEDGED


def test_subscribers_hear_check_ins_and_completions(fleet: Fleet) -> None:
    events: list[FleetEvent] = []
    fleet.subscribe(events.append)
    device = fleet.devices[0]
    fleet.enqueue(device, RequestType.DEVICE_INFORMATION, source="test")
    fleet.check_in(device)
    assert [type(e) for e in events] == [CommandCompleted, CheckedIn]


def test_slow_check_ins_stretch_the_rhythm(fleet: Fleet, clock: ManualClock) -> None:
    device = fleet.devices[0]
    fleet.checkin_slowdown = 10.0
    fleet.check_in(device)
    assert device.next_checkin == fleet.now() + device.checkin_interval * 10.0
    command = fleet.enqueue(device, RequestType.DEVICE_INFORMATION, source="test")
    clock.advance(device.push_delay * 2)
    fleet.tick()
    assert command.state is CommandState.PENDING
    clock.advance(device.push_delay * 8 + 0.01)
    fleet.tick()
    assert command.state is CommandState.ACKNOWLEDGED
