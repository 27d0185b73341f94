"""Composition root: builds the service's components from settings and runs their life cycle.

The API's lifespan and the CLI call `Service.start`/`stop`; nothing starts at import. Components
start in order and stop in reverse; if one fails to start, those already started are stopped.
Components: the database, the reconciler (the policy: the newest stored policy version, else
the policy files, followed before each run; one connector per stored MDM connection; the
reconcile loop) and the scheduler (active only on the replica holding the lease).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from collections.abc import Callable, Coroutine, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, Protocol

import httpx
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from connectors.base import Connector, ConnectorConfig, ConnectorError
from connectors.registry import PluginLoadError, UnknownConnectorError, load_connector_factory
from mdm_bridge.clock import Clock
from mdm_bridge.connections import build_connector, load_instances, new_client
from mdm_bridge.metrics import ConnectorErrors, Metrics
from mdm_bridge.reconcile.inventory import sync_inventory
from mdm_bridge.reconcile.run import Preview, Reconciler, RunSummary
from mdm_bridge.scheduler import Scheduler
from mdm_bridge.settings import Settings
from mdm_bridge.store import migrate, policy_versions
from mdm_bridge.store.audit import audit_key
from mdm_bridge.store.engine import create_database_engine, database_reachable
from mdm_bridge.store.errors import FieldError
from mdm_bridge.store.status import status as store_status
from policies import DEFAULT_POLICY_DIR, Policy, load_policy, load_policy_texts, policy_texts
from schedules.source import SourceError

log = logging.getLogger(__name__)


class Component(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def ready(self) -> bool: ...


@dataclass(kw_only=True)
class Database:
    """The store: migrated on start when asked, disposed on stop."""

    engine: Engine
    upgrade_on_start: bool
    name: str = "database"

    async def start(self) -> None:
        if self.upgrade_on_start:
            await asyncio.to_thread(migrate.upgrade, self.engine)
            log.info("database schema is at the newest revision")

    async def stop(self) -> None:
        await asyncio.to_thread(self.engine.dispose)

    async def ready(self) -> bool:
        return await asyncio.to_thread(database_reachable, self.engine)


class PolicyError(Exception):
    """The policy files do not validate: the service refuses to apply them."""


def read_policy(settings: Settings, files: Mapping[str, str] | None = None) -> Policy:
    """The policy in `files` (a stored policy version), else in the policy folder."""
    directory = settings.policy_dir or DEFAULT_POLICY_DIR
    try:
        return load_policy(directory) if files is None else load_policy_texts(files)
    except SourceError as error:
        where = directory if files is None else "the stored policy version"
        raise PolicyError(f"the policy in {where} is not valid:\n{error}") from None


def policy_folder_texts(settings: Settings) -> dict[str, str]:
    """The policy folder's files (name -> text): the policy before any change through the API."""
    directory = settings.policy_dir or DEFAULT_POLICY_DIR
    try:
        return policy_texts(directory)
    except SourceError as error:
        raise PolicyError(f"the policy in {directory} is not valid:\n{error}") from None


class _Reading(Mapping[str, str]):
    """Options or secrets that note each key a connector reads, in order."""

    def __init__(self, kind: str, values: Mapping[str, str], read: list[str]) -> None:
        self._kind, self._values, self._read = kind, dict(values), read

    def __getitem__(self, key: str) -> str:
        self._read.append(f"{self._kind}.{key}")
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


async def check_connection_settings(
    vendor: str,
    *,
    name: str,
    base_url: str,
    options: Mapping[str, str],
    secrets: Mapping[str, str],
    clock: Clock,
) -> None:
    """Judge an MDM connection's settings by the vendor's own connector: it is built once,
    offline (nothing is sent), and reads them as it would for real. FieldError names the
    setting at fault (the last one it read), or one it never reads. Messages carry no secret."""
    try:
        factory = load_connector_factory(vendor)
    except (UnknownConnectorError, PluginLoadError) as error:
        raise FieldError("vendor", str(error)) from None
    read: list[str] = []
    config = ConnectorConfig(
        name=name,
        base_url=base_url,
        options=_Reading("options", {"identifier_prefix": "org.mdmbridge."} | dict(options), read),
        secrets=_Reading("secrets", secrets, read),
    )
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(503)))
    try:
        connector: Connector = factory(config, client=client, clock=clock)
        await connector.aclose()
    except (ConnectorError, ValueError, TypeError) as error:
        field = read[-1] if read else "options"
        safe = isinstance(error, ConnectorError) or not field.startswith("secrets.")
        raise FieldError(field, str(error) if safe else f"not valid for {vendor}") from None
    finally:
        await client.aclose()
    unread = [f"options.{key}" for key in options] + [f"secrets.{key}" for key in secrets]
    for field in unread:
        if field not in read:
            raise FieldError(field, f"the {vendor} connector does not use this setting")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(kw_only=True)
