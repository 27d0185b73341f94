"""The service's figures for Prometheus: one registry per `Service`, served by `GET /metrics`.

Where each number comes from, and why:
- Run durations (histogram by trigger), actions by kind and outcome (counter), the outbox
  backlog and devices by last night's curfew outcome (gauges) are read from the database at
  scrape time (`StoreCollector`), by a handful of aggregate queries over `reconcile_runs`,
  `outbox` and `curfew_nights`. Those rows are the record of every run, whichever replica
  (or the CLI) made it, so the figures are right after a restart and the same on every
  replica: they are deployment-wide (scrape one replica, or aggregate replicas with `max`).
  The scrape reads no row into Python: the database counts and sums.
- Connector errors by kind and connector are counted in this process (`ConnectorErrors`), as
  each connector call fails: the database does not keep the kind (a temporary failure goes
  back to the queue and is overwritten when the retry succeeds, the executor records an auth
  failure as temporary, observation errors are only text in a run's `errors`). Each connector
  is wrapped once (`ConnectorErrors.watch`, installed by the composition root), so every call
  is seen: observation, sending, inventory. These counters restart at zero with the process
  and are per replica (sum replicas with `sum`).

Trigger texts are free ("curfew starts at 2026-11-23T20:00:00+00:00", "ban change for P0007"),
so runs are labelled by the kind of trigger (`TRIGGER_KINDS`), keeping the label set small.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from sqlalchemy import Connection, Engine, case, extract, func, literal, select

from connectors.base import ActionResult, Connector, ConnectorError, FailureKind, Outcome
from mdm_bridge.clock import Clock
from mdm_bridge.model import Action, DeviceRef, ObservedDevice
from mdm_bridge.store.engine_tables import (
    CURFEW_OUTCOMES,
    OPEN_STATUSES,
    CurfewNight,
    OutboxRow,
    ReconcileRun,
)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
RUNS = ReconcileRun.__table__  # type: ignore[attr-defined]
OUTBOX = OutboxRow.__table__  # type: ignore[attr-defined]
NIGHTS = CurfewNight.__table__  # type: ignore[attr-defined]
DURATION_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
# (LIKE pattern, label), first match wins; anything else is "other" (the CLI, the demo).
TRIGGER_KINDS = (
    ("curfew%", "curfew"),
    ("ban%", "ban"),
    ("drift%", "drift"),
    ("api%", "api"),
)
ERROR_KINDS = {
    FailureKind.TEMPORARY: "temporary",
    FailureKind.PERMANENT: "permanent",
    FailureKind.AUTH: "auth_config",
}
OPERATIONS = ("observe", "apply", "inventory")


def trigger_kind(column: Any) -> Any:
    """SQL: the kind of a run's trigger text."""
    return case(
        *((column.like(pattern), literal(label)) for pattern, label in TRIGGER_KINDS),
        else_=literal("other"),
    )


def _seconds_between(connection: Connection, start: Any, end: Any) -> Any:
    if connection.dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return extract("epoch", end - start)


def run_durations(connection: Connection) -> HistogramMetricFamily:
    family = HistogramMetricFamily(
        "mdm_bridge_reconcile_run_duration_seconds",
        "How long finished reconcile runs took (observe, plan, queue, send), by trigger kind",
        labels=["trigger"],
    )
    seconds = _seconds_between(connection, RUNS.c.started_at, RUNS.c.finished_at)
    kind = trigger_kind(RUNS.c.trigger).label("kind")
    buckets = [func.sum(case((seconds <= bound, 1), else_=0)) for bound in DURATION_BUCKETS]
    query = (
        select(kind, func.count(), func.sum(seconds), *buckets)
        .where(RUNS.c.finished_at.is_not(None))
        .group_by(kind)
        .order_by(kind)
    )
    for label, count, total, *within in connection.execute(query):
        cumulative = [
            (str(bound), float(n or 0)) for bound, n in zip(DURATION_BUCKETS, within, strict=True)
        ]
        cumulative.append(("+Inf", float(count)))
        family.add_metric([label], cumulative, float(total or 0.0))
    return family


def outbox_figures(connection: Connection) -> tuple[CounterMetricFamily, GaugeMetricFamily]:
    actions = CounterMetricFamily(
        "mdm_bridge_actions",
        "Actions finished, by kind and outcome (accepted or pending: the MDM took it; failed, "
        "refused, or superseded before sending)",
        labels=["kind", "outcome"],
    )
    backlog = GaugeMetricFamily(
        "mdm_bridge_outbox_open",
        "Actions not sent yet, by kind and status (queued, claimed by a worker)",
        labels=["kind", "status"],
    )
    outcome = case((OUTBOX.c.status == "sent", OUTBOX.c.outcome), else_=OUTBOX.c.status)
    query = (
        select(OUTBOX.c.kind, outcome.label("outcome"), func.count())
        .group_by(OUTBOX.c.kind, outcome)
        .order_by(OUTBOX.c.kind, outcome)
    )
    for kind, state, count in connection.execute(query):
        if state in OPEN_STATUSES:
            backlog.add_metric([kind, state], float(count))
        else:
            actions.add_metric([kind, str(state)], float(count))
    return actions, backlog


