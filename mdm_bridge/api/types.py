"""Field types shared by the API's request models and query parameters.

`Instant` is an ISO 8601 date and time with its offset, between the years 2000 and 2200.
Pydantic on its own also takes numbers (and numeric strings) as Unix timestamps; a teacher's
`until=0.5` is a mistake to name, not the first second of 1970. The text types carry their
pattern into the OpenAPI document and refuse control characters (PostgreSQL stores no NUL).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, StringConstraints

_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _iso_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATETIME.match(value):
        raise ValueError("use an ISO 8601 date and time with its offset, e.g. 2026-11-23T20:00Z")
    return value


def _plausible(value: datetime) -> datetime:
    # Checked before converting: year 1 or 9999 with an offset overflows in the conversion.
    if not 2000 <= value.year <= 2200:
        raise ValueError("must be between the years 2000 and 2200")
    return value.astimezone(UTC)


Instant = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_plausible)]

# The largest id an INTEGER column holds on PostgreSQL: bigger ids in a path or query are a 422,
# not a database error.
MAX_ROW_ID = 2**31 - 1


# -- field types shared by this package's request models ------------------------------------
# Each text field's pattern is in the OpenAPI document (so a generated request that fits the
# schema is accepted) and checked with a message a teacher can act on. NUL and other control
# characters are refused: PostgreSQL cannot store a NUL.
ROW_ID = MAX_ROW_ID  # the name the request models use
_TEXT = r"[^\x00-\x08\x0b-\x1f\x7f]*"  # printable, newlines and tabs allowed
_MARK = r"[^\s\x00-\x1f\x7f]"  # one visible character
_LINE = r"[^\x00-\x1f\x7f]*"  # printable, one line
TEXT = f"^{_TEXT}{_MARK}{_TEXT}$"  # not blank
LINE = f"^{_LINE}{_MARK}{_LINE}$"  # not blank, one line
ANY_TEXT = f"^{_TEXT}$"  # may be empty
NO_CONTROL = f"^{_LINE}$"  # for names in paths and queries
DURATION = r"^([1-9][0-9]{0,5} ?(m|min|h|d|w)|P[0-9WDTHMS]{2,20})$"


def _matching(pattern: str, message: str) -> Any:
    """The pattern in the schema, and checked here with `message` rather than the regex."""

    def check(text: str) -> str:
        if not re.fullmatch(pattern, text):
            raise ValueError(message)
        return text

    return (Field(json_schema_extra={"pattern": pattern}), AfterValidator(check))


_BLANK_OR_ODD = "must not be blank, nor hold control characters"
Reference = Annotated[
    str, StringConstraints(max_length=64), *_matching(LINE, "one line, not blank")
]
ClassName = Annotated[
    str, StringConstraints(max_length=100), *_matching(LINE, "one line, not blank")
]
Reason = Annotated[str, StringConstraints(max_length=500), *_matching(TEXT, _BLANK_OR_ODD)]
Category = Annotated[str, StringConstraints(max_length=100), *_matching(LINE, _BLANK_OR_ODD)]
Notes = Annotated[
    str,
    StringConstraints(max_length=2000),
    *_matching(ANY_TEXT, "must not hold control characters"),
]
Duration = Annotated[
    str,
    StringConstraints(max_length=20),
    *_matching(DURATION, "write e.g. 30m, 48h, 2d, 1w or ISO 8601 P2D, PT48H"),
]
