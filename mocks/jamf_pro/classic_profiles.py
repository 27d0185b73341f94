"""Classic iOS configuration profiles: list, read (whole or subset), create, update, delete.

``<payloads>`` carries the .mobileconfig as escaped XML text; the mock parses it so that the
simulated iPads act on ``PayloadIdentifier`` and ``RemovalDate``. ``<scope>`` maps to the fleet's
``Scope`` (all devices, devices, groups, exclusions); installs follow at each next check-in.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from xml.etree.ElementTree import Element

from fastapi import APIRouter, Depends, Request, Response

from mocks.fleet import Fleet
from mocks.jamf_pro.auth import require_classic_token
from mocks.jamf_pro.classic_groups import devices_in
from mocks.jamf_pro.errors import JamfProError, classic_page
from mocks.jamf_pro.state import jamf_state
from mocks.jamf_pro.xmlio import classic_answer, parse_xml, text_of, xml_answer
from mocks.profiles import Profile, ProfilePayloadError, Scope, read_profile_plist

router = APIRouter(dependencies=[Depends(require_classic_token)])
BASE = "/JSSResource/mobiledeviceconfigurationprofiles"


def _conflict(message: str) -> JamfProError:
    return JamfProError(classic_page(409, f"Error: {message}"))


def _groups_in(fleet: Fleet, container: Element | None) -> frozenset[int]:
    if container is None:
        return frozenset()
    ids = set()
    for node in container.iterfind("mobile_device_group"):
        raw_id, name = text_of(node, "id"), text_of(node, "name")
        group = fleet.group(int(raw_id)) if raw_id and raw_id.isdigit() else None
        if group is None and name:
            group = fleet.group_by_name(name)
        if group is None:
            raise _conflict("Problem with mobile device group in scope")
        ids.add(group.group_id)
    return frozenset(ids)


def _scope(fleet: Fleet, node: Element) -> Scope:
    exclusions = node.find("exclusions")
    return Scope(
        all_devices=(text_of(node, "all_mobile_devices") or "").casefold() == "true",
        device_ids=frozenset(
            d.device_id for d in devices_in(fleet, node.find("mobile_devices"), "scope")
        ),
        group_ids=_groups_in(fleet, node.find("mobile_device_groups")),
        excluded_device_ids=frozenset(
            d.device_id
            for d in devices_in(
                fleet,
                exclusions.find("mobile_devices") if exclusions is not None else None,
                "exclusions",
            )
        ),
        excluded_group_ids=_groups_in(
            fleet, exclusions.find("mobile_device_groups") if exclusions is not None else None
        ),
    )


def _record(fleet: Fleet, profile: Profile) -> dict[str, Any]:
    scope = profile.scope

    def devices(ids: frozenset[int]) -> list[dict[str, Any]]:
        return [
            {"id": d.device_id, "name": d.name, "udid": d.udid}
            for i in sorted(ids)
            if (d := fleet.device_by_id(i)) is not None
        ]

    def groups(ids: frozenset[int]) -> list[dict[str, Any]]:
        return [{"id": g.group_id, "name": g.name} for i in sorted(ids) if (g := fleet.group(i))]

    return {
        "general": {
            "id": profile.profile_id,
            "name": profile.name,
            "description": profile.description,
            "site": {"id": -1, "name": "None"},
            "category": {"id": -1, "name": "No category assigned"},
            "uuid": profile.extra.get("uuid", ""),
            "deployment_method": profile.extra.get("deployment_method", "Install Automatically"),
            "redeploy_on_update": "All" if profile.redeploy_to_all else "Newly Assigned",
            "payloads": profile.payload.decode("utf-8", errors="replace"),
        },
        "scope": {
            "all_mobile_devices": scope.all_devices,
            "mobile_devices": devices(scope.device_ids),
            "mobile_device_groups": groups(scope.group_ids),
            "exclusions": {
                "mobile_devices": devices(scope.excluded_device_ids),
                "mobile_device_groups": groups(scope.excluded_group_ids),
            },
        },
    }


def _profile_or_404(fleet: Fleet, key: str, value: str) -> Profile:
    profile = None
    if key == "id" and value.isdigit():
        profile = fleet.profile(int(value))
    elif key == "name":
        profile = next((p for p in fleet.profiles() if p.name == value), None)
    if profile is None:
        raise JamfProError(classic_page(404, "Not Found"))
    return profile


def _merge(fleet: Fleet, root: Element, base: Profile) -> Profile:
    """Apply the sections present in ``root`` to ``base`` (absent sections stay unchanged)."""
    general = root.find("general")
    profile = base
    name = text_of(general, "name")
    if name is not None:
        clash = next((p for p in fleet.profiles() if p.name == name), None)
        if clash is not None and clash.profile_id != base.profile_id:
            raise _conflict("Duplicate name")
        profile = replace(profile, name=name)
    description = text_of(general, "description")
    if description is not None:
        profile = replace(profile, description=description)
    redeploy = text_of(general, "redeploy_on_update")
    if redeploy is not None:
        profile = replace(profile, redeploy_to_all=redeploy.casefold() == "all")
    method = text_of(general, "deployment_method")
    if method is not None:
        profile = replace(profile, extra=profile.extra | {"deployment_method": method})
    payloads = general.find("payloads") if general is not None else None
    if payloads is not None and payloads.text:
        payload = payloads.text.strip().encode()
        try:
            content = read_profile_plist(payload)
        except ProfilePayloadError as error:
            raise _conflict(f"Unable to parse payloads: {error}") from error
        profile = replace(profile, payload=payload, content=content)
    scope = root.find("scope")
    if scope is not None:
        profile = replace(profile, scope=_scope(fleet, scope))
    return profile


@router.get(BASE)
async def list_profiles(request: Request) -> Response:
    fleet = jamf_state(request).fleet
    items = [{"id": p.profile_id, "name": p.name} for p in fleet.profiles()]
    return classic_answer(request, "configuration_profiles", items)


@router.get(f"{BASE}/{{key}}/{{value}}")
async def get_profile(request: Request, key: str, value: str) -> Response:
    fleet = jamf_state(request).fleet
    return classic_answer(
        request, "configuration_profile", _record(fleet, _profile_or_404(fleet, key, value))
    )


@router.get(f"{BASE}/{{key}}/{{value}}/subset/{{subsets}}")
async def get_profile_subset(request: Request, key: str, value: str, subsets: str) -> Response:
    fleet = jamf_state(request).fleet
    record = _record(fleet, _profile_or_404(fleet, key, value))
    wanted = {part.strip().casefold() for part in subsets.replace(",", "&").split("&")}
    return classic_answer(
        request, "configuration_profile", {k: v for k, v in record.items() if k in wanted}
    )


@router.post(f"{BASE}/id/{{value}}")
async def create_profile(request: Request, value: str) -> Response:
    fleet = jamf_state(request).fleet
    root = parse_xml(await request.body())
    general = root.find("general")
    if not text_of(general, "name"):
        raise _conflict("name is required")
    if general is None or general.find("payloads") is None:
        raise _conflict("payloads are required")
    placeholder = Profile(
        profile_id=0,
        name="",
        content=read_profile_plist(_EMPTY_PROFILE),
        payload=_EMPTY_PROFILE,
    )
    merged = _merge(fleet, root, placeholder)
    if merged.payload == _EMPTY_PROFILE:
        raise _conflict("payloads are required")
    created = fleet.put_profile(replace(merged, profile_id=fleet.next_profile_id()))
    return xml_answer("configuration_profile", {"id": created.profile_id})


@router.put(f"{BASE}/{{key}}/{{value}}")
async def update_profile(request: Request, key: str, value: str) -> Response:
    fleet = jamf_state(request).fleet
    existing = _profile_or_404(fleet, key, value)
    updated = fleet.put_profile(_merge(fleet, parse_xml(await request.body()), existing))
    return xml_answer("configuration_profile", {"id": updated.profile_id})


@router.delete(f"{BASE}/{{key}}/{{value}}")
async def delete_profile(request: Request, key: str, value: str) -> Response:
    fleet = jamf_state(request).fleet
    profile = _profile_or_404(fleet, key, value)
    fleet.delete_profile(profile.profile_id)
    return xml_answer("configuration_profile", {"id": profile.profile_id}, status=200)


_EMPTY_PROFILE = (
    b'<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict>'
    b"<key>PayloadIdentifier</key><string>placeholder</string></dict></plist>"
)
