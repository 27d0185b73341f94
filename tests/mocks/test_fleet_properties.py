"""Properties of the check-in life cycle under random sequences of operations (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mocks.clock import ManualClock
from mocks.commands import CommandState, RequestType
from mocks.fleet import Fleet
from tests.mocks.conftest import START, calm_config

LOCK = (RequestType.ENABLE_LOST_MODE, {"message": "Curfew"})
UNLOCK = (RequestType.DISABLE_LOST_MODE, None)
DEVICES = 4

operation = st.one_of(
    st.tuples(st.just("lock"), st.integers(0, DEVICES - 1)),
    st.tuples(st.just("unlock"), st.integers(0, DEVICES - 1)),
    st.tuples(st.just("offline"), st.integers(0, DEVICES - 1)),
    st.tuples(st.just("online"), st.integers(0, DEVICES - 1)),
    st.tuples(st.just("screen-lock"), st.integers(0, DEVICES - 1)),
    st.tuples(st.just("wait"), st.integers(1, 4000)),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(operation, max_size=40))
def test_commands_settle_once_in_queue_order_and_lost_mode_follows_the_last_ack(
    operations: list[tuple[str, int]],
) -> None:
    clock = ManualClock(START)
    fleet = Fleet.build(calm_config(devices=DEVICES), clock)
    for name, value in operations:
        if name == "wait":
            clock.advance(value)
            fleet.tick()
            continue
        device = fleet.devices[value]
        if name in ("lock", "unlock"):
            kind, params = LOCK if name == "lock" else UNLOCK
            fleet.enqueue(device, kind, params, source="property")
        elif name == "offline":
            fleet.set_offline(device)
        elif name == "online":
            fleet.set_online(device)
        else:
            fleet.set_screen_locked(device, fleet.now() + 900)
    for device in fleet.devices:  # everyone comes back and the night ends
        fleet.set_online(device)
    clock.advance(4 * 3600)
    fleet.tick()
    for device in fleet.devices:
        history = fleet.commands_for(device)
        assert fleet.pending_for(device) == []
        assert all(c.state is not CommandState.PENDING for c in history)
        done = [c.completed_at for c in history]
        assert all(at is not None for at in done)
        assert done == sorted(done)  # answered in the order they were queued
        expected_lost = False
        for command in history:
            if command.state is CommandState.ACKNOWLEDGED:
                expected_lost = command.request_type is RequestType.ENABLE_LOST_MODE
            elif command.request_type is RequestType.DISABLE_LOST_MODE:
                assert command.error is not None
                assert command.error.code == 12067
                assert not expected_lost
        assert (device.lost_mode is not None) is expected_lost
