"""``mdm-bridge mock``: serve the mock MDM (Jamf Pro, Jamf School, ASM) over HTTP.

The service's CLI registers ``mock_command``; it builds the apps with ``mocks.compose`` and runs
them with ``mocks.serve``. With several vendors each gets its own port (base +0/+1/+2).
"""

from __future__ import annotations

import asyncio

import click

from mocks.clock import SystemClock, monotonic_seconds
from mocks.common.faults import FaultSettings, OverCapBehaviour
from mocks.compose import VENDORS, MockPlan, build_mock_apps, vendor_ports
from mocks.generate import FleetConfig
from mocks.jamf_pro.state import JamfProSettings
from mocks.jamf_school.state import DEFAULT_API_KEY, DEFAULT_NETWORK_ID
from mocks.serve import serve_forever


def _credentials(vendor: str, jamf_pro: JamfProSettings) -> str:
    if vendor == "jamf-pro":
        user, password = next(iter(jamf_pro.users.items()))
        client_id, client = next(iter(jamf_pro.api_clients.items()))
        return f"user {user} / {password}; API client {client_id} / {client.secret}"
    if vendor == "jamf-school":
        return f"Basic {DEFAULT_NETWORK_ID} / {DEFAULT_API_KEY}"
    return "register an ES256 key: POST /_mock/asm/clients {clientId, keyId, publicKeyPem}"


@click.command(name="mock")
@click.option("--devices", type=click.IntRange(min=1), default=500, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--vendor",
    "vendors",
    type=click.Choice(VENDORS),
    multiple=True,
    help="Serve only these vendors (repeat the option); default: all three.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65533), default=9100, show_default=True)
@click.option("--latency-ms", type=click.FloatRange(min=0), default=0.0, show_default=True)
@click.option("--jitter-ms", type=click.FloatRange(min=0), default=0.0, show_default=True)
@click.option("--error-share", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--drop-share", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--rate-limit-share", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--retry-after", type=click.IntRange(min=1), default=2, show_default=True)
@click.option("--connection-cap", type=click.IntRange(min=1), default=5, show_default=True)
@click.option(
    "--over-cap",
    type=click.Choice([b.value for b in OverCapBehaviour]),
    default=OverCapBehaviour.SLOW.value,
    show_default=True,
)
@click.option("--offline-share", type=click.FloatRange(0, 1), default=0.02, show_default=True)
@click.option(
    "--offline-hours",
    type=(click.FloatRange(min=0.01), click.FloatRange(min=0.01)),
    default=(2.0, 10.0),
    show_default=True,
    help="How long the offline share stays away: a random span between these bounds.",
)
@click.option("--locked-share", type=click.FloatRange(0, 1), default=0.1, show_default=True)
@click.option("--unsupervised-share", type=click.FloatRange(0, 1), default=0.03, show_default=True)
@click.option("--checkin-slowdown", type=click.FloatRange(min=1), default=1.0, show_default=True)
def mock_command(
    devices: int,
    seed: int,
    vendors: tuple[str, ...],
    host: str,
    port: int,
    latency_ms: float,
    jitter_ms: float,
    error_share: float,
    drop_share: float,
    rate_limit_share: float,
    retry_after: int,
    connection_cap: int,
    over_cap: str,
    offline_share: float,
    offline_hours: tuple[float, float],
    locked_share: float,
    unsupervised_share: float,
    checkin_slowdown: float,
) -> None:
    """Serve a simulated school's iPads behind mock Jamf Pro, Jamf School and ASM APIs."""
    if offline_hours[0] > offline_hours[1]:
        raise click.BadParameter(
            "the first bound must not exceed the second", param_hint="--offline-hours"
        )
    plan = MockPlan(
        fleet=FleetConfig(
            devices=devices,
            seed=seed,
            offline_share=offline_share,
            offline_hours=offline_hours,
            locked_share=locked_share,
            unsupervised_share=unsupervised_share,
        ),
        vendors=tuple(v for v in VENDORS if v in vendors) or VENDORS,
        faults=FaultSettings(
            latency_ms=latency_ms,
            jitter_ms=jitter_ms,
            error_share=error_share,
            drop_share=drop_share,
            rate_limit_share=rate_limit_share,
            retry_after_seconds=retry_after,
            connection_cap=connection_cap,
            over_cap=OverCapBehaviour(over_cap),
        ),
        checkin_slowdown=checkin_slowdown,
    )
    started = monotonic_seconds()
    built = build_mock_apps(plan, SystemClock())
    build_seconds = monotonic_seconds() - started
    click.echo(f"Mock fleet of {devices} iPads (seed {seed}) built in {build_seconds:.1f} s")

    def announce(urls: dict[str, str]) -> None:
        for vendor, url in urls.items():
            credentials = _credentials(vendor, plan.jamf_pro)
            click.echo(f"  {vendor:<12} {url}  ({credentials}; control {url}/_mock)")
        click.echo("Press Ctrl+C to stop.")

    ports = vendor_ports(plan.vendors, port)
    asyncio.run(serve_forever(built.apps, ports, host=host, on_ready=announce))