class Reconciling:
    """The policy, one connector per stored MDM connection, and the reconcile loop."""

    database: Engine
    clock: Clock
    settings: Settings
    worker: str
    name: str = "reconciler"
    # The HTTP seam: tests hand in clients whose transport is the mock MDM's ASGI app.
    client_factory: Callable[[], httpx.AsyncClient] = new_client
    policy: Policy | None = None
    policy_version: int | None = None  # the stored version in force; None: the folder's files
    reconciler: Reconciler | None = None
    # Counts each connector's failures for /metrics (see mdm_bridge.metrics); None: not counted.
    connector_errors: ConnectorErrors | None = None
    _clients: list[httpx.AsyncClient] = field(default_factory=list)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _building: threading.RLock = field(default_factory=threading.RLock)

    async def start(self) -> None:
        self.policy = read_policy(self.settings)  # an invalid policy is never applied
        try:
            await asyncio.to_thread(self._connect)
        except SQLAlchemyError as error:
            log.error("cannot read the MDM connections yet (%s); will retry", type(error).__name__)

    def follow_policy(self) -> bool:
        """Put the newest stored policy version in force when it is not (a technician changed
        the policy, here or on another replica); True when it changed. One cheap query when
        nothing moved. A version that does not load is logged once and never applied."""
        with self.database.connect() as connection:
            newest = policy_versions.newest_id(connection)
            if newest is None or newest == self.policy_version:
                return False
            stored = policy_versions.newest(connection)
        assert stored is not None
        self.policy_version = stored.id
        try:
            policy = read_policy(self.settings, stored.files)
        except PolicyError as error:
            log.error("policy version %d is not applied: %s", stored.id, error)
            return False
        self.policy = policy
        if self.reconciler is not None:
            self.reconciler.policy = policy
        log.info("policy version %d (%s changed) is in force", stored.id, stored.section)
        return True

    def _connect(self) -> Reconciler:
        """Build one connector per stored MDM connection, once the database answers.

        Called from worker threads (previews) and the reconcile loop alike: one at a time, so
        two callers never both build connectors (one set would never be closed)."""
        with self._building:
            return self._connect_once()

    def _connect_once(self) -> Reconciler:
        self.follow_policy()
        if self.reconciler is not None:
            return self.reconciler
        assert self.policy is not None
        secret = self.settings.secret_key.get_secret_value()
        with self.database.connect() as connection:
            stored = load_instances(connection, secret_key=secret)
        connectors: dict[int, Connector] = {}
        for found in stored:
            client = self.client_factory()
            self._clients.append(client)
            connectors[found.instance_id] = build_connector(
                found,
                client=client,
                clock=self.clock,
                identifier_prefix=self.policy.identifier_prefix + ".",
            )
            if self.connector_errors is not None:
                connectors[found.instance_id] = self.connector_errors.watch(
                    connectors[found.instance_id]
                )
        self.reconciler = Reconciler(
            database=self.database,
            clock=self.clock,
            policy=self.policy,
            connectors=connectors,
            worker=self.worker,
            outbox_lease=timedelta(seconds=self.settings.outbox_lease_seconds),
        )
        log.info("reconciler ready: %d MDM connection(s)", len(connectors))
        return self.reconciler

    def current_policy(self) -> Policy:
        assert self.policy is not None, "the reconciler has not started"
        return self.policy

    async def reconcile(self, trigger: str, device_ids: list[int] | None = None) -> RunSummary:
        """One run at a time in this process; the outbox keeps replicas apart."""
        async with self._lock:
            reconciler = await asyncio.to_thread(self._connect)
            return await reconciler.reconcile(trigger=trigger, device_ids=device_ids)

    def preview(
        self, at: datetime, device_ids: Sequence[int] | None = None, *, policy: Policy | None = None
    ) -> Preview:
        """What a run at `at` would do, from stored observations (the MDM is not asked);
        blocking (it reads the database): call it in a worker thread. `policy`: under that
        policy (a change being considered) instead of the one in force."""
        reconciler = self._connect()
        if policy is not None:
            reconciler = replace(reconciler, policy=policy)
        return reconciler.preview(at, device_ids)

    async def sync_inventory(self) -> int:
        reconciler = await asyncio.to_thread(self._connect)
        listed = 0
        for instance_id, connector in reconciler.connectors.items():
            try:
                listed += await sync_inventory(
                    self.database, instance_id, connector, now=self.clock.now()
                )
            except Exception:
                log.exception("inventory sync of %s failed", connector.name)
        return listed

    async def reconnect(self) -> None:
        """Build the connectors again (an MDM connection was added, changed or removed)."""
        async with self._lock:
            await self._close()

    async def _close(self) -> None:
        reconciler, self.reconciler = self.reconciler, None
        if reconciler is not None:
            for connector in reconciler.connectors.values():
                await connector.aclose()
        for client in self._clients:
            await client.aclose()
        self._clients.clear()

    async def stop(self) -> None:
        await self._close()

    async def ready(self) -> bool:
        return self.reconciler is not None