def curfew_outcomes(connection: Connection, clock: Clock) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "mdm_bridge_curfew_devices",
        "iPads by the outcome of the latest curfew night begun (on_time, late, never, "
        "not_applicable)",
        labels=["outcome"],
    )
    night = connection.execute(
        select(func.max(NIGHTS.c.night)).where(NIGHTS.c.starts_at <= clock.now())
    ).scalar_one_or_none()
    counts: dict[str, int] = dict.fromkeys(CURFEW_OUTCOMES, 0)
    if night is not None:
        query = (
            select(NIGHTS.c.outcome, func.count())
            .where(NIGHTS.c.night == night)
            .group_by(NIGHTS.c.outcome)
        )
        counts.update({outcome: int(n) for outcome, n in connection.execute(query)})
    for outcome, count in counts.items():
        family.add_metric([outcome], float(count))
    return family


@dataclass(kw_only=True, eq=False)  # the registry keys its collectors by identity
class StoreCollector:
    """Reads the figures kept in the database at each scrape (see the module docstring)."""

    engine: Engine
    clock: Clock

    def describe(self) -> Iterable[Metric]:
        # Named without querying: registering must not touch a database not migrated yet.
        yield HistogramMetricFamily("mdm_bridge_reconcile_run_duration_seconds", "", labels=[])
        yield CounterMetricFamily("mdm_bridge_actions", "", labels=[])
        yield GaugeMetricFamily("mdm_bridge_outbox_open", "", labels=[])
        yield GaugeMetricFamily("mdm_bridge_curfew_devices", "", labels=[])

    def collect(self) -> Iterable[Metric]:
        with self.engine.connect() as connection:
            durations = run_durations(connection)
            actions, backlog = outbox_figures(connection)
            nights = curfew_outcomes(connection, self.clock)
        return [durations, actions, backlog, nights]


@dataclass(kw_only=True, eq=False)
class ConnectorErrors:
    """Connector failures by connector, kind and operation, counted as they happen.

    A plain collector rather than a `prometheus_client.Counter`: that one also exports a
    `_created` series read from the wall clock, and time here comes only from the clock."""

    counts: dict[tuple[str, str, str], int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)  # scrapes run in a thread

    def count(self, connector: str, kind: FailureKind | None, operation: str, n: int = 1) -> None:
        label = ERROR_KINDS.get(kind or FailureKind.TEMPORARY, "temporary")
        key = (connector, label, operation)
        with self._lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def watch(self, connector: Connector) -> Connector:
        """`connector`, counting its failures here; every kind starts at zero."""
        with self._lock:
            for kind in ERROR_KINDS.values():
                for operation in OPERATIONS:
                    self.counts.setdefault((connector.name, kind, operation), 0)
        return WatchedConnector(inner=connector, errors=self)

    def describe(self) -> Iterable[Metric]:
        yield CounterMetricFamily("mdm_bridge_connector_errors", "", labels=[])

    def collect(self) -> Iterable[Metric]:
        family = CounterMetricFamily(
            "mdm_bridge_connector_errors",
            "Connector failures by kind (temporary, permanent, auth_config) and operation "
            "(observe, apply, inventory): calls that raised, and failed results of a bulk call",
            labels=["connector", "kind", "operation"],
        )
        with self._lock:
            counts = sorted(self.counts.items())
        for labels, n in counts:
            family.add_metric(list(labels), float(n))
        return [family]


class WatchedConnector:
    """A connector wrapped to count its failures; everything else goes straight through."""

    def __init__(self, *, inner: Connector, errors: ConnectorErrors) -> None:
        self.inner = inner
        self.errors = errors
        self.name = inner.name
        self.vendor = inner.vendor
        self.capabilities = inner.capabilities

    def __getattr__(self, name: str) -> Any:  # optional protocols: read_outcomes, list_classes
        return getattr(self.inner, name)

    async def observe(self, devices: Sequence[DeviceRef]) -> list[ObservedDevice]:
        try:
            return await self.inner.observe(devices)
        except ConnectorError as error:
            self.errors.count(self.name, error.kind, "observe")
            raise

    async def apply(self, actions: Sequence[Action]) -> list[ActionResult]:
        try:
            results = await self.inner.apply(actions)
        except ConnectorError as error:
            self.errors.count(self.name, error.kind, "apply")
            raise
        failed: dict[FailureKind | None, int] = {}
        for result in results:
            if result.outcome is Outcome.FAILED:
                failed[result.failure] = failed.get(result.failure, 0) + 1
        for kind, n in failed.items():
            self.errors.count(self.name, kind, "apply", n)
        return results

    async def list_devices(self) -> AsyncIterator[DeviceRef]:
        try:
            async for ref in self.inner.list_devices():
                yield ref
        except ConnectorError as error:
            self.errors.count(self.name, error.kind, "inventory")
            raise

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass(kw_only=True)
class Metrics:
    """The registry of one service instance (several apps live in one test process)."""

    engine: Engine
    clock: Clock
    registry: CollectorRegistry = field(
        default_factory=lambda: CollectorRegistry(auto_describe=True)
    )
    connector_errors: ConnectorErrors = field(init=False)

    def __post_init__(self) -> None:
        self.connector_errors = ConnectorErrors()
        self.registry.register(StoreCollector(engine=self.engine, clock=self.clock))
        self.registry.register(self.connector_errors)

    def render(self) -> bytes:
        """The Prometheus text format 0.0.4 (blocking: it queries the database)."""
        return generate_latest(self.registry)
