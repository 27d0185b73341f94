"""Our payload-key table, every profile the default policy can produce, and the Lost Mode
commands, checked against Apple's published device-management schema.

The schema files live outside the project (../shared/apple-schema, or the folder named by
MDM_BRIDGE_APPLE_SCHEMA_DIR); where that folder is absent the tests say so and skip.
"""

from __future__ import annotations

import os
import plistlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.jamf_pro.profiles import mobileconfig
from mdm_bridge.model import LockCause, LockIntent, ProfileDocument
from policies import lock_profile
from policies.payload_keys import (
    APP_LOCK,
    APPLICATION_ACCESS,
    COMMON,
    DISABLE_LOST_MODE,
    ENABLE_LOST_MODE,
    PAYLOAD_KEYS,
    SUPERVISED_PAYLOADS,
    TOP_LEVEL,
    WEB_CONTENT_FILTER,
    PayloadKey,
)
from tests.policies.helpers import MONDAY, default_policy

SCHEMA_FILES = {
    TOP_LEVEL: "TopLevel.yaml",
    COMMON: "CommonPayloadKeys.yaml",
    APPLICATION_ACCESS: "com.apple.applicationaccess.yaml",
    WEB_CONTENT_FILTER: "com.apple.webcontent-filter.yaml",
    APP_LOCK: "com.apple.app.lock.yaml",
    ENABLE_LOST_MODE: "device.lostmode.enable.yaml",
    DISABLE_LOST_MODE: "device.lostmode.disable.yaml",
}


