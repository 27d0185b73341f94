"""The one HTTP layer every connector talks through.

A connector hands it an injected `httpx.AsyncClient` (tests pass the mock app through
`httpx.ASGITransport`, or a respx router). It caps concurrent requests per MDM instance, spaces
requests where the vendor has a rate limit, retries with exponential backoff and jitter, honours
`Retry-After`, refreshes the token once on 401, and translates every status and transport error
into one of the three failure kinds through `classify_status` / `classify_exception` — the one
boundary where vendor failures become ours. Writes that may have happened are never repeated
blindly: they raise `UncertainOutcome` and the connector re-reads first.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any, Protocol

import httpx

from connectors.base import (
    AuthError,
    ClockLike,
    ConflictError,
    ConnectorError,
    FailureKind,
    PermanentError,
    TemporaryError,
    UncertainOutcome,
)

Sleep = Callable[[float], Awaitable[None]]
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class Disposition(StrEnum):
    """What the HTTP layer does with an answer or a transport error."""

    SUCCESS = "success"
    REAUTHENTICATE = "reauthenticate"  # 401: refresh once and repeat, then give up as AUTH
    WAIT_RETRY_AFTER = "wait_retry_after"  # 429/503: the server says when
    BACKOFF = "backoff"  # 5xx or a request that never left: back off and repeat
    UNCERTAIN = "uncertain"  # it may have been applied: repeat only if idempotent
    CONFLICT = "conflict"  # 409: the connector re-reads and retries
    PERMANENT = "permanent"
    AUTH = "auth"


FAILURE_KIND: dict[Disposition, FailureKind | None] = {
    Disposition.SUCCESS: None,
    Disposition.REAUTHENTICATE: FailureKind.AUTH,
    Disposition.WAIT_RETRY_AFTER: FailureKind.TEMPORARY,
    Disposition.BACKOFF: FailureKind.TEMPORARY,
    Disposition.UNCERTAIN: FailureKind.TEMPORARY,
    Disposition.CONFLICT: FailureKind.TEMPORARY,
    Disposition.PERMANENT: FailureKind.PERMANENT,
    Disposition.AUTH: FailureKind.AUTH,
}


def classify_status(status: int) -> Disposition:
    """Every HTTP status, mapped to exactly one disposition."""
    if 200 <= status < 300:
        return Disposition.SUCCESS
    if status == 401:
        return Disposition.REAUTHENTICATE
    if status in (403, 407):  # a missing privilege or proxy credentials: configuration
        return Disposition.AUTH
    if status in (429, 503):
        return Disposition.WAIT_RETRY_AFTER
    if status == 409:
        return Disposition.CONFLICT
    if status in (408, 425) or 500 <= status < 600:
        return Disposition.BACKOFF
    return Disposition.PERMANENT  # 1xx/3xx we did not follow, and every other 4xx


# Transport errors by how far the request got. Order matters: subclasses before their bases.
_EXCEPTION_DISPOSITIONS: tuple[tuple[type[Exception], Disposition], ...] = (
    (httpx.ConnectTimeout, Disposition.BACKOFF),  # never reached the server
    (httpx.PoolTimeout, Disposition.BACKOFF),
    (httpx.ConnectError, Disposition.BACKOFF),
    (httpx.ProxyError, Disposition.BACKOFF),
    (httpx.ReadTimeout, Disposition.UNCERTAIN),  # sent; the answer did not come back
    (httpx.WriteTimeout, Disposition.UNCERTAIN),
    (httpx.ReadError, Disposition.UNCERTAIN),
    (httpx.WriteError, Disposition.UNCERTAIN),
    (httpx.RemoteProtocolError, Disposition.UNCERTAIN),
    (httpx.CloseError, Disposition.UNCERTAIN),
    (httpx.UnsupportedProtocol, Disposition.AUTH),  # a wrong base URL is configuration
    (httpx.LocalProtocolError, Disposition.PERMANENT),
    (httpx.DecodingError, Disposition.PERMANENT),
    (httpx.TooManyRedirects, Disposition.AUTH),  # e.g. redirected to a login page
    (httpx.InvalidURL, Disposition.AUTH),
    (httpx.HTTPStatusError, Disposition.PERMANENT),
    (httpx.TimeoutException, Disposition.UNCERTAIN),
    (httpx.NetworkError, Disposition.UNCERTAIN),
    (httpx.TransportError, Disposition.UNCERTAIN),
    (httpx.HTTPError, Disposition.UNCERTAIN),
)


def classify_exception(error: httpx.HTTPError | httpx.InvalidURL) -> Disposition:
    for error_type, disposition in _EXCEPTION_DISPOSITIONS:
        if isinstance(error, error_type):
            return disposition
    return Disposition.UNCERTAIN


class TokenSource(Protocol):
    """Supplies the bearer token; `invalidate` makes the next `token()` fetch a fresh one."""

    async def token(self) -> str: ...

    def invalidate(self) -> None: ...


class CachedToken:
    """A bearer token fetched on demand and refreshed shortly before it expires."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[tuple[str, datetime]]],
        clock: ClockLike,
        *,
        refresh_margin: timedelta = timedelta(seconds=30),
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._margin = refresh_margin
        self._value: str | None = None
        self._expires: datetime | None = None
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        async with self._lock:  # one refresh at a time, whatever the concurrency
            if self._value is None or self._expires is None or self._expired():
                self._value, self._expires = await self._fetch()
            return self._value

    def _expired(self) -> bool:
        assert self._expires is not None
        return self._clock.now() >= self._expires - self._margin

    def invalidate(self) -> None:
        self._value = None


