"""Bearer tokens issued by the Jamf Pro mock: user tokens and API-client (OAuth) tokens.

``mocks.jamf_pro.auth`` issues, renews and invalidates tokens here and checks every request's
bearer against it; the control API's "expire all tokens" calls ``expire_all``. Expiry is judged
on the mock clock.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from enum import StrEnum


class TokenKind(StrEnum):
    USER = "USER"
    CLIENT = "CLIENT_CREDENTIALS"


@dataclass(frozen=True, kw_only=True)
class Token:
    value: str
    kind: TokenKind
    subject: str  # username or client id
    scope: tuple[str, ...]
    issued_at: float
    expires_at: float


class TokenStore:
    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}

    def issue(
        self,
        *,
        kind: TokenKind,
        subject: str,
        now: float,
        lifetime: float,
        scope: tuple[str, ...] = (),
    ) -> Token:
        token = Token(
            value=_jwt_like(kind, subject, now, lifetime, scope),
            kind=kind,
            subject=subject,
            scope=scope,
            issued_at=now,
            expires_at=now + lifetime,
        )
        self._tokens[token.value] = token
        return token

    def valid(self, value: str, now: float) -> Token | None:
        token = self._tokens.get(value)
        if token is None:
            return None
        if token.expires_at <= now:
            del self._tokens[value]
            return None
        return token

    def invalidate(self, value: str) -> None:
        self._tokens.pop(value, None)

    def expire_all(self) -> int:
        alive = len(self._tokens)
        self._tokens.clear()
        return alive


def _jwt_like(
    kind: TokenKind, subject: str, now: float, lifetime: float, scope: tuple[str, ...]
) -> str:
    """An opaque token shaped like Jamf's JWTs (clients must not depend on the claims)."""
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {
        "sub": subject,
        "aud": subject if kind is TokenKind.CLIENT else "jamf-pro-mock",
        "authentication-type": str(kind),
        "subject-type": "REGISTERED_CLIENT_ID" if kind is TokenKind.CLIENT else "JSS_USER_ID",
        "scope": list(scope),
        "iat": int(now),
        "nbf": int(now),
        "exp": int(now + lifetime),
        "jti": secrets.token_hex(8),
    }
    parts = [_b64(json.dumps(header)), _b64(json.dumps(claims)), _b64(secrets.token_hex(16))]
    return ".".join(parts)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