@dataclass(kw_only=True)
class Service:
    settings: Settings
    clock: Clock
    components: list[Component] = field(default_factory=list)
    _started: list[Component] = field(default_factory=list)

    reconciling: Reconciling | None = None
    scheduler: Scheduler | None = None
    metrics: Metrics | None = None  # this instance's Prometheus registry (GET /metrics)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _soon: set[int] = field(default_factory=set)
    _soon_triggers: set[str] = field(default_factory=set)
    _soon_runner: asyncio.Task[Any] | None = None

    @classmethod
    def build(
        cls,
        settings: Settings,
        clock: Clock,
        *,
        scheduler: bool | None = None,
        client_factory: Callable[[], httpx.AsyncClient] = new_client,
    ) -> Service:
        engine = create_database_engine(settings.database_url)
        database = Database(engine=engine, upgrade_on_start=settings.upgrade_on_start)
        worker = worker_name()
        reconciling = Reconciling(
            database=engine,
            clock=clock,
            settings=settings,
            worker=worker,
            client_factory=client_factory,
        )
        service = cls(settings=settings, clock=clock, components=[database, reconciling])
        service.reconciling = reconciling
        service.metrics = Metrics(engine=engine, clock=clock)
        reconciling.connector_errors = service.metrics.connector_errors
        if settings.scheduler if scheduler is None else scheduler:
            service.scheduler = Scheduler(
                database=engine,
                clock=clock,
                policy=reconciling.current_policy,
                holder=worker,
                reconcile=reconciling.reconcile,
                sync_inventory=reconciling.sync_inventory,
                drift_seconds=settings.drift_interval_seconds,
                inventory_seconds=settings.inventory_interval_seconds,
                lease_seconds=settings.lease_seconds,
                grace_seconds=settings.edge_grace_seconds,
            )
            service.components.append(service.scheduler)
        return service

    async def start(self) -> None:
        for component in self.components:
            try:
                await component.start()
            except BaseException:
                log.error("component %s failed to start; stopping the others", component.name)
                await self.stop()
                raise
            self._started.append(component)
            log.debug("component %s started", component.name)

    @property
    def engine(self) -> Engine:
        assert self.reconciling is not None
        return self.reconciling.database

    @cached_property
    def audit_key(self) -> bytes:
        """The audit trail's HMAC key (derived from the secret key setting)."""
        return audit_key(self.settings.secret_key.get_secret_value())

    def spawn(self, work: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Run `work` in the background (e.g. reconcile a banned pupil's iPads after answering);
        failures are logged, and `stop` waits for what is still running."""
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    def reconcile_soon(self, trigger: str, device_ids: Iterable[int]) -> None:
        """Reconcile these iPads now, in the background (a ban, a hold, an approval).

        Requests that arrive while a run is going are merged into the next run: twenty bans in
        one second make one or two runs over their pupils' iPads, not twenty runs queued on
        the reconciler's lock one behind the other.
        """
        self._soon.update(device_ids)
        self._soon_triggers.add(trigger)
        if self._soon_runner is None or self._soon_runner.done():
            self._soon_runner = self.spawn(self._reconcile_pending(), name="reconcile-soon")

    async def _reconcile_pending(self) -> None:
        assert self.reconciling is not None
        while self._soon:
            devices, self._soon = sorted(self._soon), set()
            trigger = "+".join(sorted(self._soon_triggers))[:100]
            self._soon_triggers.clear()
            try:
                await self.reconciling.reconcile(trigger, devices)
            except Exception:
                log.exception("reconciling %d iPad(s) for %s failed", len(devices), trigger)

    async def settle(self) -> None:
        """Wait for the background tasks started so far (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        await self.settle()
        while self._started:
            component = self._started.pop()
            try:
                await component.stop()
            except Exception:
                log.exception("component %s failed to stop cleanly", component.name)

    async def status(self) -> dict[str, Any]:
        """Figures for operators: last run, latest curfew night, outbox, scheduler role."""
        assert self.reconciling is not None
        engine = self.reconciling.database

        def read() -> dict[str, Any]:
            with engine.connect() as connection:
                return store_status(connection, self.clock.now())

        figures = await asyncio.to_thread(read)
        figures["scheduler"] = (
            {"active": self.scheduler.active, "replica": self.scheduler.holder}
            if self.scheduler
            else {"active": False, "replica": None}
        )
        return figures

    async def readiness(self) -> dict[str, bool]:
        return {component.name: await component.ready() for component in self.components}