@dataclass(frozen=True, kw_only=True)
class HttpPolicy:
    max_connections: int = 5  # Jamf Pro asks for at most 5 per instance
    attempts: int = 6
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    max_wait: float = 120.0  # a Retry-After longer than this is returned to the caller
    timeout: float = 30.0
    min_interval: float = 0.0  # seconds between request starts (a vendor rate limit)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds())


class VendorHttp:
    """Requests to one MDM instance, with the manners above."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        clock: ClockLike,
        policy: HttpPolicy | None = None,
        auth: TokenSource | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.policy = policy or HttpPolicy()
        self.auth = auth
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._slots = asyncio.Semaphore(self.policy.max_connections)
        self._pace = asyncio.Lock()
        self._last_start: float | None = None

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff for the given attempt (1-based)."""
        ceiling = min(self.policy.backoff_cap, self.policy.backoff_base * 2 ** (attempt - 1))
        return self._rng.uniform(ceiling / 2, ceiling)

    async def _wait_for_pace(self) -> None:
        if self.policy.min_interval <= 0:
            return
        async with self._pace:
            now = self._clock.monotonic()
            if self._last_start is not None:
                gap = self._last_start + self.policy.min_interval - now
                if gap > 0:
                    await self._sleep(gap)
                    now += gap
            self._last_start = now

    async def request(
        self,
        method: str,
        url: str,
        *,
        idempotent: bool | None = None,
        authenticated: bool = True,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one request; return a 2xx response or raise one of the failure kinds."""
        method = method.upper()
        safe_to_repeat = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        what = f"{method} {url.split('?', 1)[0]}"
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            sent_headers = dict(headers or {})
            if authenticated and self.auth is not None:
                sent_headers["Authorization"] = f"Bearer {await self.auth.token()}"
            await self._wait_for_pace()
            response: httpx.Response | None = None
            try:
                async with self._slots:
                    answer = await self.client.request(
                        method, url, headers=sent_headers, timeout=self.policy.timeout, **kwargs
                    )
            except (httpx.HTTPError, httpx.InvalidURL) as error:
                disposition = classify_exception(error)
                detail = f"{what}: {type(error).__name__}"
            else:
                response = answer
                disposition = classify_status(answer.status_code)
                detail = f"{what}: HTTP {answer.status_code}{_summary(answer)}"

            if disposition is Disposition.SUCCESS:
                assert response is not None
                return response
            can_refresh = self.auth is not None and not refreshed
            if disposition is Disposition.REAUTHENTICATE and can_refresh:
                assert self.auth is not None
                self.auth.invalidate()
                refreshed = True
                attempt -= 1  # a refresh is not a failed attempt
                continue
            delay = self.backoff(attempt)
            if disposition is Disposition.WAIT_RETRY_AFTER and response is not None:
                told = parse_retry_after(response.headers.get("Retry-After"), self._clock.now())
                delay = told if told is not None else delay
            repeatable = disposition in (Disposition.WAIT_RETRY_AFTER, Disposition.BACKOFF) or (
                disposition is Disposition.UNCERTAIN and safe_to_repeat
            )
            if disposition is Disposition.BACKOFF and response is not None and not safe_to_repeat:
                # a 5xx answer to a write: it may have been applied before the server failed
                repeatable, disposition = False, Disposition.UNCERTAIN
            if repeatable and attempt < self.policy.attempts and delay <= self.policy.max_wait:
                await self._sleep(delay)
                continue
            failure = _failure(disposition, detail, delay, attempt)
            failure.status = response.status_code if response is not None else None
            raise failure


def _summary(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return f": {text[:200]}" if text else ""


def _failure(disposition: Disposition, detail: str, delay: float, attempts: int) -> ConnectorError:
    if disposition is Disposition.CONFLICT:
        return ConflictError(detail, retry_after=delay)
    if disposition is Disposition.UNCERTAIN:
        return UncertainOutcome(f"{detail} (outcome unknown; re-read first)", retry_after=delay)
    kind = FAILURE_KIND[disposition]
    if kind is FailureKind.TEMPORARY:
        return TemporaryError(f"{detail} (after {attempts} attempts)", retry_after=delay)
    if kind is FailureKind.AUTH:
        return AuthError(detail)
    return PermanentError(detail)
