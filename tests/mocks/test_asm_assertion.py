"""Contract of the ASM client-assertion check (mock-behaviours §8, token endpoint)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from mocks.asm.assertion import (
    JWT_BEARER_ASSERTION_TYPE,
    AssertionRejected,
    AssertionRules,
    verify_client_assertion,
)
from mocks.asm.signing import (
    TestAccount,
    new_test_account,
    private_key_pem,
    public_key_pem,
    sign_client_assertion,
)

NOW = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)


@pytest.fixture
def account() -> TestAccount:
    return new_test_account()


def _form(account: TestAccount, assertion: str, **overrides: str) -> dict[str, str]:
    form = {
        "grant_type": "client_credentials",
        "client_id": account.client.client_id,
        "client_assertion_type": JWT_BEARER_ASSERTION_TYPE,
        "client_assertion": assertion,
        "scope": "school.api",
    }
    form.update(overrides)
    return form


def _verify(account: TestAccount, form: dict[str, str], spent: set[str] | None = None) -> str:
    verified = verify_client_assertion(
        form,
        clients={account.client.client_id: account.client},
        spent_jtis=spent if spent is not None else set(),
        now=NOW,
    )
    return verified.client_id


def test_a_well_formed_assertion_is_accepted(account: TestAccount) -> None:
    assertion = sign_client_assertion(account, issued_at=NOW - timedelta(minutes=1))
    assert _verify(account, _form(account, assertion)) == account.client.client_id


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"client_assertion_type": "urn:example:other"}, "invalid_client"),
        ({"scope": "business.api"}, "invalid_scope"),
        ({"client_id": "SCHOOLAPI.unknown"}, "invalid_client"),
        ({"client_assertion": ""}, "invalid_request"),
        ({"client_assertion": "not-a-jws"}, "invalid_client"),
        ({"client_assertion": "e30.e30.!!!"}, "invalid_client"),
    ],
)
def test_form_field_mistakes_are_refused(
    account: TestAccount, overrides: dict[str, str], error: str
) -> None:
    assertion = sign_client_assertion(account, issued_at=NOW)
    with pytest.raises(AssertionRejected) as refused:
        _verify(account, _form(account, assertion, **overrides))
    assert refused.value.error == error


@pytest.mark.parametrize(
    ("headers", "claims"),
    [
        ({"kid": "another-key"}, {}),
        ({"alg": "HS256"}, {}),
        ({}, {"iss": "SCHOOLAPI.someone-else"}),
        ({}, {"sub": "SCHOOLAPI.someone-else"}),
        ({}, {"aud": "https://appleid.apple.com"}),
        ({}, {"jti": ""}),
        ({}, {"iat": "yesterday"}),
        ({}, {"exp": True}),
    ],
)
def test_each_wrong_header_or_claim_is_invalid_client(
    account: TestAccount, headers: dict[str, object], claims: dict[str, object]
) -> None:
    assertion = sign_client_assertion(
        account, issued_at=NOW, header_overrides=headers, claim_overrides=claims
    )
    with pytest.raises(AssertionRejected) as refused:
        _verify(account, _form(account, assertion))
    assert refused.value.error == "invalid_client"


def test_a_signature_from_another_key_is_refused(account: TestAccount) -> None:
    impostor = new_test_account(client_id=account.client.client_id, key_id=account.client.key_id)
    assertion = sign_client_assertion(impostor, issued_at=NOW)
    with pytest.raises(AssertionRejected, match="signature"):
        _verify(account, _form(account, assertion))


def test_a_tampered_payload_breaks_the_signature(account: TestAccount) -> None:
    header, _, signature = sign_client_assertion(account, issued_at=NOW).split(".")
    other_claims = sign_client_assertion(account, issued_at=NOW).split(".")[1]
    with pytest.raises(AssertionRejected, match="signature"):
        _verify(account, _form(account, f"{header}.{other_claims}.{signature}"))


def test_lifetime_may_reach_but_not_pass_180_days(account: TestAccount) -> None:
    longest = sign_client_assertion(account, issued_at=NOW, lifetime=timedelta(days=180))
    assert _verify(account, _form(account, longest))
    too_long = sign_client_assertion(
        account, issued_at=NOW, lifetime=timedelta(days=180, seconds=1)
    )
    with pytest.raises(AssertionRejected, match="180 days"):
        _verify(account, _form(account, too_long))


def test_expired_and_future_assertions_are_refused(account: TestAccount) -> None:
    expired = sign_client_assertion(
        account, issued_at=NOW - timedelta(days=2), lifetime=timedelta(days=1)
    )
    with pytest.raises(AssertionRejected, match="expired"):
        _verify(account, _form(account, expired))
    from_the_future = sign_client_assertion(account, issued_at=NOW + timedelta(hours=1))
    with pytest.raises(AssertionRejected, match="future"):
        _verify(account, _form(account, from_the_future))


def test_a_jti_is_spent_by_its_first_use(account: TestAccount) -> None:
    spent: set[str] = set()
    assertion = sign_client_assertion(account, issued_at=NOW, jti="only-once")
    _verify(account, _form(account, assertion), spent)
    assert spent == {"only-once"}
    with pytest.raises(AssertionRejected, match="already used"):
        _verify(account, _form(account, assertion), spent)


def test_reuse_can_be_allowed_for_clients_that_cache_their_assertion(
    account: TestAccount,
) -> None:
    assertion = sign_client_assertion(account, issued_at=NOW)
    form = _form(account, assertion)
    clients = {account.client.client_id: account.client}
    rules = AssertionRules(single_use_jti=False)
    spent: set[str] = set()
    for _ in range(2):
        verified = verify_client_assertion(
            form, clients=clients, spent_jtis=spent, now=NOW, rules=rules
        )
        assert verified.expires_at == NOW + timedelta(days=1)


def test_the_downloadable_key_pair_round_trips_through_pem(account: TestAccount) -> None:
    private = load_pem_private_key(private_key_pem(account).encode(), password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    reloaded = TestAccount(client=account.client, private_key=private)
    assertion = sign_client_assertion(reloaded, issued_at=NOW)
    assert _verify(account, _form(account, assertion)) == account.client.client_id
    public = load_pem_public_key(public_key_pem(account).encode())
    assert public == account.client.public_key
