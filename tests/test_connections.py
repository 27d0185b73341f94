"""MDM connections: credentials sealed at rest, readable only with the same secret key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from mdm_bridge.connections import CredentialError, add_instance, load_instances, seal, unseal
from mdm_bridge.model import Vendor
from mdm_bridge.store import migrate
from mdm_bridge.store.engine import create_database_engine
from mdm_bridge.store.tables import MdmInstance, School

KEY = "s" * 40
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_database_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def test_sealed_credentials_open_only_with_the_same_key() -> None:
    token = seal(KEY, {"client_id": "bridge"}, {"client_secret": "hunter2"})
    assert "hunter2" not in token
    assert unseal(KEY, token, instance="jamf") == (
        {"client_id": "bridge"},
        {"client_secret": "hunter2"},
    )
    with pytest.raises(CredentialError, match="'jamf' cannot be decrypted") as caught:
        unseal("t" * 40, token, instance="jamf")
    assert "hunter2" not in str(caught.value)


def test_a_stored_connection_comes_back_as_connector_config(engine: Engine) -> None:
    with engine.begin() as connection:
        school = connection.execute(
            School.__table__.insert()  # type: ignore[attr-defined]
            .values(name="Oak", timezone="Europe/London", created_at=NOW)
            .returning(School.__table__.c.id)  # type: ignore[attr-defined]
        ).scalar_one()
        arguments = {
            "secret_key": KEY,
            "school_id": school,
            "name": "jamf",
            "vendor": Vendor.JAMF_PRO,
            "base_url": "https://school.jamfcloud.com",
            "now": NOW,
        }
        first = add_instance(
            connection, options={"client_id": "a"}, secrets={"client_secret": "one"}, **arguments
        )
        again = add_instance(
            connection, options={"client_id": "b"}, secrets={"client_secret": "two"}, **arguments
        )
        stored = connection.execute(select(MdmInstance.credentials_encrypted)).scalar_one()  # type: ignore[call-overload]
    assert first == again, "registering the same name again updates it"
    assert "two" not in stored
    with engine.connect() as connection:
        (found,) = load_instances(connection, secret_key=KEY)
    assert found.config.options == {"client_id": "b"}
    assert found.config.secret("client_secret") == "two"
    assert "two" not in repr(found), "secrets never show in a repr (or a log line made of it)"
