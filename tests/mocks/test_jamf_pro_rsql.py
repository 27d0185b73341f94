"""The RSQL subset used by Jamf Pro filters."""

from __future__ import annotations

from typing import Any

import pytest

from mocks.jamf_pro.rsql import FieldSpec, Kind, RsqlError, compile_filter, equality_values, parse

FIELDS: dict[str, FieldSpec[dict[str, Any]]] = {
    "name": FieldSpec(kind=Kind.STRING, read=lambda r: r["name"]),
    "id": FieldSpec(kind=Kind.NUMBER, read=lambda r: r["id"]),
    "supervised": FieldSpec(kind=Kind.BOOLEAN, read=lambda r: r["supervised"]),
    "seen": FieldSpec(kind=Kind.DATE, read=lambda r: r["seen"]),
    "groupId": FieldSpec(kind=Kind.NUMBER, read=lambda r: r["groups"]),
}
ROWS = [
    {"name": "Amira's iPad", "id": 1, "supervised": True, "seen": 1_700_000_000.0, "groups": [3]},
    {"name": "Ben's iPad", "id": 2, "supervised": False, "seen": 1_800_000_000.0, "groups": []},
    {"name": "Chloe", "id": 3, "supervised": True, "seen": None, "groups": [3, 4]},
]


def ids(text: str) -> list[int]:
    predicate = compile_filter(text, FIELDS)
    return [row["id"] for row in ROWS if predicate(row)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id==2", [2]),
        ("id!=2", [1, 3]),
        ('name=="amira\'s ipad"', [1]),
        ("name=='CHLOE'", [3]),
        ("name==*iPad", [1, 2]),
        ("id=in=(1,3)", [1, 3]),
        ("id=out=(1,3)", [2]),
        ("supervised==true;id>1", [3]),
        ("id==1,id==2", [1, 2]),
        ("supervised==false,(id=ge=2;id=le=3)", [2, 3]),
        ("seen=lt=2025-01-01T00:00:00Z", [1]),
        ("seen>2025-01-01T00:00:00.000Z", [2]),
        ("groupId==4", [3]),
        ("groupId!=3", [2]),
    ],
)
def test_operators(text: str, expected: list[int]) -> None:
    assert ids(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "id=",
        "nope==1",
        "id==x",
        "supervised==maybe",
        "seen>yesterday",
        "id=like=1",
        "(id==1",
        "id==1 junk",
    ],
)
def test_bad_filters_are_refused(text: str) -> None:
    with pytest.raises(RsqlError):
        compile_filter(text, FIELDS)


def test_pinned_values_are_found_for_fast_lookups() -> None:
    assert equality_values(parse("udid==a;name==b"), "udid") == {"a"}
    assert equality_values(parse("udid==a,udid=in=(b,c)"), "udid") == {"a", "b", "c"}
    assert equality_values(parse("udid==a,name==b"), "udid") is None
    assert equality_values(parse("udid!=a"), "udid") is None
