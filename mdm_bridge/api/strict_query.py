"""Refuse query parameters a route does not have, naming them.

FastAPI ignores unknown query parameters, so a typo (`/api/v1/devices?clas=5A`) would silently
answer with every iPad the caller may see. Installed app-wide by the factory: the route's own
parameters (its function's and its dependencies') are read from the route; a walk of a few
objects, only for requests that carry a query.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from mdm_bridge.store.errors import FieldError


def _names(dependant: Any) -> frozenset[str]:
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _names(sub)
    return frozenset(names)


def _known(route: Any) -> frozenset[str]:
    dependant = getattr(route, "dependant", None)
    return _names(dependant) if dependant is not None else frozenset()


async def reject_unknown_query(request: Request) -> None:
    route = request.scope.get("route")
    if route is None or not request.query_params:
        return
    known = _known(route)
    unknown = sorted(set(request.query_params.keys()) - known)
    if unknown:
        expected = ", ".join(sorted(known)) or "none"
        raise FieldError(
            unknown[0] or "query",
            f"is not a parameter of this request (it takes: {expected})",
        )
