"""Classic API XML, both ways: bodies the bridge writes, and answers it reads.

`groups` and `profiles` build their write bodies here and read the `<id>` Jamf answers with.
Bodies are built with ElementTree, which escapes text (a profile's plist travels as escaped
text inside `<payloads>`); answers are untrusted, so they are parsed with defusedxml and a
surprise becomes a PermanentError naming the element.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from xml.etree.ElementTree import Element, ParseError, SubElement, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from connectors.base import PermanentError

XML = {"Content-Type": "application/xml", "Accept": "application/xml"}


def element(tag: str, children: dict[str, Any] | None = None, text: str | None = None) -> Element:
    """An element with text or nested children: dicts nest, lists repeat, bools become words."""
    node = Element(tag)
    if text is not None:
        node.text = text
    _fill(node, children or {})
    return node


def _fill(node: Element, children: dict[str, Any]) -> None:
    for tag, value in children.items():
        if isinstance(value, Element):
            node.append(value)
            continue
        child = SubElement(node, tag)
        if isinstance(value, dict):
            _fill(child, value)
        elif isinstance(value, list):
            for item in value:
                child.append(item)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        elif value is not None:
            child.text = str(value)


def device_list(tag: str, device_ids: Iterable[str]) -> Element:
    """`<tag><mobile_device><id>7</id></mobile_device>…</tag>` for Classic membership edits."""
    node = Element(tag)
    for device_id in device_ids:
        SubElement(SubElement(node, "mobile_device"), "id").text = device_id
    return node


def to_bytes(root: Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>' + tostring(root, encoding="unicode").encode()


def created_id(body: bytes, root_tag: str, what: str) -> int:
    """The id in Jamf's `<root><id>N</id></root>` answer to a create or update."""
    try:
        root = fromstring(body)
    except (ParseError, DefusedXmlException, ValueError):
        raise PermanentError(f"{what}: the answer is not readable XML") from None
    path = f"{root_tag}.id"
    if root.tag != root_tag:
        raise PermanentError(f"{what}: unexpected vendor answer: element {root_tag} is missing")
    found = root.find("id")
    text = (found.text or "").strip() if found is not None else ""
    if not text.isdigit():
        raise PermanentError(f"{what}: unexpected vendor answer: element {path} is not an id")
    return int(text)
