"""Property-based run against the OpenAPI document (schemathesis): every operation, under a
staff token, with generated requests; no answer is a 5xx and every answer fits the schema
(status code documented, content type, body shape).

The bridge is served over real HTTP (tests/api/live.py), so generated requests meet the whole
stack: authentication, validation, the store, the reconciler and the mock MDM behind it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from pydantic import SecretStr
from schemathesis.specs.openapi.checks import positive_data_acceptance

from mdm_bridge.api.app import create_app
from mdm_bridge.settings import Settings
from tests.api.live import Live, serve_bridge
from tests.conftest import SECRET_KEY, fresh_database

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with (
        fresh_database(tmp_path_factory.mktemp("openapi")) as url,
        serve_bridge(url, devices=12) as running,
    ):
        yield running


def _document() -> dict[str, object]:
    """The app's OpenAPI document; building the app starts nothing (the lifespan does)."""
    app = create_app(Settings(database_url="sqlite://", secret_key=SecretStr(SECRET_KEY)))
    return app.openapi()


schema = schemathesis.openapi.from_dict(_document())

PROPERTIES = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same examples on every run and machine: CI is repeatable
    database=None,  # and none replayed from an earlier run's failures
)


def _check(case: schemathesis.Case, live: Live, role: str) -> None:
    token = live.bridge.tokens[role]
    case.call_and_validate(
        base_url=live.url,
        headers={"Authorization": f"Bearer {token}"},
        # A schema cannot say "the pupil must exist" or "the end must be after the start", so a
        # request that fits it may rightly be refused (404, 409, 422): that check is left out.
        # Every other default check stays: no 5xx, documented status codes, content types,
        # headers, response bodies that fit the schema, and malformed requests refused.
        excluded_checks=[positive_data_acceptance],
    )


@schema.parametrize()
@PROPERTIES
def test_as_technician(case: schemathesis.Case, live: Live) -> None:
    _check(case, live, "technician")


@schema.parametrize()
@PROPERTIES
def test_as_senior_leader(case: schemathesis.Case, live: Live) -> None:
    _check(case, live, "senior_leader")


@schema.parametrize()
@PROPERTIES
def test_as_teacher(case: schemathesis.Case, live: Live) -> None:
    _check(case, live, "teacher")
