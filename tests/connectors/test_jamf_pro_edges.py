"""What the mock cannot easily produce, played with respx: malformed vendor answers, odd status
codes, timeouts, and a 409 from a parallel writer on a group."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import respx

from connectors.base import (
    AuthError,
    ConnectorConfig,
    FailureKind,
    Outcome,
    PermanentError,
)
from connectors.jamf_pro import JamfProConnector, create_connector
from mdm_bridge.clock import FakeClock
from mdm_bridge.model import Action, ActionKind, DeviceRef, LockCause, LockIntent
from tests.connectors.harness import START, Sleeper
from tests.connectors.harness_jamf_pro import CLIENT_SECRETS, CURFEW, JAMF_URL

DETAIL = f"{JAMF_URL}/api/v2/mobile-devices/detail"
COMMANDS = f"{JAMF_URL}/api/v2/mdm/commands"
GROUPS = f"{JAMF_URL}/JSSResource/mobiledevicegroups"
PROFILES = f"{JAMF_URL}/JSSResource/mobiledeviceconfigurationprofiles"
IPAD = DeviceRef(
    mdm_instance="jamf-pro",
    vendor_id="7",
    serial_number="DMPXK1ABCD",
    management_id="6d2c9f0e-0000-4000-8000-000000000007",
)
LOCK = Action(
    kind=ActionKind.LOCK,
    device=IPAD,
    target_hash="t",
    reason="curfew",
    lock=LockIntent(cause=LockCause.CURFEW, message="Rest from 20:00"),
)


def _item(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "mobileDeviceId": "7",
        "deviceType": "iOS",
        "general": {"udid": "UDID-7", "managementId": IPAD.management_id, "supervised": True},
        "hardware": {"serialNumber": IPAD.serial_number},
    }
    return item | changes


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def jamf(router: respx.MockRouter) -> AsyncIterator[JamfProConnector]:
    router.post(f"{JAMF_URL}/api/v1/oauth/token").respond(
        200,
        json={"access_token": "tok", "token_type": "Bearer", "scope": "", "expires_in": 600},
    )
    config = ConnectorConfig(
        name="jamf-pro",
        base_url=JAMF_URL,
        options={"client_id": "mdm-bridge"},
        secrets=CLIENT_SECRETS,
    )
    clock = FakeClock(START)
    async with httpx.AsyncClient() as client:
        yield create_connector(config, client=client, clock=clock, sleep=Sleeper(clock))


async def _listed(connector: JamfProConnector) -> list[DeviceRef]:
    return [device async for device in connector.list_devices()]


async def test_a_mistyped_inventory_field_is_permanent_and_named(
    router: respx.MockRouter, jamf: JamfProConnector
) -> None:
    bad = _item(hardware={"serialNumber": 12345})
    router.get(DETAIL).respond(200, json={"totalCount": 1, "results": [bad]})
    with pytest.raises(PermanentError, match=r"page 0 results\[0\]: .*hardware.serialNumber"):
        await _listed(jamf)


async def test_an_inventory_page_without_results_is_named(
    router: respx.MockRouter, jamf: JamfProConnector
) -> None:
    router.get(DETAIL).respond(200, json={"totalCount": 3})
    with pytest.raises(PermanentError, match="field results is missing"):
        await _listed(jamf)


async def test_an_answer_that_is_not_json_is_permanent(
    router: respx.MockRouter, jamf: JamfProConnector
) -> None:
    router.get(DETAIL).respond(200, text="<html>maintenance</html>")
    with pytest.raises(PermanentError, match="not JSON"):
        await _listed(jamf)


async def test_unreadable_records_and_other_device_types_are_left_out(
    router: respx.MockRouter,
    jamf: JamfProConnector,
) -> None:
    unreadable = _item(mobileDeviceId="8", general=None, hardware=None)
    television = _item(mobileDeviceId="9", deviceType="tvOS")
    page = {"totalCount": 3, "results": [_item(), unreadable, television]}
    router.get(DETAIL).respond(200, json=page)
    assert await _listed(jamf) == [
        DeviceRef(
            mdm_instance="jamf-pro",
            vendor_id="7",
            serial_number=IPAD.serial_number,
            udid="UDID-7",
            management_id=IPAD.management_id,
        )
    ]


@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, PermanentError), (404, PermanentError), (418, PermanentError), (403, AuthError)],
)
async def test_unexpected_statuses_map_to_our_kinds(
    router: respx.MockRouter, jamf: JamfProConnector, status: int, kind: type[Exception]
) -> None:
    router.get(DETAIL).respond(status, json={"httpStatus": status, "errors": []})
    with pytest.raises(kind, match=f"HTTP {status}"):
        await _listed(jamf)


async def test_a_read_timeout_is_retried(router: respx.MockRouter, jamf: JamfProConnector) -> None:
    page = {"totalCount": 1, "results": [_item()]}
    router.get(DETAIL).mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=page)])
    assert len(await _listed(jamf)) == 1


async def test_a_timed_out_command_post_is_not_repeated_but_reported_temporary(
    router: respx.MockRouter,
    jamf: JamfProConnector,
) -> None:
    route = router.post(COMMANDS).mock(side_effect=httpx.ReadTimeout("slow"))
    [result] = await jamf.apply([LOCK])
    assert route.call_count == 1, "a write that may have landed was sent again"
    assert result.outcome is Outcome.FAILED
    assert result.failure is FailureKind.TEMPORARY
    assert "re-read" in result.detail
    assert result.retry_after is not None


async def test_a_lock_is_accepted_when_queued_and_pending_until_acknowledged(
    router: respx.MockRouter,
    jamf: JamfProConnector,
) -> None:
    router.post(COMMANDS).respond(201, json=[{"id": "c-1", "href": f"{COMMANDS}?filter=uuid==c-1"}])
    [result] = await jamf.apply([LOCK])
    assert result.outcome is Outcome.ACCEPTED
    assert result.vendor_reference == "c-1"
    record = {
        "uuid": "c-1",
        "dateSent": "2026-11-23T19:00:00.000Z",
        "client": {"managementId": IPAD.management_id, "clientType": "MOBILE_DEVICE"},
        "commandState": "PENDING",
        "commandType": "ENABLE_LOST_MODE",
        "commandError": None,
    }
    status = router.get(COMMANDS).respond(200, json={"totalCount": 1, "results": [record]})
    [reread] = await jamf.read_outcomes([result])
    assert reread.outcome is Outcome.PENDING
    assert "uuid=in=" in str(status.calls.last.request.url.params["filter"])
    refused = record | {"commandState": "ERROR", "commandError": {"errorCode": 12021}}
    status.respond(200, json={"totalCount": 1, "results": [refused]})
    [reread] = await jamf.read_outcomes([result])
    assert reread.outcome is Outcome.FAILED
    assert "12021" in reread.detail
    wrong_device = record | {"client": {"managementId": "someone-else"}}
    status.respond(200, json={"totalCount": 1, "results": [wrong_device]})
    assert await jamf.read_outcomes([result]) == [result], "a mismatched record was trusted"


async def test_a_malformed_command_record_is_named(
    router: respx.MockRouter, jamf: JamfProConnector
) -> None:
    router.post(COMMANDS).respond(201, json=[{"id": "c-1"}])
    [result] = await jamf.apply([LOCK])
    record = {"uuid": "c-1", "commandState": "PENDING", "dateSent": "yesterday"}
    router.get(COMMANDS).respond(200, json={"totalCount": 1, "results": [record]})
    with pytest.raises(PermanentError, match=r"page 0: .*results\[0\]"):
        await jamf.read_outcomes([result])


def _install() -> Action:
    return Action(
        kind=ActionKind.INSTALL_PROFILE,
        device=IPAD,
        target_hash="t",
        reason="curfew",
        profile=CURFEW.ref,
        document=CURFEW,
    )


async def test_malformed_xml_from_a_create_is_permanent_and_named(
    router: respx.MockRouter, jamf: JamfProConnector
) -> None:
    router.get(GROUPS).respond(200, json={"mobile_device_groups": []})
    router.post(f"{GROUPS}/id/0").respond(201, text="<mobile_device_group><id>x</id>")
    [result] = await jamf.apply([_install()])
    assert result.failure is FailureKind.PERMANENT
    assert "readable XML" in result.detail
    router.post(f"{GROUPS}/id/0").respond(
        201, text="<mobile_device_group><id>x</id></mobile_device_group>"
    )
    [result] = await jamf.apply([_install()])
    assert result.failure is FailureKind.PERMANENT
    assert "mobile_device_group.id" in result.detail


async def test_a_conflicting_group_edit_is_re_read_and_sent_again(
    router: respx.MockRouter, jamf: JamfProConnector
) -> None:
    group = {"mobile_device_groups": [{"id": 30, "name": "mdm-bridge: org.mdm-bridge.curfew"}]}
    router.get(GROUPS).respond(200, json=group)
    router.get(PROFILES).respond(200, json={"configuration_profiles": []})
    router.post(f"{PROFILES}/id/0").respond(
        201, text="<configuration_profile><id>5</id></configuration_profile>"
    )
    members = router.get(f"{GROUPS}/id/30").mock(
        side_effect=[
            httpx.Response(200, json={"mobile_device_group": {"mobile_devices": []}}),
            httpx.Response(200, json={"mobile_device_group": {"mobile_devices": [{"id": 9}]}}),
        ]
    )
    edit = router.put(f"{GROUPS}/id/30").mock(
        side_effect=[httpx.Response(409, text="<p>Conflict</p>"), httpx.Response(201)]
    )
    [result] = await jamf.apply([_install()])
    assert result.outcome is Outcome.ACCEPTED, result.detail
    assert members.call_count == 2, "the group was not re-read after the conflict"
    assert edit.call_count == 2
    body = edit.calls.last.request.content.decode()
    assert "<mobile_device_additions><mobile_device><id>7</id>" in body
    assert "<mobile_devices>" not in body, "a membership edit must never replace the group"


async def test_a_group_that_keeps_conflicting_gives_a_temporary_failure(
    router: respx.MockRouter,
    jamf: JamfProConnector,
) -> None:
    group = {"mobile_device_groups": [{"id": 30, "name": "mdm-bridge: org.mdm-bridge.curfew"}]}
    router.get(GROUPS).respond(200, json=group)
    router.get(f"{GROUPS}/id/30").respond(
        200, json={"mobile_device_group": {"mobile_devices": [{"id": 7}]}}
    )
    router.put(f"{GROUPS}/id/30").respond(409)
    remove = Action(
        kind=ActionKind.REMOVE_PROFILE,
        device=IPAD,
        target_hash="t",
        reason="curfew over",
        profile=CURFEW.ref,
    )
    [result] = await jamf.apply([remove])
    assert result.outcome is Outcome.FAILED
    assert result.failure is FailureKind.TEMPORARY
    assert isinstance(result.retry_after, float)
