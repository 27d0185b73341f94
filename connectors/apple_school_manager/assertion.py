"""The OAuth client assertion Apple School Manager asks for: an ES256-signed JWT.

Signed with `cryptography`; the signature is the raw 64-byte r||s form JWS needs, not DER.
A fresh assertion (new `jti`) is made for every token request, so none is ever presented twice.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from connectors.base import AuthError


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def load_signing_key(pem: str, *, instance: str) -> ec.EllipticCurvePrivateKey:
    """The downloaded .pem private key; anything but a P-256 EC key is a configuration error."""
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise AuthError(f"{instance}: private_key is not a readable PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise AuthError(f"{instance}: private_key must be the P-256 EC key Apple issued")
    return key


def client_assertion(
    *,
    client_id: str,
    key_id: str,
    key: ec.EllipticCurvePrivateKey,
    audience: str,
    issued_at: datetime,
    lifetime: timedelta = timedelta(minutes=10),
) -> str:
    header = {"alg": "ES256", "kid": key_id, "typ": "JWT"}
    issued = int(issued_at.timestamp())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": issued,
        "exp": issued + int(lifetime.total_seconds()),
        "jti": str(uuid.uuid4()),
    }
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
