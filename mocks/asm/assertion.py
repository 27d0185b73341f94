"""Client-assertion check for the fake Apple School Manager token endpoint.

The token route (`mocks.asm.auth_routes`) hands the form fields of a token request to
`verify_client_assertion`, which either returns the verified claims or raises `AssertionRejected`
carrying the RFC 6749 error code. Everything here is pure: the registered keys, the set of `jti`
values already spent and the current instant are passed in, so tests can drive it directly.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, MutableSet
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

JWT_BEARER_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEFAULT_AUDIENCE = "https://account.apple.com/auth/oauth2/v2/token"
SCHOOL_SCOPE = "school.api"
LONGEST_ASSERTION_LIFETIME = timedelta(days=180)
# A signer's clock may run a little ahead of ours; a minute of slack on `iat` avoids
# rejecting assertions minted "just now" by a client whose clock is slightly fast.
ISSUED_AT_SLACK = timedelta(seconds=60)
_P256_COORDINATE_BYTES = 32


@dataclass(frozen=True, kw_only=True)
class RegisteredClient:
    """An API account as ASM knows it: its id, the id of its key and the public half."""

    client_id: str
    key_id: str
    public_key: ec.EllipticCurvePublicKey


@dataclass(frozen=True, kw_only=True)
class VerifiedAssertion:
    """Claims of an assertion that passed every check; the token issuer needs only these."""

    client_id: str
    jti: str
    expires_at: datetime


class AssertionRejected(Exception):
    """A token request that must be refused; `error` is the RFC 6749 code for the body."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True, kw_only=True)
class AssertionRules:
    """What the fake accepts: the reference by default, switches for its open questions."""

    audiences: frozenset[str] = frozenset({DEFAULT_AUDIENCE})
    single_use_jti: bool = True


def verify_client_assertion(
    form: Mapping[str, str],
    *,
    clients: Mapping[str, RegisteredClient],
    spent_jtis: MutableSet[str],
    now: datetime,
    rules: AssertionRules = AssertionRules(),
) -> VerifiedAssertion:
    """Check a token request's form fields and its signed assertion; remember the spent `jti`."""
    _check_form_fields(form)
    client = clients.get(form["client_id"])
    if client is None:
        raise AssertionRejected("invalid_client", "unknown client_id")
    claims = _decode_and_verify(form["client_assertion"], client)
    jti = _check_claims(claims, client_id=client.client_id, now=now, rules=rules)
    if rules.single_use_jti:
        if jti in spent_jtis:
            raise AssertionRejected("invalid_client", "assertion jti already used")
        spent_jtis.add(jti)
    return VerifiedAssertion(
        client_id=client.client_id,
        jti=jti,
        expires_at=datetime.fromtimestamp(_number_claim(claims, "exp"), tz=UTC),
    )


def _check_form_fields(form: Mapping[str, str]) -> None:
    missing = [
        name
        for name in ("grant_type", "client_id", "client_assertion_type", "client_assertion")
        if not form.get(name)
    ]
    if missing:
        raise AssertionRejected("invalid_request", "missing form field(s): " + ", ".join(missing))
    if form["grant_type"] != "client_credentials":
        raise AssertionRejected("unsupported_grant_type", "grant_type must be client_credentials")
    if form["client_assertion_type"] != JWT_BEARER_ASSERTION_TYPE:
        raise AssertionRejected("invalid_client", "client_assertion_type is not jwt-bearer")
    if form.get("scope") != SCHOOL_SCOPE:
        raise AssertionRejected("invalid_scope", "scope must be school.api")


def _decode_and_verify(compact: str, client: RegisteredClient) -> dict[str, object]:
    """Return the claims of a compact JWS whose header and ES256 signature fit the client."""
    parts = compact.split(".")
    if len(parts) != 3:
        raise AssertionRejected("invalid_client", "client_assertion is not a compact JWS")
    header = _json_segment(parts[0], "header")
    claims = _json_segment(parts[1], "claims")
    if header.get("alg") != "ES256":
        raise AssertionRejected("invalid_client", "assertion must be signed with ES256")
    if header.get("kid") != client.key_id:
        raise AssertionRejected("invalid_client", "kid does not match the client's key")
    signature = _b64url_decode(parts[2], "signature")
    # JWS carries ECDSA signatures as raw r || s; cryptography verifies the DER form.
    if len(signature) != 2 * _P256_COORDINATE_BYTES:
        raise AssertionRejected("invalid_client", "ES256 signature must be 64 bytes")
    r = int.from_bytes(signature[:_P256_COORDINATE_BYTES], "big")
    s = int.from_bytes(signature[_P256_COORDINATE_BYTES:], "big")
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    try:
        client.public_key.verify(
            encode_dss_signature(r, s), signing_input, ec.ECDSA(hashes.SHA256())
        )
    except InvalidSignature:
        raise AssertionRejected("invalid_client", "assertion signature does not verify") from None
    return claims


def _check_claims(
    claims: Mapping[str, object], *, client_id: str, now: datetime, rules: AssertionRules
) -> str:
    """Check who issued the assertion, for whom, and when; return its `jti`."""
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise AssertionRejected("invalid_client", "iss and sub must both equal client_id")
    if claims.get("aud") not in rules.audiences:
        raise AssertionRejected("invalid_client", "aud is not this token endpoint")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise AssertionRejected("invalid_client", "jti must be a non-empty string")
    issued_at = _number_claim(claims, "iat")
    expires_at = _number_claim(claims, "exp")
    now_seconds = now.timestamp()
    if expires_at <= issued_at:
        raise AssertionRejected("invalid_client", "exp must be after iat")
    if expires_at - issued_at > LONGEST_ASSERTION_LIFETIME.total_seconds():
        raise AssertionRejected("invalid_client", "exp is more than 180 days after iat")
    if issued_at > now_seconds + ISSUED_AT_SLACK.total_seconds():
        raise AssertionRejected("invalid_client", "iat is in the future")
    if expires_at <= now_seconds:
        raise AssertionRejected("invalid_client", "assertion has expired")
    return jti


def _number_claim(claims: Mapping[str, object], name: str) -> float:
    value = claims.get(name)
    # bool is an int subclass; `"iat": true` is not a time.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AssertionRejected("invalid_client", f"{name} must be a number of seconds")
    return float(value)


def _json_segment(segment: str, what: str) -> dict[str, object]:
    raw = _b64url_decode(segment, what)
    try:
        decoded = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise AssertionRejected("invalid_client", f"assertion {what} is not JSON") from None
    if not isinstance(decoded, dict):
        raise AssertionRejected("invalid_client", f"assertion {what} is not a JSON object")
    return decoded


def _b64url_decode(segment: str, what: str) -> bytes:
    padded = segment + "=" * (-len(segment) % 4)
    try:
        return base64.urlsafe_b64decode(padded.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise AssertionRejected("invalid_client", f"assertion {what} is not base64url") from None
