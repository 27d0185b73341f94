"""The client side of the ASM client assertion, for tests and the demo.

A real API account's private key never leaves the school, so the fake needs a way for a test (or
`mdm-bridge mock`) to play the school: `new_test_account` makes a P-256 key pair and the matching
`RegisteredClient`, and `sign_client_assertion` signs an assertion with it. Connectors must not
import this: they sign with their own code, which is what the fake is there to check.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from mocks.asm.assertion import DEFAULT_AUDIENCE, RegisteredClient


@dataclass(frozen=True, kw_only=True)
class TestAccount:
    """A freshly generated API account: what ASM registers and what the school keeps."""

    __test__ = False  # a value, not a pytest test class

    client: RegisteredClient
    private_key: ec.EllipticCurvePrivateKey


def new_test_account(
    client_id: str = "SCHOOLAPI.00000000-0000-4000-8000-000000000001",
    key_id: str = "key-1",
) -> TestAccount:
    private_key = ec.generate_private_key(ec.SECP256R1())
    client = RegisteredClient(
        client_id=client_id, key_id=key_id, public_key=private_key.public_key()
    )
    return TestAccount(client=client, private_key=private_key)


def private_key_pem(account: TestAccount) -> str:
    """The PEM file the school would download from the portal (PKCS#8, unencrypted)."""
    return account.private_key.private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    ).decode("ascii")


def public_key_pem(account: TestAccount) -> str:
    """What `POST /_mock/asm/clients` takes to register the account with a running fake."""
    return account.client.public_key.public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def sign_client_assertion(
    account: TestAccount,
    *,
    issued_at: datetime,
    lifetime: timedelta = timedelta(days=1),
    jti: str | None = None,
    header_overrides: dict[str, object] | None = None,
    claim_overrides: dict[str, object] | None = None,
) -> str:
    """A compact ES256 JWS; the overrides let tests forge exactly one wrong field."""
    header: dict[str, object] = {"alg": "ES256", "kid": account.client.key_id, "typ": "JWT"}
    header.update(header_overrides or {})
    claims: dict[str, object] = {
        "iss": account.client.client_id,
        "sub": account.client.client_id,
        "aud": DEFAULT_AUDIENCE,
        "iat": int(issued_at.timestamp()),
        "exp": int((issued_at + lifetime).timestamp()),
        "jti": jti or str(uuid.uuid4()),
    }
    claims.update(claim_overrides or {})
    signing_input = f"{_b64url_json(header)}.{_b64url_json(claims)}"
    der = account.private_key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    raw_signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return f"{signing_input}.{_b64url(raw_signature)}"


def _b64url_json(value: dict[str, object]) -> str:
    return _b64url(json.dumps(value, separators=(",", ":")).encode())


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
