"""Jamf School connector edges the mock cannot easily produce, through respx.

Malformed and surprising answers (each failure names the field), statuses Jamf School does not
document, timeouts on reads and on group moves, the wire format of requests, and credentials
that must never leak into messages, reprs or log lines.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from connectors.base import (
    AuthError,
    ConnectorError,
    FailureKind,
    Outcome,
    PermanentError,
    TemporaryError,
)
from connectors.jamf_school import JamfSchoolConnector, create_connector
from mdm_bridge.clock import FakeClock
from mdm_bridge.model import Action, ActionKind, DeviceRef, ProfileRef
from tests.connectors.harness import START, Sleeper
from tests.connectors.harness_jamf_school import BASE_URL, jamf_school_config

API_KEY = "S3CRET-API-KEY-0042"
CURFEW = "org.mdm-bridge.curfew"
GROUPS = {
    "code": 200,
    "deviceGroups": [{"id": 7, "name": "Bridge - curfew", "isSmartGroup": False}],
}


def _device(udid: str = "UDID-1", **changes: Any) -> dict[str, Any]:
    device: dict[str, Any] = {
        "UDID": udid,
        "serialNumber": f"SER-{udid}",
        "class": "ipad",
        "isSupervised": True,
        "inTrash": False,
        "groupIds": [7],
        "lastCheckin": "2026-07-01 20:15:00",
    }
    device.update(changes)
    return device


def _devices(*devices: dict[str, Any]) -> dict[str, Any]:
    return {"code": 200, "count": len(devices), "devices": list(devices)}


@pytest.fixture
async def connector() -> AsyncIterator[JamfSchoolConnector]:
    clock = FakeClock(START)
    async with httpx.AsyncClient() as client:
        config = jamf_school_config({CURFEW: 7}, api_key=API_KEY)
        yield create_connector(config, client=client, clock=clock, sleep=Sleeper(clock))


def _install(udid: str) -> Action:
    ref = DeviceRef(mdm_instance="jamf-school", vendor_id=udid, serial_number=f"SER-{udid}")
    profile = ProfileRef(identifier=CURFEW, content_hash="h")
    return Action(
        kind=ActionKind.INSTALL_PROFILE, device=ref, target_hash="t", reason="r", profile=profile
    )


async def _inventory(connector: JamfSchoolConnector) -> list[DeviceRef]:
    return [device async for device in connector.list_devices()]


@respx.mock(base_url=BASE_URL)
async def test_requests_carry_basic_credentials_and_the_protocol_version(
    respx_mock: respx.MockRouter, connector: JamfSchoolConnector
) -> None:
    route = respx_mock.get("/devices").mock(return_value=httpx.Response(200, json=_devices()))
    await _inventory(connector)
    headers = route.calls.last.request.headers
    expected = base64.b64encode(f"84410132:{API_KEY}".encode()).decode()
    assert headers["Authorization"] == f"Basic {expected}"
    assert headers["X-Server-Protocol-Version"] == "3"
    assert headers["Accept"] == "application/json"


@respx.mock(base_url=BASE_URL)
async def test_inventory_keeps_ipads_only_and_skips_the_trash(
    respx_mock: respx.MockRouter, connector: JamfSchoolConnector
) -> None:
    answer = _devices(_device("A"), _device("B", **{"class": "mac"}), _device("C", inTrash=True))
    respx_mock.get("/devices").mock(return_value=httpx.Response(200, json=answer))
    assert [d.udid for d in await _inventory(connector)] == ["A"]


@pytest.mark.parametrize(
    ("answer", "named"),
    [
        (_devices(_device(), {"serialNumber": "X"}), "devices[1].UDID is missing"),
        (_devices(_device(serialNumber=42)), "devices[0].serialNumber should be a string"),
        (_devices(_device(serialNumber=" ")), "devices[0].serialNumber is empty"),
        (_devices(_device(groupIds=[7, "x"])), "devices[0].groupIds[1] should be a group id"),
        (_devices(_device(lastCheckin="yesterday")), "devices[0].lastCheckin is not a date"),
        ({"code": 200, "devices": {"UDID": "A"}}, "devices should be a list"),
        ({"code": 200}, "devices is missing"),
    ],
)
@respx.mock(base_url=BASE_URL)
async def test_a_malformed_device_list_is_permanent_and_names_the_field(
    respx_mock: respx.MockRouter, connector: JamfSchoolConnector, answer: Any, named: str
) -> None:
    respx_mock.get("/devices").mock(return_value=httpx.Response(200, json=answer))
    with pytest.raises(PermanentError, match=named.replace("[", r"\[").replace("]", r"\]")):
        await _inventory(connector)


@respx.mock(base_url=BASE_URL)
async def test_an_answer_that_is_not_json_is_permanent(
    respx_mock: respx.MockRouter, connector: JamfSchoolConnector
) -> None:
    respx_mock.get("/devices").mock(return_value=httpx.Response(200, text="<html>Jamf</html>"))
    with pytest.raises(PermanentError, match="not JSON"):
        await _inventory(connector)


@respx.mock(base_url=BASE_URL)
async def test_both_check_in_shapes_become_the_same_utc_instant(
    respx_mock: respx.MockRouter, connector: JamfSchoolConnector
) -> None:
    # London is on BST in July: 20:15 local is 19:15 UTC
    single = _device(
        lastCheckin={"date": "2026-07-01 20:15:00.000000", "timezone_type": 3,
                     "timezone": "Europe/London"},
        model={"type": {"value": "iPad"}},
    )  # fmt: skip
    offset = _device("B", lastCheckin={"date": "2026-07-01 21:15:00", "timezone_type": 1,
                                       "timezone": "+02:00"})  # fmt: skip
    respx_mock.get("/devices/groups").mock(return_value=httpx.Response(200, json=GROUPS))
    respx_mock.get("/devices/UDID-1").mock(
        return_value=httpx.Response(200, json={"code": 200, "device": single})
    )
    respx_mock.get("/devices/B").mock(
        return_value=httpx.Response(200, json={"code": 200, "device": offset})
    )
    crowd = [_device(f"X{n}", groupIds=[]) for n in range(10)]
    listed = _devices(_device(), *crowd)
    respx_mock.get("/devices").mock(return_value=httpx.Response(200, json=listed))
    refs = [
        DeviceRef(mdm_instance="jamf-school", vendor_id=u, serial_number=u) for u in ("UDID-1", "B")
    ]
    many = [refs[0]] + [
        DeviceRef(mdm_instance="jamf-school", vendor_id=d["UDID"], serial_number="s") for d in crowd
    ]
    expected = datetime(2026, 7, 1, 19, 15, tzinfo=UTC)

    one_by_one = await connector.observe(refs)
    from_list = (await connector.observe(many))[0]  # more than ten devices: one list read

    assert [o.last_check_in for o in one_by_one] == [expected, expected]
    assert from_list.last_check_in == expected
    assert from_list.profiles == {CURFEW}


@respx.mock(base_url=BASE_URL)
async def test_a_device_jamf_school_no_longer_knows_is_left_out_of_observation(
    respx_mock: respx.MockRouter, connector: JamfSchoolConnector
) -> None:
    respx_mock.get("/devices/groups").mock(return_value=httpx.Response(200, json=GROUPS))
    respx_mock.get("/devices/GONE").mock(
        return_value=httpx.Response(404, json={"code": 404, "message": "DeviceNotFound"})
    )
    ref = DeviceRef(mdm_instance="jamf-school", vendor_id="GONE", serial_number="GONE")
    assert await connector.observe([ref]) == []


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (418, FailureKind.PERMANENT),
        (400, FailureKind.PERMANENT),
        (401, FailureKind.AUTH),
        (403, FailureKind.AUTH),
        (405, FailureKind.AUTH),
        (500, FailureKind.TEMPORARY),
        (503, FailureKind.TEMPORARY),
    ],
)
@respx.mock(base_url=BASE_URL)
async def test_every_status_of_a_group_move_maps_to_one_failure_kind(
    respx_mock: respx.MockRouter, connector: JamfSchoolConnector, status: int, kind: FailureKind
) -> None:
    respx_mock.get("/devices/groups").mock(return_value=httpx.Response(200, json=GROUPS))
    respx_mock.post("/devices/groups/add").mock(
        return_value=httpx.Response(status, json={"code": status, "message": "Nope"})
    )
    [result] = await connector.apply([_install("A")])
    assert result.outcome is Outcome.FAILED
    assert result.failure is kind
    assert (result.retry_after is not None) is (kind is FailureKind.TEMPORARY)


@respx.mock(base_url=BASE_URL)
async def test_a_move_whose_answer_was_lost_is_sent_again_and_accepted(
    respx_mock: respx.MockRouter, connector: JamfSchoolConnector
) -> None:
    respx_mock.get("/devices/groups").mock(return_value=httpx.Response(200, json=GROUPS))
    route = respx_mock.post("/devices/groups/add").mock(
        side_effect=[
            httpx.ReadTimeout("no answer"),
            httpx.Response(502),
            httpx.Response(200, json={"code": 200, "message": "DevicesAddedToGroup"}),
        ]
    )
    [result] = await connector.apply([_install("A")])
    assert result.outcome is Outcome.ACCEPTED
    assert route.call_count == 3
    bodies = [json.loads(call.request.content) for call in route.calls]
    assert bodies == [{"groupId": 7, "udids": ["A"]}] * 3


@respx.mock(base_url=BASE_URL)
async def test_reads_that_keep_timing_out_are_temporary(
    respx_mock: respx.MockRouter, connector: JamfSchoolConnector
) -> None:
    respx_mock.get("/devices").mock(side_effect=httpx.ConnectTimeout("unreachable"))
    with pytest.raises(TemporaryError) as raised:
        await _inventory(connector)
    assert raised.value.retry_after > 0


@respx.mock(base_url=BASE_URL)
async def test_a_404_on_the_device_list_means_wrong_address_or_version(
    respx_mock: respx.MockRouter, connector: JamfSchoolConnector
) -> None:
    respx_mock.get("/devices").mock(return_value=httpx.Response(404, text="Not Found"))
    with pytest.raises(AuthError, match="base_url"):
        await _inventory(connector)


@respx.mock(base_url=BASE_URL)
async def test_ambiguous_and_shared_groups_are_refused_by_verify(
    respx_mock: respx.MockRouter,
) -> None:
    groups = {
        "code": 200,
        "DeviceGroups": [
            {"id": 7, "name": "Ban", "isSmartGroup": False},
            {"id": 8, "name": "Ban", "isSmartGroup": False},
            {"id": 9, "name": "Curfew", "isSmartGroup": False},
        ],
    }
    respx_mock.get("/devices/groups").mock(return_value=httpx.Response(200, json=groups))
    mapping: dict[str, int | str] = {"p.ban": "Ban", "p.curfew": 9, "p.curfew-too": "Curfew"}
    clock = FakeClock(START)
    async with httpx.AsyncClient() as client:
        connector = create_connector(jamf_school_config(mapping), client=client, clock=clock)
        with pytest.raises(AuthError) as raised:
            await connector.verify()
    assert "matches several groups (ids 7, 8)" in raised.value.message
    assert "'p.curfew-too' -> group 'Curfew' is also mapped to 'p.curfew'" in raised.value.message


@respx.mock(base_url=BASE_URL)
async def test_credentials_never_reach_messages_reprs_or_logs(
    respx_mock: respx.MockRouter, connector: JamfSchoolConnector, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    respx_mock.get("/devices/groups").mock(
        side_effect=[httpx.Response(401, text="Unauthorized"), httpx.Response(200, json=GROUPS)]
    )
    respx_mock.get("/devices").mock(
        return_value=httpx.Response(405, json={"error": {"code": 405, "message": "not allowed"}})
    )
    respx_mock.post("/devices/groups/add").mock(side_effect=httpx.ReadTimeout("slow"))
    texts = [repr(connector)]
    for attempt in (connector.verify(), _inventory(connector)):
        with pytest.raises(ConnectorError) as raised:
            await attempt
        texts += [raised.value.message, str(raised.value), repr(raised.value)]
    texts += [r.detail for r in await connector.apply([_install("A")])]
    texts += [record.getMessage() for record in caplog.records]
    encoded = base64.b64encode(f"84410132:{API_KEY}".encode()).decode()
    leaked = [text for text in texts if API_KEY in text or encoded in text]
    assert leaked == []
    assert len(texts) > 5