def schema_dir() -> Path:
    override = os.environ.get("MDM_BRIDGE_APPLE_SCHEMA_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2].parent / "shared" / "apple-schema"


@dataclass(frozen=True)
class AppleKey:
    key: str
    type: str  # "boolean", "array", ...
    supervised: bool
    on_ios: bool
    deprecated_on_ios: bool
    subkeys: tuple[AppleKey, ...]


@dataclass(frozen=True)
class ApplePayload:
    supervised: bool
    keys: Mapping[str, AppleKey]


def _ios(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    return (entry.get("supportedOS") or {}).get("iOS") or {}


def _key(entry: Mapping[str, Any], supervised_payload: bool) -> AppleKey:
    ios = _ios(entry)
    return AppleKey(
        key=entry["key"],
        type=entry["type"].strip("<>"),
        supervised=bool(ios.get("supervised", False)) or supervised_payload,
        on_ios=ios.get("introduced") != "n/a",
        deprecated_on_ios="deprecated" in ios,
        subkeys=tuple(_key(sub, supervised_payload) for sub in entry.get("subkeys") or ()),
    )


def _payload(document: Mapping[str, Any]) -> ApplePayload:
    supervised = bool(_ios(document["payload"]).get("supervised", False))
    keys = {entry["key"]: _key(entry, supervised) for entry in document.get("payloadkeys") or ()}
    return ApplePayload(supervised=supervised, keys=keys)


@pytest.fixture(scope="module")
def apple() -> Mapping[str, ApplePayload]:
    folder = schema_dir()
    if not folder.is_dir():
        pytest.skip(
            f"Apple schema folder {folder} is missing; set MDM_BRIDGE_APPLE_SCHEMA_DIR to a copy"
            " of apple/device-management's profile and command YAML files"
        )
    loaded = {}
    for payload_type, name in SCHEMA_FILES.items():
        document = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
        loaded[payload_type] = _payload(document)
    return loaded


_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "boolean": (bool,),
    "integer": (int,),
    "real": (int, float),
    "string": (str,),
    "date": (datetime,),
    "data": (bytes,),
    "array": (list, tuple),
    "dictionary": (dict, Mapping),
}


def _value_problems(
    spec: AppleKey, value: Any, where: str, supervised_target: bool
) -> Iterator[str]:
    if not spec.on_ios:
        yield f"{where}: not supported on iOS"
    if spec.deprecated_on_ios:
        yield f"{where}: deprecated on iOS"
    if spec.supervised and not supervised_target:
        yield f"{where}: needs a supervised iPad"
    if spec.type == "any":
        return
    wrong_bool = isinstance(value, bool) and spec.type in ("integer", "real")
    if wrong_bool or not isinstance(value, _PYTHON_TYPES[spec.type]):
        yield f"{where}: Apple's type is {spec.type}, got {type(value).__name__}"
        return
    if spec.type == "array" and spec.subkeys:
        for index, item in enumerate(value):
            yield from _value_problems(
                spec.subkeys[0], item, f"{where}[{index}]", supervised_target
            )
    elif spec.type == "dictionary" and spec.subkeys:
        by_name = {sub.key: sub for sub in spec.subkeys}
        for name, item in value.items():
            sub = by_name.get(name) or by_name.get("ANY")
            if sub is None:
                yield f"{where}.{name}: not in Apple's schema"
            else:
                yield from _value_problems(sub, item, f"{where}.{name}", supervised_target)


def apple_problems(
    apple: Mapping[str, ApplePayload],
    payload_type: str,
    payload: Mapping[str, Any],
    *,
    supervised_target: bool,
) -> list[str]:
    """What Apple's schema says is wrong with `payload` of `payload_type`."""
    schema = apple[payload_type]
    common = apple[COMMON].keys if payload_type not in (TOP_LEVEL, COMMON) else {}
    problems = []
    if schema.supervised and not supervised_target:
        problems.append(f"{payload_type}: the payload needs a supervised iPad")
    for key, value in payload.items():
        spec = schema.keys.get(key) or common.get(key)
        if spec is None:
            problems.append(f"{payload_type}.{key}: not in Apple's schema")
        else:
            problems += _value_problems(spec, value, f"{payload_type}.{key}", supervised_target)
    return problems


# --- the validator itself can fail ---------------------------------------------------------


def test_validator_catches_a_wrong_type_and_an_unknown_key(
    apple: Mapping[str, ApplePayload],
) -> None:
    wrong = {"allowSafari": "no", "ratingApps": True, "allowSafary": False}
    problems = apple_problems(apple, APPLICATION_ACCESS, wrong, supervised_target=True)
    assert any("allowSafari: Apple's type is boolean, got str" in p for p in problems)
    assert any("ratingApps: Apple's type is integer, got bool" in p for p in problems)
    assert any("allowSafary: not in Apple's schema" in p for p in problems)
    nested = {"App": {"Identifier": 7, "Colour": "red"}}
    nested_problems = apple_problems(apple, APP_LOCK, nested, supervised_target=True)
    assert any("App.Identifier" in p for p in nested_problems)
    assert any("App.Colour: not in Apple's schema" in p for p in nested_problems)


def test_validator_catches_supervised_keys_on_unsupervised_ipads(
    apple: Mapping[str, ApplePayload],
) -> None:
    problems = apple_problems(
        apple, APPLICATION_ACCESS, {"allowSafari": False}, supervised_target=False
    )
    assert problems == [f"{APPLICATION_ACCESS}.allowSafari: needs a supervised iPad"]
    assert (
        apple_problems(apple, APPLICATION_ACCESS, {"allowCamera": False}, supervised_target=False)
        == []
    )


def test_validator_catches_deprecated_keys(apple: Mapping[str, ApplePayload]) -> None:
    old = {"BlacklistedURLs": ["https://example.com"]}
    problems = apple_problems(apple, WEB_CONTENT_FILTER, old, supervised_target=True)
    assert problems == [f"{WEB_CONTENT_FILTER}.BlacklistedURLs: deprecated on iOS"]


# --- our table -------------------------------------------------------------------------------


def _table_problems(
    ours: PayloadKey, theirs: AppleKey, where: str, payload_supervised: bool
) -> Iterator[str]:
    where = f"{where}.{ours.key}"
    if ours.type.value != theirs.type:
        yield f"{where}: our type {ours.type.value}, Apple's {theirs.type}"
    if theirs.supervised and not (ours.supervised or payload_supervised):
        yield f"{where}: Apple needs supervision, our table does not say so"
    if not theirs.on_ios or theirs.deprecated_on_ios:
        yield f"{where}: not current on iOS"
    their_subkeys = theirs.subkeys
    if ours.items is not None:
        item = theirs.subkeys[0] if theirs.subkeys else None
        if item is None or item.type != ours.items.value:
            yield f"{where}: our items are {ours.items.value}, Apple's {item and item.type}"
            return
        their_subkeys = item.subkeys
    by_name = {sub.key: sub for sub in their_subkeys}
    for sub in ours.subkeys:
        if sub.key not in by_name:
            yield f"{where}.{sub.key}: not in Apple's schema"
        else:
            yield from _table_problems(sub, by_name[sub.key], where, payload_supervised)


def test_every_key_in_our_table_matches_apples_schema(apple: Mapping[str, ApplePayload]) -> None:
    problems = []
    for payload_type, keys in PAYLOAD_KEYS.items():
        schema = apple[payload_type]
        if schema.supervised and payload_type not in SUPERVISED_PAYLOADS:
            problems.append(f"{payload_type}: Apple needs supervision, our table does not say so")
        for key, ours in keys.items():
            theirs = schema.keys.get(key)
            if theirs is None:
                problems.append(f"{payload_type}.{key}: not in Apple's schema")
            else:
                supervised = payload_type in SUPERVISED_PAYLOADS
                problems += _table_problems(ours, theirs, payload_type, supervised)
    assert problems == []


# --- everything the default policy can generate --------------------------------------------


def _generated_documents() -> list[ProfileDocument]:
    policy = default_policy()
    prefix = policy.identifier_prefix
    documents = [profile.document(identifier_prefix=prefix) for profile in policy.profiles.values()]
    documents += [
        profile.document(identifier_prefix=prefix, extra_allowed_domains=("www.romans.example",))
        for profile in policy.profiles.values()
    ]
    for level in policy.ladder.levels:
        if level.profile is not None:
            documents.append(
                level.profile.document(
                    identifier_prefix=prefix,
                    identifier=policy.ban_identifier(level.level),
                    removal_date=MONDAY + level.default_duration,
                )
            )
    for cause in LockCause:
        until = None if cause in (LockCause.EVIDENCE_HOLD, LockCause.INSPECTION) else MONDAY
        intent = LockIntent(cause=cause, message=policy.curfew_message, until=until)
        documents.append(lock_profile(policy, intent))
    return documents


def test_the_default_policy_generates_every_kind_of_document() -> None:
    types = {payload["PayloadType"] for doc in _generated_documents() for payload in doc.payloads}
    assert types == {APPLICATION_ACCESS, WEB_CONTENT_FILTER, APP_LOCK}
    identifiers = {doc.identifier for doc in _generated_documents()}
    assert "org.mdmbridge.ban.level1" in identifiers
    assert "org.mdmbridge.lock.curfew" in identifiers


@pytest.mark.parametrize("document", _generated_documents(), ids=lambda d: d.identifier)
def test_generated_profile_validates_as_installed(
    apple: Mapping[str, ApplePayload], document: ProfileDocument
) -> None:
    """The whole .mobileconfig the Jamf Pro connector uploads for this document."""
    profile = plistlib.loads(mobileconfig(document))
    inner = profile.pop("PayloadContent")
    problems = apple_problems(apple, TOP_LEVEL, profile, supervised_target=True)
    problems += apple_problems(apple, TOP_LEVEL, {"PayloadContent": inner}, supervised_target=True)
    for payload in inner:
        problems += apple_problems(apple, payload["PayloadType"], payload, supervised_target=True)
    assert problems == []


def test_profiles_for_unsupervised_ipads_would_be_caught(apple: Mapping[str, ApplePayload]) -> None:
    # Every default profile is meant for supervised iPads; the check would see if one were not.
    # (Apple lets a web filter alone onto an unsupervised iPad since iOS 16, so it is not here.)
    checked = 0
    for document in _generated_documents():
        for payload in document.payloads:
            if payload["PayloadType"] in (APPLICATION_ACCESS, APP_LOCK):
                checked += 1
                problems = apple_problems(
                    apple, payload["PayloadType"], payload, supervised_target=False
                )
                assert problems, payload["PayloadIdentifier"]
    assert checked >= 10


# --- Lost Mode commands ----------------------------------------------------------------------

# connectors/jamf_pro/commands.py sends Jamf's names; Jamf turns them into Apple's command keys.
JAMF_TO_APPLE = {
    "lostModeMessage": "Message",
    "lostModePhone": "PhoneNumber",
    "lostModeFootnote": "Footnote",
}


def test_lost_mode_commands_validate(apple: Mapping[str, ApplePayload]) -> None:
    source = Path(__file__).resolve().parents[2] / "connectors" / "jamf_pro" / "commands.py"
    sent = [name for name in JAMF_TO_APPLE if f'"{name}"' in source.read_text(encoding="utf-8")]
    assert sent, "the Jamf Pro connector no longer names any Lost Mode text field"
    policy = default_policy()
    for message in (policy.curfew_message, policy.ban_message, policy.hold_message):
        command = {JAMF_TO_APPLE[name]: message for name in sent}
        assert apple_problems(apple, ENABLE_LOST_MODE, command, supervised_target=True) == []
        assert set(command) <= set(PAYLOAD_KEYS[ENABLE_LOST_MODE])
    assert apple_problems(apple, DISABLE_LOST_MODE, {}, supervised_target=True) == []
    assert apple_problems(apple, ENABLE_LOST_MODE, {"Message": "x"}, supervised_target=False)


def test_removal_dates_are_dates(apple: Mapping[str, ApplePayload]) -> None:
    document = next(d for d in _generated_documents() if d.identifier.endswith("lock.curfew"))
    profile = plistlib.loads(mobileconfig(document))
    assert isinstance(profile["RemovalDate"], datetime)
    assert profile["RemovalDate"] - MONDAY.replace(tzinfo=None) < timedelta(seconds=1)
