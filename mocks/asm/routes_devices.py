"""Read routes of the fake ASM: org devices, MDM servers and the links between them.

Every route here runs behind `mocks.asm.guards.api_guard` and answers JSON:API documents built
by `mocks.asm.resources`; list routes page with `mocks.asm.paging`.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mocks.asm.catalog import AsmCatalog, OrgDevice
from mocks.asm.errors import AsmError
from mocks.asm.guards import api_guard, asm_state
from mocks.asm.paging import cut_page, page_document, read_page_request
from mocks.asm.resources import (
    MDM_SERVER_DEFAULT_FIELDS,
    MDM_SERVER_EXTRA_FIELDS,
    ORG_DEVICE_FIELDS,
    mdm_server_resource,
    org_device_resource,
    select_fields,
)

router = APIRouter(prefix="/v1", dependencies=[Depends(api_guard)])
_ALL_SERVER_FIELDS = MDM_SERVER_DEFAULT_FIELDS + MDM_SERVER_EXTRA_FIELDS


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _device(catalog: AsmCatalog, serial: str) -> OrgDevice:
    device = catalog.devices.get(serial)
    if device is None:
        raise AsmError.not_found(f"There is no orgDevices resource with id '{serial}'")
    return device


@router.get("/orgDevices", response_model=None)
async def list_org_devices(request: Request) -> JSONResponse:
    catalog = asm_state(request).catalog
    query = dict(request.query_params)
    fields = select_fields(query, "orgDevices", ORG_DEVICE_FIELDS, ORG_DEVICE_FIELDS)
    page = cut_page(catalog.sorted_devices(), read_page_request(query))
    base = _base_url(request)
    data = [org_device_resource(d, catalog, base_url=base, fields=fields) for d in page.items]
    return JSONResponse(
        page_document(data, page, self_url=f"{base}/v1/orgDevices", base_query=query)
    )


@router.get("/orgDevices/{serial}", response_model=None)
async def get_org_device(serial: str, request: Request) -> JSONResponse:
    catalog = asm_state(request).catalog
    query = dict(request.query_params)
    fields = select_fields(query, "orgDevices", ORG_DEVICE_FIELDS, ORG_DEVICE_FIELDS)
    base = _base_url(request)
    resource = org_device_resource(_device(catalog, serial), catalog, base_url=base, fields=fields)
    return JSONResponse({"data": resource, "links": {"self": f"{base}/v1/orgDevices/{serial}"}})


@router.get("/orgDevices/{serial}/relationships/assignedServer", response_model=None)
async def get_assigned_server_linkage(serial: str, request: Request) -> JSONResponse:
    catalog = asm_state(request).catalog
    _device(catalog, serial)
    server = catalog.server_of(serial)
    base = f"{_base_url(request)}/v1/orgDevices/{serial}"
    return JSONResponse(
        {
            "data": None if server is None else {"type": "mdmServers", "id": server.server_id},
            "links": {
                "self": f"{base}/relationships/assignedServer",
                "related": f"{base}/assignedServer",
            },
        }
    )


@router.get("/orgDevices/{serial}/assignedServer", response_model=None)
async def get_assigned_server(serial: str, request: Request) -> JSONResponse:
    catalog = asm_state(request).catalog
    _device(catalog, serial)
    query = dict(request.query_params)
    fields = select_fields(query, "mdmServers", _ALL_SERVER_FIELDS, MDM_SERVER_DEFAULT_FIELDS)
    server = catalog.server_of(serial)
    base = _base_url(request)
    return JSONResponse(
        {
            "data": None
            if server is None
            else mdm_server_resource(server, catalog, base_url=base, fields=fields),
            "links": {"self": f"{base}/v1/orgDevices/{serial}/assignedServer"},
        }
    )


@router.get("/orgDevices/{serial}/appleCareCoverage", response_model=None)
async def get_apple_care_coverage(serial: str, request: Request) -> JSONResponse:
    device = _device(asm_state(request).catalog, serial)
    start = device.added_at
    coverage = {
        "type": "appleCareCoverage",
        "id": f"{serial}-LIMITED-WARRANTY",
        "attributes": {
            "description": "Limited Warranty",
            "status": "ACTIVE",
            "startDateTime": start.strftime("%Y-%m-%dT00:00:00Z"),
            "endDateTime": (start + timedelta(days=365)).strftime("%Y-%m-%dT00:00:00Z"),
            "isRenewable": False,
            "isCanceled": False,
            "paymentType": "NONE",
        },
    }
    base = _base_url(request)
    return JSONResponse(
        {
            "data": [coverage],
            "links": {"self": f"{base}/v1/orgDevices/{serial}/appleCareCoverage"},
            "meta": {"paging": {"limit": 100, "total": 1}},
        }
    )


@router.get("/mdmServers", response_model=None)
async def list_mdm_servers(request: Request) -> JSONResponse:
    catalog = asm_state(request).catalog
    query = dict(request.query_params)
    fields = select_fields(query, "mdmServers", _ALL_SERVER_FIELDS, MDM_SERVER_DEFAULT_FIELDS)
    page = cut_page(catalog.sorted_servers(), read_page_request(query))
    base = _base_url(request)
    data = [mdm_server_resource(s, catalog, base_url=base, fields=fields) for s in page.items]
    return JSONResponse(
        page_document(data, page, self_url=f"{base}/v1/mdmServers", base_query=query)
    )


@router.get("/mdmServers/{server_id}/relationships/devices", response_model=None)
async def list_server_device_linkage(server_id: str, request: Request) -> JSONResponse:
    catalog = asm_state(request).catalog
    if server_id not in catalog.servers:
        raise AsmError.not_found(f"There is no mdmServers resource with id '{server_id}'")
    query = dict(request.query_params)
    serials = [(serial, serial) for serial in catalog.serials_on(server_id)]
    page = cut_page(serials, read_page_request(query))
    data: list[dict[str, object]] = [{"type": "orgDevices", "id": s} for s in page.items]
    self_url = f"{_base_url(request)}/v1/mdmServers/{server_id}/relationships/devices"
    return JSONResponse(page_document(data, page, self_url=self_url, base_query=query))
