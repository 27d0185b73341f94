"""Restriction profiles: what a pupil's iPad may run and browse, as Apple payloads.

A `RestrictionProfile` is built from the policy file (`files`) or by hand in tests; it refuses
any key missing from our payload-key table, so every profile that exists can be rendered.
`decide` calls `document` for the pupil's profile, for ban profiles and with extra allowed
domains from web allow-list exemptions; the connector wraps the payloads in the top-level
profile and writes `RemovalDate` when one is given. Ban profiles get none: one per level is
shared, by group, by every pupil banned at that level, each with their own end.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from mdm_bridge.model import ProfileDocument
from policies.payload_keys import (
    APPLICATION_ACCESS,
    WEB_CONTENT_FILTER,
    check_payload,
    key_spec,
    needs_supervision,
)

# PayloadUUIDs derive from identifiers, so the same profile always renders the same bytes.
PAYLOAD_UUID_NAMESPACE = uuid.UUID("0b5f2f0e-6c1d-4a8e-b7a4-3e2d9c61f5a7")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_BUNDLE_ID = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_SITE = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+(/\S*)?$")
# Keys the profile's own fields manage; setting them again in `restrictions` would conflict.
_FIELD_KEYS = frozenset({"allowSafari", "allowListedAppBundleIDs", "blockedAppBundleIDs"})

RestrictionValue = bool | int | str


def payload_uuid(payload_identifier: str) -> str:
    return str(uuid.uuid5(PAYLOAD_UUID_NAMESPACE, payload_identifier)).upper()


def check_site(site: str) -> None:
    """A web filter entry: a lower-case host name, optionally with a path (no scheme)."""
    if not _SITE.match(site):
        raise ValueError(
            f"{site!r} is not a site: give a lower-case host name such as "
            "'www.bbc.co.uk' or 'www.bbc.co.uk/bitesize', without https://"
        )


class FilterMode(StrEnum):
    ALLOW_LIST = "allow_list"  # only the listed sites open (young pupils)
    AUTO = "auto"  # Apple's adult-content filter, plus permitted and denied sites


@dataclass(frozen=True, kw_only=True, slots=True)
class WebFilter:
    """A built-in `com.apple.webcontent-filter`; sites are host names with an optional path."""

    mode: FilterMode
    allowed_sites: tuple[str, ...] = ()  # ALLOW_LIST: the only sites; AUTO: always permitted
    denied_sites: tuple[str, ...] = ()  # always blocked

    def __post_init__(self) -> None:
        for site in (*self.allowed_sites, *self.denied_sites):
            check_site(site)
        if self.mode is FilterMode.ALLOW_LIST and not self.allowed_sites:
            raise ValueError("an allow-list web filter needs at least one allowed site")

    def payload_keys(self, extra_allowed: tuple[str, ...]) -> dict[str, Any]:
        allowed = _merged(self.allowed_sites, extra_allowed)
        keys: dict[str, Any] = {"FilterType": "BuiltIn"}
        if self.mode is FilterMode.ALLOW_LIST:
            keys["AllowListBookmarks"] = [
                {"URL": f"https://{site}", "Title": site} for site in allowed
            ]
        else:
            keys["AutoFilterEnabled"] = True
            if allowed:
                keys["PermittedURLs"] = [f"https://{site}" for site in allowed]
        if self.denied_sites:
            keys["DenyListURLs"] = [f"https://{site}" for site in self.denied_sites]
        return keys


def _merged(base: tuple[str, ...], extra: tuple[str, ...]) -> tuple[str, ...]:
    """`base` then each extra entry not already present, in order, without repeats."""
    return tuple(dict.fromkeys((*base, *extra)))


@dataclass(frozen=True, kw_only=True, slots=True)
class RestrictionProfile:
    name: str  # stable slug, part of the profile identifier
    display_name: str
    allowed_apps: tuple[str, ...] = ()  # bundle ids; non-empty = only these apps launch
    blocked_apps: tuple[str, ...] = ()  # bundle ids hidden and unable to launch
    safari: bool = True
    web_filter: WebFilter | None = None
    restrictions: Mapping[str, RestrictionValue] = field(
        default_factory=lambda: MappingProxyType({})
    )
    description: str = ""
    supervised: bool = True  # meant for supervised iPads; False refuses supervised-only keys

    def __post_init__(self) -> None:
        if not _SLUG.match(self.name):
            raise ValueError(f"profile name {self.name!r}: use lower-case letters, digits, '-'")
        if not self.display_name:
            raise ValueError(f"profile {self.name}: display_name must not be empty")
        for bundle_id in (*self.allowed_apps, *self.blocked_apps):
            if not _BUNDLE_ID.match(bundle_id):
                raise ValueError(f"profile {self.name}: {bundle_id!r} is not a bundle id")
        both = set(self.allowed_apps) & set(self.blocked_apps)
        if both:
            raise ValueError(f"profile {self.name}: {sorted(both)} both allowed and blocked")
        for key in self.restrictions:
            if key in _FIELD_KEYS:
                raise ValueError(
                    f"profile {self.name}: set {key!r} with safari/allowed_apps/blocked_apps"
                )
            key_spec(APPLICATION_ACCESS, key)  # ValueError naming an unknown key
        object.__setattr__(self, "restrictions", MappingProxyType(dict(self.restrictions)))
        check_payload(APPLICATION_ACCESS, self._restriction_keys())
        if not self.supervised:
            used = self.supervised_keys()
            if used:
                raise ValueError(
                    f"profile {self.name} is for unsupervised iPads but uses "
                    f"supervised-only keys: {', '.join(used)}"
                )

    def _restriction_keys(self) -> dict[str, Any]:
        keys: dict[str, Any] = {}
        if not self.safari:
            keys["allowSafari"] = False
        if self.allowed_apps:
            keys["allowListedAppBundleIDs"] = list(self.allowed_apps)
        if self.blocked_apps:
            keys["blockedAppBundleIDs"] = list(self.blocked_apps)
        keys.update(sorted(self.restrictions.items()))
        return keys

    def supervised_keys(self) -> tuple[str, ...]:
        """The keys (and payload types) of this profile that iOS honours only when supervised."""
        used = [
            key
            for key in self._restriction_keys()
            if needs_supervision(APPLICATION_ACCESS, {key: None})
        ]
        if self.web_filter is not None:
            used.append(WEB_CONTENT_FILTER)
        return tuple(used)

    def payloads(
        self, identifier: str, extra_allowed_domains: tuple[str, ...] = ()
    ) -> tuple[dict[str, Any], ...]:
        for site in extra_allowed_domains:
            check_site(site)
        payloads = []
        keys = self._restriction_keys()
        if keys:
            payloads.append(self._payload(identifier, APPLICATION_ACCESS, "restrictions", keys))
        if self.web_filter is not None:
            web = self.web_filter.payload_keys(extra_allowed_domains)
            payloads.append(self._payload(identifier, WEB_CONTENT_FILTER, "webfilter", web))
        return tuple(payloads)

    def _payload(
        self, identifier: str, payload_type: str, suffix: str, keys: dict[str, Any]
    ) -> dict[str, Any]:
        payload_identifier = f"{identifier}.{suffix}"
        payload = {
            "PayloadType": payload_type,
            "PayloadIdentifier": payload_identifier,
            "PayloadUUID": payload_uuid(payload_identifier),
            "PayloadVersion": 1,
            "PayloadDisplayName": self.display_name,
            **keys,
        }
        check_payload(payload_type, payload)
        return payload

    def document(
        self,
        *,
        identifier_prefix: str,
        removal_date: datetime | None = None,
        extra_allowed_domains: tuple[str, ...] = (),
        identifier: str | None = None,
    ) -> ProfileDocument:
        """This profile as `{identifier_prefix}.restrictions.{name}` (or `identifier`, which
        ban profiles use), with extra allowed sites from web allow-list exemptions."""
        full_identifier = identifier or f"{identifier_prefix}.restrictions.{self.name}"
        if extra_allowed_domains and self.web_filter is None:
            # Without a filter every site already opens; nothing to add.
            extra_allowed_domains = ()
        return ProfileDocument(
            identifier=full_identifier,
            display_name=self.display_name,
            payloads=self.payloads(full_identifier, extra_allowed_domains),
            removal_date=removal_date,
            description=self.description,
        )
