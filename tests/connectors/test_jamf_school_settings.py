"""Reading a Jamf School instance's configuration: every mistake is a named configuration error."""

from __future__ import annotations

import httpx
import pytest

from connectors.base import AuthError, ConnectorConfig
from connectors.jamf_school import create_connector
from connectors.jamf_school.settings import GroupChoice, JamfSchoolSettings, parse_profile_groups
from mdm_bridge.clock import FakeClock
from tests.connectors.harness import START
from tests.connectors.harness_jamf_school import BASE_URL, jamf_school_config


def test_group_ids_and_names_are_both_accepted() -> None:
    choices = parse_profile_groups("js", '{"a": 12, "b": "13", "c": "Bridge - curfew"}')
    assert choices == (
        GroupChoice(profile_identifier="a", group_id=12),
        GroupChoice(profile_identifier="b", group_id=13),
        GroupChoice(profile_identifier="c", group_name="Bridge - curfew"),
    )


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("not json", "must be a JSON object"),
        ("[]", "non-empty JSON object"),
        ("{}", "non-empty JSON object"),
        ('{" ": 3}', "empty profile identifier"),
        ('{"a": 0}', "profile_groups['a'] must be a group id or a group name"),
        ('{"a": true}', "profile_groups['a']"),
        ('{"a": ""}', "profile_groups['a']"),
        ('{"a": [1]}', "profile_groups['a']"),
    ],
)
def test_a_malformed_mapping_names_the_entry(text: str, named: str) -> None:
    with pytest.raises(AuthError, match=named.replace("[", r"\[").replace("]", r"\]")):
        parse_profile_groups("js", text)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"options": {"network_id": "", "profile_groups": '{"a": 1}'}}, "network_id"),
        ({"secrets": {}}, "api_key"),
        ({"options": {"network_id": "1"}}, "profile_groups"),
        ({"base_url": "https://user:pw@school.jamfcloud.com/api"}, "must not carry credentials"),
        ({"base_url": "school.jamfcloud.com/api"}, "base_url"),
    ],
)
def test_missing_or_unsafe_settings_fail_before_any_request(
    change: dict[str, object], named: str
) -> None:
    fields: dict[str, object] = {
        "name": "js",
        "base_url": BASE_URL,
        "options": {"network_id": "1", "profile_groups": '{"a": 1}'},
        "secrets": {"api_key": "k"},
    } | change
    with pytest.raises(AuthError, match=named) as raised:
        JamfSchoolSettings.read(ConnectorConfig(**fields))  # type: ignore[arg-type]
    assert "pw" not in raised.value.message


@pytest.mark.parametrize(
    ("option", "value"), [("time_zone", "Mars/Olympus"), ("protocol_version", "three")]
)
def test_a_bad_time_zone_or_protocol_version_is_a_configuration_error(
    option: str, value: str
) -> None:
    with pytest.raises(AuthError, match=option):
        JamfSchoolSettings.read(jamf_school_config({"a": 1}, options={option: value}))


async def test_the_api_key_stays_out_of_reprs() -> None:
    config = jamf_school_config({"a": 1}, api_key="TOP-SECRET-KEY")
    settings = JamfSchoolSettings.read(config)
    async with httpx.AsyncClient() as client:
        connector = create_connector(config, client=client, clock=FakeClock(START))
        assert "TOP-SECRET-KEY" not in repr(settings) + repr(config) + repr(connector)
        assert settings.time_zone.key == "Europe/London"
        assert settings.protocol_version == "3"
