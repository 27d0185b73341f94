"""Field types shared by the API's request models and query parameters.

`Instant` is an ISO 8601 date and time with its offset. Pydantic on its own also takes numbers
(and numeric strings) as Unix timestamps; a teacher's `until=0.5` is a mistake to name, not the
first second of 1970.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator

_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _iso_text(value: Any) -> Any:
    if isinstance(value, str) and not _ISO_DATETIME.match(value):
        raise ValueError("use an ISO 8601 date and time with its offset, e.g. 2026-11-23T20:00Z")
    if isinstance(value, int | float):
        raise ValueError("use an ISO 8601 date and time with its offset, e.g. 2026-11-23T20:00Z")
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_iso_text)]

# The largest id an INTEGER column holds on PostgreSQL: bigger ids in a path or query are a 422,
# not a database error.
MAX_ROW_ID = 2**31 - 1
