"""Cursor paging for the fake Apple School Manager list routes.

List routes in `mocks.asm.routes` call `read_page_request` on the query string and `cut_page` on
the items sorted by id, then `page_document` to wrap the page in JSON:API `links` and
`meta.paging`. The cursor names the last id already returned rather than an offset, so a device
added or assigned between two page requests neither repeats nor skips a neighbour.
"""

from __future__ import annotations

import base64
import binascii
import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlencode

from mocks.asm.errors import AsmError

DEFAULT_PAGE_LIMIT = 100
LARGEST_PAGE_LIMIT = 1000
_CURSOR_PREFIX = "after:"

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class PageRequest:
    """How many items the caller asked for and after which id to start."""

    limit: int
    after_id: str | None


@dataclass(frozen=True, kw_only=True)
class Page(Generic[T]):
    """One page of items and, when more remain, the cursor that fetches the next."""

    items: Sequence[T]
    next_cursor: str | None
    total: int
    limit: int


def read_page_request(query: Mapping[str, str]) -> PageRequest:
    """Parse `limit` and `cursor`; out-of-range or malformed values are the caller's error."""
    raw_limit = query.get("limit")
    limit = DEFAULT_PAGE_LIMIT
    if raw_limit is not None:
        if not _is_whole_number(raw_limit) or not 1 <= int(raw_limit) <= LARGEST_PAGE_LIMIT:
            raise AsmError.bad_parameter(
                "limit", f"limit must be a whole number from 1 to {LARGEST_PAGE_LIMIT}"
            )
        limit = int(raw_limit)
    raw_cursor = query.get("cursor")
    after_id = None if raw_cursor is None else _decode_cursor(raw_cursor)
    return PageRequest(limit=limit, after_id=after_id)


def cut_page(items_by_id: Sequence[tuple[str, T]], request: PageRequest) -> Page[T]:
    """Return the page after `request.after_id`; `items_by_id` must be sorted by id."""
    start = 0
    if request.after_id is not None:
        start = bisect.bisect_right(items_by_id, request.after_id, key=lambda pair: pair[0])
    window = items_by_id[start : start + request.limit]
    more_remain = start + request.limit < len(items_by_id)
    next_cursor = _encode_cursor(window[-1][0]) if more_remain and window else None
    return Page(
        items=[item for _, item in window],
        next_cursor=next_cursor,
        total=len(items_by_id),
        limit=request.limit,
    )


def page_document(
    data: list[dict[str, object]], page: Page[T], *, self_url: str, base_query: Mapping[str, str]
) -> dict[str, object]:
    """Wrap a page's resources in the JSON:API envelope with paging links and meta."""
    query_without_cursor = {k: v for k, v in base_query.items() if k != "cursor"}
    links: dict[str, str] = {
        "self": _with_query(self_url, base_query),
        "first": _with_query(self_url, query_without_cursor),
    }
    paging: dict[str, object] = {"limit": page.limit, "total": page.total}
    if page.next_cursor is not None:
        links["next"] = _with_query(self_url, {**query_without_cursor, "cursor": page.next_cursor})
        paging["nextCursor"] = page.next_cursor
    return {"data": data, "links": links, "meta": {"paging": paging}}


def _is_whole_number(text: str) -> bool:
    # str.isdigit() also accepts superscripts such as "¹", which int() then refuses.
    return text.isascii() and text.isdigit()


def _with_query(url: str, query: Mapping[str, str]) -> str:
    return f"{url}?{urlencode(query)}" if query else url


def _encode_cursor(last_id: str) -> str:
    token = base64.urlsafe_b64encode((_CURSOR_PREFIX + last_id).encode()).decode()
    return token.rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    if not decoded.startswith(_CURSOR_PREFIX):
        raise AsmError.bad_parameter("cursor", "cursor was not issued by this server")
    return decoded[len(_CURSOR_PREFIX) :]
