"""Our table of the Apple payload keys the bridge may emit, and the check every profile passes.

`profiles` and `decide.lock_profile` build payload dictionaries only from keys listed here, and
`check_payload` refuses anything else before a profile document exists. The table records, for
each key, Apple's type and whether iOS honours it only on a supervised iPad; a test compares it
(and every profile the default policy can produce) with Apple's published schema, so a typo or a
wrong type is caught here rather than silently ignored by an iPad.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class KeyType(StrEnum):
    """Apple's schema type names, without the angle brackets."""

    BOOLEAN = "boolean"
    INTEGER = "integer"
    REAL = "real"
    STRING = "string"
    DATE = "date"
    ARRAY = "array"
    DICTIONARY = "dictionary"


@dataclass(frozen=True, kw_only=True, slots=True)
class PayloadKey:
    key: str
    type: KeyType
    supervised: bool = False  # iOS applies it only on a supervised iPad
    items: KeyType | None = None  # element type of an array
    subkeys: tuple[PayloadKey, ...] = ()  # keys of a dictionary, or of each dictionary in an array

    def subkey(self, name: str) -> PayloadKey | None:
        return next((sub for sub in self.subkeys if sub.key == name), None)


APPLICATION_ACCESS = "com.apple.applicationaccess"
WEB_CONTENT_FILTER = "com.apple.webcontent-filter"
APP_LOCK = "com.apple.app.lock"
TOP_LEVEL = "TopLevel"  # the profile envelope the connector writes around our payloads
COMMON = "CommonPayloadKeys"  # keys every inner payload carries
ENABLE_LOST_MODE = "EnableLostMode"  # commands, keyed by RequestType
DISABLE_LOST_MODE = "DisableLostMode"


def _bool(key: str, *, supervised: bool = False) -> PayloadKey:
    return PayloadKey(key=key, type=KeyType.BOOLEAN, supervised=supervised)


def _string(key: str) -> PayloadKey:
    return PayloadKey(key=key, type=KeyType.STRING)


def _strings(key: str, *, supervised: bool = False) -> PayloadKey:
    return PayloadKey(key=key, type=KeyType.ARRAY, items=KeyType.STRING, supervised=supervised)


_SUPERVISED_RESTRICTIONS = (
    # anti-tamper (R41, R42): pupils cannot install, delete, reconfigure or erase
    "allowAppInstallation",
    "allowUIAppInstallation",
    "allowAppRemoval",
    "allowMarketplaceAppInstallation",
    "allowWebDistributionAppInstallation",
    "allowAccountModification",
    "allowPasscodeModification",
    "allowDeviceNameModification",
    "allowEraseContentAndSettings",
    "allowUIConfigurationProfileInstallation",
    "allowEnablingRestrictions",
    "allowVPNCreation",
    "allowWallpaperModification",
    "allowAppsToBeLocked",
    "allowAppsToBeHidden",
    "forceAutomaticDateAndTime",  # stops a pupil moving the clock to dodge the curfew
    "forceClassroomUnpromptedAppAndDeviceLock",
    # messaging, sharing and games (R39, R40)
    "allowSafari",
    "allowAirDrop",
    "allowChat",
    "allowVideoConferencing",
    "allowGameCenter",
    "allowMultiplayerGaming",
    "allowAddingGameCenterFriends",
    "allowExplicitContent",
    "allowFindMyFriendsModification",
    # generative features
    "allowGenmoji",
    "allowImagePlayground",
    "allowImageWand",
    "allowWritingTools",
)
_UNSUPERVISED_RESTRICTIONS = (
    "allowInAppPurchases",
    "allowCamera",
    "allowScreenShot",
    "allowAssistant",
    "allowBookstoreErotica",
    "safariAllowPopups",
)

_APP_LOCK_OPTIONS = (
    "DisableTouch",
    "DisableDeviceRotation",
    "DisableVolumeButtons",
    "DisableRingerSwitch",
    "DisableSleepWakeButton",
    "DisableAutoLock",
)


def _table(*keys: PayloadKey) -> Mapping[str, PayloadKey]:
    return MappingProxyType({spec.key: spec for spec in keys})


