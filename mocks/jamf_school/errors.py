"""Error answers of the fake Jamf School API.

Handlers raise `JamfSchoolError`; `mocks.jamf_school.app` turns it into a response. Jamf School
is not consistent about error bodies, and the fake keeps that: unknown devices get
`{"code": 404, "message": "DeviceNotFound"}`, a key without the right gets the `{"error": {...}}`
405 shape, and an unknown path (or a missing protocol version header) gets a plain-text 404.
"""

from __future__ import annotations

from fastapi.responses import JSONResponse, PlainTextResponse, Response


class JamfSchoolError(Exception):
    """A refused request and the exact response Jamf School would give."""

    def __init__(
        self,
        status: int,
        *,
        json_body: object | None = None,
        text: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status}: {json_body if json_body is not None else text}")
        self.status = status
        self.json_body = json_body
        self.text = text
        self.headers = headers or {}

    @classmethod
    def coded(cls, status: int, message: str) -> JamfSchoolError:
        """The common `{code, message}` body, e.g. `DeviceNotFound`."""
        return cls(status, json_body={"code": status, "message": message})

    @classmethod
    def no_such_route(cls) -> JamfSchoolError:
        return cls(404, text="Not Found")

    @classmethod
    def right_missing(cls, method: str) -> JamfSchoolError:
        message = f"Requested method ({method}) not allowed using this API key"
        return cls(405, json_body={"error": {"code": 405, "message": message}})

    @classmethod
    def unauthenticated(cls) -> JamfSchoolError:
        return cls(
            401,
            json_body={"code": 401, "message": "Unauthorized"},
            headers={"WWW-Authenticate": 'Basic realm="Jamf School API"'},
        )

    def to_response(self) -> Response:
        if self.json_body is not None:
            return JSONResponse(self.json_body, status_code=self.status, headers=self.headers)
        return PlainTextResponse(self.text, status_code=self.status, headers=self.headers)
