"""Bearer tokens of the fake Apple School Manager API.

The token route mints tokens here after `mocks.asm.assertion` accepted the client's assertion;
every API route asks `client_for` who holds the bearer token. Tokens live one hour and have no
refresh token: a client mints a fresh one from a new (or cached) assertion. The fault knob
"expire all tokens now" calls `expire_all`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

ACCESS_TOKEN_LIFETIME = timedelta(seconds=3600)


@dataclass(frozen=True, kw_only=True)
class IssuedToken:
    """An access token, the API account it belongs to and the instant it stops working."""

    value: str
    client_id: str
    expires_at: datetime


@dataclass(kw_only=True)
class TokenStore:
    """Every access token issued so far; the expired ones are forgotten lazily."""

    lifetime: timedelta = ACCESS_TOKEN_LIFETIME
    _tokens: dict[str, IssuedToken] = field(default_factory=dict)

    def issue(self, client_id: str, now: datetime) -> IssuedToken:
        token = IssuedToken(
            value=secrets.token_urlsafe(32), client_id=client_id, expires_at=now + self.lifetime
        )
        self._tokens[token.value] = token
        return token

    def client_for(self, value: str, now: datetime) -> str | None:
        """Return the client id behind a live token, or None when it is unknown or expired."""
        token = self._tokens.get(value)
        if token is None:
            return None
        if now >= token.expires_at:
            del self._tokens[value]
            return None
        return token.client_id

    def expire_all(self) -> int:
        """Kill every token at once; return how many were live or not yet swept."""
        count = len(self._tokens)
        self._tokens.clear()
        return count
