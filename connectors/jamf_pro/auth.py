"""Bearer tokens for Jamf Pro, by either kind of account the school can give the bridge.

`JamfProConnector` builds one `token_source(...)` at start; `VendorHttp` asks it for a token before
every request and invalidates it once on a 401. A user account logs in with Basic on
`/api/v1/auth/token`; an API client uses OAuth client credentials on `/api/v1/oauth/token`.
Both tokens are fetched again shortly before they expire. Credentials live only in the request
that needs them: never in a message, a log line or a repr.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from connectors.base import AuthError, ClockLike, ConnectorConfig, PermanentError
from connectors.http import CachedToken, VendorHttp
from connectors.jamf_pro.inventory import parse_instant
from connectors.parsing import field, json_body

USER_TOKEN_PATH = "/api/v1/auth/token"  # noqa: S105 - a path, not a secret
CLIENT_TOKEN_PATH = "/api/v1/oauth/token"  # noqa: S105 - a path, not a secret
JSON = {"Accept": "application/json"}

Fetch = Callable[[], Awaitable[tuple[str, datetime]]]


def refresh_at(now: datetime, lifetime: float) -> datetime:
    """When to fetch the next token: a minute early, or a quarter early for short lifetimes.

    Client tokens may live only 60 s, where a fixed minute of margin would refresh constantly.
    """
    early = min(60.0, lifetime / 4)
    return now + timedelta(seconds=max(0.0, lifetime - early))


class UserLogin:
    """Basic credentials -> a 30-minute bearer token.

    Before expiry it logs in again rather than calling keep-alive: keep-alive kills the token it
    is shown, which would fail every request still in flight with the old one.
    """

    def __init__(self, config: ConnectorConfig, http: VendorHttp, clock: ClockLike) -> None:
        self._instance = config.name
        self._url = config.base_url.rstrip("/") + USER_TOKEN_PATH
        username = config.option("username")
        pair = f"{username}:{config.secret('password')}".encode()
        self._basic = "Basic " + base64.b64encode(pair).decode("ascii")
        self._http = http
        self._clock = clock

    def __repr__(self) -> str:
        return f"UserLogin(instance={self._instance!r})"

    async def fetch(self) -> tuple[str, datetime]:
        try:
            response = await self._http.request(
                "POST",
                self._url,
                authenticated=False,
                idempotent=True,  # a login changes nothing worth protecting
                headers=JSON | {"Authorization": self._basic},
            )
        except (AuthError, PermanentError) as error:
            raise AuthError(
                f"{self._instance}: Jamf Pro refused the user account ({error})"
            ) from None
        body = json_body(response, f"{self._instance} token")
        token = field(body, "token", str)
        expires = parse_instant(field(body, "expires", str), "field expires")
        now = self._clock.now()
        return token, refresh_at(now, (expires - now).total_seconds())


class ClientLogin:
    """API client id and secret -> a bearer token that cannot be kept alive, only replaced."""

    def __init__(self, config: ConnectorConfig, http: VendorHttp, clock: ClockLike) -> None:
        self._instance = config.name
        self._url = config.base_url.rstrip("/") + CLIENT_TOKEN_PATH
        self._client_id = config.option("client_id")
        self._secret = config.secret("client_secret")
        self._scope = config.options.get("scope", "")
        self._http = http
        self._clock = clock

    def __repr__(self) -> str:
        return f"ClientLogin(instance={self._instance!r}, client_id={self._client_id!r})"

    async def fetch(self) -> tuple[str, datetime]:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._secret,
        } | ({"scope": self._scope} if self._scope else {})
        try:
            response = await self._http.request(
                "POST", self._url, authenticated=False, idempotent=True, data=form, headers=JSON
            )
        except (AuthError, PermanentError) as error:
            # invalid_client / invalid_scope come back as 400: the account is wrong, not the call
            raise AuthError(
                f"{self._instance}: Jamf Pro refused the API client ({error})"
            ) from None
        body = json_body(response, f"{self._instance} token")
        token = field(body, "access_token", str)
        lifetime = field(body, "expires_in", int)
        return token, refresh_at(self._clock.now(), float(lifetime))


def token_source(config: ConnectorConfig, http: VendorHttp, clock: ClockLike) -> CachedToken:
    """The account kind follows the options: `client_id` for an API client, else `username`."""
    if config.options.get("client_id"):
        login: UserLogin | ClientLogin = ClientLogin(config, http, clock)
    elif config.options.get("username"):
        login = UserLogin(config, http, clock)
    else:
        raise AuthError(
            f"{config.name}: set either client_id (API client, with secret client_secret) "
            "or username (user account, with secret password)"
        )
    # refresh_at() already leaves the margin, so the cache refreshes exactly at that instant
    return CachedToken(login.fetch, clock, refresh_margin=timedelta(0))