PAYLOAD_KEYS: Mapping[str, Mapping[str, PayloadKey]] = MappingProxyType(
    {
        APPLICATION_ACCESS: _table(
            *(_bool(key, supervised=True) for key in _SUPERVISED_RESTRICTIONS),
            *(_bool(key) for key in _UNSUPERVISED_RESTRICTIONS),
            PayloadKey(key="ratingApps", type=KeyType.INTEGER),
            _string("ratingRegion"),
            _strings("allowListedAppBundleIDs", supervised=True),
            _strings("blockedAppBundleIDs", supervised=True),
        ),
        WEB_CONTENT_FILTER: _table(
            _string("FilterType"),
            _bool("AutoFilterEnabled"),
            _strings("PermittedURLs"),
            _strings("DenyListURLs"),
            PayloadKey(
                key="AllowListBookmarks",
                type=KeyType.ARRAY,
                items=KeyType.DICTIONARY,
                subkeys=(_string("URL"), _string("Title")),
            ),
        ),
        APP_LOCK: _table(
            PayloadKey(
                key="App",
                type=KeyType.DICTIONARY,
                subkeys=(
                    _string("Identifier"),
                    PayloadKey(
                        key="Options",
                        type=KeyType.DICTIONARY,
                        subkeys=tuple(_bool(option) for option in _APP_LOCK_OPTIONS),
                    ),
                ),
            ),
        ),
        COMMON: _table(
            _string("PayloadType"),
            PayloadKey(key="PayloadVersion", type=KeyType.INTEGER),
            _string("PayloadIdentifier"),
            _string("PayloadUUID"),
            _string("PayloadDisplayName"),
            _string("PayloadDescription"),
        ),
        TOP_LEVEL: _table(
            _string("PayloadType"),
            PayloadKey(key="PayloadVersion", type=KeyType.INTEGER),
            _string("PayloadIdentifier"),
            _string("PayloadUUID"),
            _string("PayloadDisplayName"),
            _string("PayloadDescription"),
            _bool("PayloadRemovalDisallowed", supervised=True),  # pupils cannot remove it
            PayloadKey(key="PayloadContent", type=KeyType.ARRAY, items=KeyType.DICTIONARY),
            PayloadKey(key="RemovalDate", type=KeyType.DATE),
        ),
        ENABLE_LOST_MODE: _table(_string("Message"), _string("PhoneNumber"), _string("Footnote")),
        DISABLE_LOST_MODE: _table(),
    }
)

# Payload types (and commands) iOS accepts only on a supervised iPad, whatever their keys.
SUPERVISED_PAYLOADS: frozenset[str] = frozenset(
    {APP_LOCK, WEB_CONTENT_FILTER, ENABLE_LOST_MODE, DISABLE_LOST_MODE}
)


def key_spec(payload_type: str, key: str) -> PayloadKey:
    """The table's entry, or ValueError naming the key and the payload type."""
    keys = PAYLOAD_KEYS.get(payload_type)
    if keys is None:
        raise ValueError(f"payload type {payload_type!r} is not one the bridge emits")
    spec = keys.get(key)
    if spec is None:
        raise ValueError(f"{key!r} is not a {payload_type} key in our payload-key table")
    return spec


def _matches(kind: KeyType, value: Any) -> bool:
    match kind:
        case KeyType.BOOLEAN:
            return isinstance(value, bool)
        case KeyType.INTEGER:
            return isinstance(value, int) and not isinstance(value, bool)
        case KeyType.REAL:
            return isinstance(value, int | float) and not isinstance(value, bool)
        case KeyType.STRING:
            return isinstance(value, str)
        case KeyType.DATE:
            return isinstance(value, datetime)
        case KeyType.ARRAY:
            return isinstance(value, list | tuple)
        case KeyType.DICTIONARY:
            return isinstance(value, Mapping)
    return False  # pragma: no cover - every KeyType is handled above


def _value_problems(spec: PayloadKey, value: Any, where: str) -> Iterator[str]:
    if not _matches(spec.type, value):
        yield f"{where} must be {spec.type.value}, got {type(value).__name__}"
        return
    if spec.type is KeyType.ARRAY and spec.items is not None:
        element = PayloadKey(key=spec.key, type=spec.items, subkeys=spec.subkeys)
        for index, item in enumerate(value):
            yield from _value_problems(element, item, f"{where}[{index}]")
    elif spec.type is KeyType.DICTIONARY and spec.subkeys:
        for name, item in value.items():
            sub = spec.subkey(name)
            if sub is None:
                yield f"{where}.{name} is not in our payload-key table"
            else:
                yield from _value_problems(sub, item, f"{where}.{name}")


def payload_problems(payload_type: str, payload: Mapping[str, Any]) -> list[str]:
    """Every key of `payload` not in our table for `payload_type` (or for the common keys), and
    every value of the wrong type."""
    keys = PAYLOAD_KEYS.get(payload_type)
    if keys is None:
        return [f"payload type {payload_type!r} is not one the bridge emits"]
    common = PAYLOAD_KEYS[COMMON] if payload_type not in (TOP_LEVEL, COMMON) else {}
    problems = []
    for key, value in payload.items():
        spec = keys.get(key) or common.get(key)
        if spec is None:
            problems.append(f"{key!r} is not a {payload_type} key in our payload-key table")
        else:
            problems.extend(_value_problems(spec, value, key))
    return problems


def check_payload(payload_type: str, payload: Mapping[str, Any]) -> None:
    """ValueError naming every problem `payload_problems` finds."""
    problems = payload_problems(payload_type, payload)
    if problems:
        raise ValueError("; ".join(problems))


def needs_supervision(payload_type: str, payload: Mapping[str, Any]) -> bool:
    """True when iOS would apply some of `payload` only on a supervised iPad."""
    if payload_type in SUPERVISED_PAYLOADS:
        return True
    keys = PAYLOAD_KEYS.get(payload_type, {})
    return any(spec.supervised for key in payload if (spec := keys.get(key)) is not None)
