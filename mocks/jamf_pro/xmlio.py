"""XML in and out for the Jamf Pro Classic API.

Requests are parsed with ``defusedxml`` (they are untrusted); answers are built from plain dicts
and lists: a list under key ``things`` becomes repeated ``<thing>`` elements, with a ``size``
element first, as Classic does. ``classic_answer`` picks JSON when the client asks for it.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree.ElementTree import Element, ParseError, SubElement, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from fastapi import Request
from fastapi.responses import Response

from mocks.jamf_pro.errors import JamfProError, classic_page

# Lists whose items are not named by dropping the final "s".
_ITEM_NAMES = {
    "mobile_device_additions": "mobile_device",
    "mobile_device_deletions": "mobile_device",
}


def parse_xml(body: bytes) -> Element:
    if not body.strip():
        raise JamfProError(classic_page(400, "The request body is empty"))
    try:
        element: Element = fromstring(body)
        return element
    except (ParseError, DefusedXmlException, ValueError) as error:
        raise JamfProError(classic_page(400, f"Unable to parse XML: {error}")) from error


def text_of(element: Element | None, path: str) -> str | None:
    if element is None:
        return None
    found = element.find(path)
    if found is None or found.text is None:
        return None
    return found.text.strip()


def to_xml(root: str, value: Any) -> bytes:
    element = Element(root)
    _fill(element, root, value)
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>' + tostring(element, encoding="unicode").encode()
    )


def _fill(element: Element, name: str, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(SubElement(element, key), key, child)
    elif isinstance(value, list):
        SubElement(element, "size").text = str(len(value))
        item_name = _ITEM_NAMES.get(name, name[:-1] if name.endswith("s") else name)
        for item in value:
            _fill(SubElement(element, item_name), item_name, item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def classic_answer(request: Request, root: str, value: Any, status: int = 200) -> Response:
    if wants_json(request):
        return Response(
            json.dumps({root: value}), status_code=status, media_type="application/json"
        )
    return Response(to_xml(root, value), status_code=status, media_type="text/xml")


def xml_answer(root: str, value: Any, status: int = 201) -> Response:
    return Response(to_xml(root, value), status_code=status, media_type="text/xml")
