"""Error answers of the fake Apple School Manager API, in its JSON:API `errors` shape.

Route handlers raise `AsmError`; the exception handler installed by `mocks.asm.app` turns it into
the response. OAuth failures of the token endpoint use the RFC 6749 shape instead
(`oauth_error_response`), because that endpoint belongs to Apple's account service.
"""

from __future__ import annotations

import uuid

from fastapi.responses import JSONResponse


class AsmError(Exception):
    """A request the API refuses; carries everything its JSON:API error object needs."""

    def __init__(
        self,
        *,
        status: int,
        code: str,
        title: str,
        detail: str,
        source: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.source = source
        self.headers = headers or {}

    @classmethod
    def bad_parameter(cls, name: str, detail: str) -> AsmError:
        return cls(
            status=400,
            code="PARAMETER_ERROR.INVALID",
            title="A parameter has an invalid value",
            detail=detail,
            source={"parameter": name},
        )

    @classmethod
    def bad_body(cls, pointer: str, detail: str) -> AsmError:
        return cls(
            status=400,
            code="ENTITY_ERROR.ATTRIBUTE.INVALID",
            title="The request body is invalid",
            detail=detail,
            source={"pointer": pointer},
        )

    @classmethod
    def not_found(cls, detail: str) -> AsmError:
        return cls(
            status=404,
            code="NOT_FOUND",
            title="The specified resource does not exist",
            detail=detail,
        )

    @classmethod
    def unprocessable(cls, pointer: str, detail: str) -> AsmError:
        return cls(
            status=422,
            code="ENTITY_UNPROCESSABLE",
            title="The request entity is not processable",
            detail=detail,
            source={"pointer": pointer},
        )

    @classmethod
    def unauthorized(cls) -> AsmError:
        return cls(
            status=401,
            code="NOT_AUTHORIZED",
            title="Authentication credentials are missing or invalid",
            detail="Provide a valid bearer access token",
        )

    @classmethod
    def not_acceptable(cls) -> AsmError:
        return cls(
            status=406,
            code="NOT_ACCEPTABLE",
            title="The requested media type is not available",
            detail="This API answers application/json only",
        )

    @classmethod
    def rate_limited(cls, retry_after_seconds: int) -> AsmError:
        return cls(
            status=429,
            code="RATE_LIMIT_EXCEEDED",
            title="The request rate limit has been reached",
            detail=f"Retry after {retry_after_seconds} seconds",
            headers={"Retry-After": str(retry_after_seconds)},
        )

    def to_response(self) -> JSONResponse:
        error: dict[str, object] = {
            "id": str(uuid.uuid4()),
            "status": str(self.status),
            "code": self.code,
            "title": self.title,
            "detail": self.detail,
        }
        if self.source is not None:
            error["source"] = self.source
        return JSONResponse({"errors": [error]}, status_code=self.status, headers=self.headers)


def oauth_error_response(error: str, description: str) -> JSONResponse:
    """An RFC 6749 error answer from the token endpoint; never cached, like a real one."""
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=400,
        headers={"Cache-Control": "no-store"},
    )
