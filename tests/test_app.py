"""The app: lifespan starts and stops the components, probes answer, errors are problem+json."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from mdm_bridge.api.app import create_app
from mdm_bridge.clock import FakeClock
from mdm_bridge.service import Service
from mdm_bridge.settings import Settings
from mdm_bridge.store import migrate


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings, clock=FakeClock(datetime(2026, 11, 23, 19, 0, tzinfo=UTC)))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bridge") as client:
        yield client


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    checks = {"database": "ok", "reconciler": "ok", "scheduler": "ok"}
    assert response.json() == {"status": "ready", "checks": checks}


async def test_start_migrates_the_database(app: FastAPI) -> None:
    service: Service = app.state.service
    engine = service.components[0].engine  # type: ignore[attr-defined]
    assert migrate.current_revision(engine) == migrate.head_revision()


async def test_openapi_and_docs(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert schema["info"]["title"] == "mdm-bridge"
    assert {"/healthz", "/readyz"} <= set(schema["paths"])
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


async def test_unknown_path_is_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {"type": "about:blank", "title": "Not Found", "status": 404}


async def test_readyz_is_503_when_the_database_is_gone(settings: Settings) -> None:
    # A PostgreSQL port where nothing listens: the process is up, but not ready.
    unreachable = settings.model_copy(
        update={
            "database_url": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1",
            "upgrade_on_start": False,
        }
    )
    app = create_app(unreachable)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as client,
    ):
        assert (await client.get("/healthz")).status_code == 200
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    checks = response.json()["checks"]
    assert checks == {"database": "failing", "reconciler": "failing", "scheduler": "ok"}
    assert "database" in response.json()["detail"]


async def test_start_failure_stops_what_started(settings: Settings) -> None:
    events: list[str] = []

    class Recorder:
        def __init__(self, name: str, *, fail: bool = False) -> None:
            self.name, self.fail = name, fail

        async def start(self) -> None:
            if self.fail:
                raise RuntimeError(f"{self.name} cannot start")
            events.append(f"start {self.name}")

        async def stop(self) -> None:
            events.append(f"stop {self.name}")

        async def ready(self) -> bool:
            return True

    service = Service(
        settings=settings,
        clock=FakeClock(datetime(2026, 1, 1, tzinfo=UTC)),
        components=[Recorder("a"), Recorder("b"), Recorder("c", fail=True)],
    )
    with pytest.raises(RuntimeError, match="c cannot start"):
        await service.start()
    assert events == ["start a", "start b", "stop b", "stop a"]


async def test_repeated_start_and_stop_leaves_no_tasks(settings: Settings) -> None:
    before = asyncio.all_tasks()
    for _ in range(3):
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            pass
    assert asyncio.all_tasks() - before == set()
