"""The `mdm-bridge` command line: serve, db, mock, demo, and (from `cli_school`) policy, plan,
reconcile, ban, roster and mdm.

The top of the import graph: reads settings once, sets up logging, then hands over to the API
app factory, the migrations or the mock (`mocks.cli`, registered here; the mock never imports
us). Configuration errors end the command with a message naming the setting, never a traceback.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from mdm_bridge import __version__, serving
from mdm_bridge.api.app import create_app
from mdm_bridge.cli_access import COMMANDS as ACCESS_COMMANDS
from mdm_bridge.cli_school import COMMANDS
from mdm_bridge.clock import FakeClock, SystemClock
from mdm_bridge.demo import NightPlayer, demo_start, demo_tokens, prepare
from mdm_bridge.logs import configure_logging
from mdm_bridge.settings import Settings, SettingsError, load_settings
from mdm_bridge.store import migrate
from mdm_bridge.store.engine import create_database_engine
from mocks.cli import mock_command
from mocks.compose import ASM, JAMF_PRO, MockPlan, build_mock_apps, vendor_ports
from mocks.generate import FleetConfig


@dataclass(frozen=True, kw_only=True)
class _Context:
    settings_file: Path | None

    def settings(self, **overrides: Any) -> Settings:
        try:
            settings = load_settings(self.settings_file, **overrides)
        except SettingsError as error:
            raise click.ClickException(str(error)) from None
        configure_logging(
            log_format=settings.log_format,
            level=settings.log_level,
            secrets=(settings.secret_key.get_secret_value(),),
        )
        return settings


@click.group(name="mdm-bridge", context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--settings",
    "settings_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML settings file (default: $MDM_BRIDGE_SETTINGS_FILE). Environment variables win.",
)
@click.version_option(__version__, prog_name="mdm-bridge")
@click.pass_context
def main(ctx: click.Context, settings_file: Path | None) -> None:
    """mdm-bridge: school iPad curfews, restrictions and bans, enforced through your MDM.

    Settings come from MDM_BRIDGE_* environment variables and an optional settings file;
    see the README for the full table.
    """
    ctx.obj = _Context(settings_file=settings_file)


@main.command()
@click.option("--host", help="Listen address (default: the host setting).")
@click.option("--port", type=int, help="Listen port (default: the port setting).")
@click.option(
    "--no-upgrade", is_flag=True, help="Do not migrate the database on start (it must be current)."
)
@click.pass_obj
def serve(ctx: _Context, host: str | None, port: int | None, no_upgrade: bool) -> None:
    """Run the service: HTTP API, and (as later issues add them) scheduler and workers.

    Migrates the database to the newest schema first unless --no-upgrade is given.
    """
    overrides: dict[str, Any] = {}
    if host:
        overrides["host"] = host
    if port:
        overrides["port"] = port
    if no_upgrade:
        overrides["upgrade_on_start"] = False
    settings = ctx.settings(**overrides)
    listener = serving.Listener(
        name="mdm-bridge", app=create_app(settings), host=settings.host, port=settings.port
    )
    click.echo(f"mdm-bridge API on {listener.url} (docs at {listener.url}/docs)")
    serving.run([listener])


@main.group()
def db() -> None:
    """Database schema: upgrade it, or show its revision."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.pass_obj
def db_upgrade(ctx: _Context, revision: str) -> None:
    """Migrate the database to REVISION (default: the newest). Safe to run twice."""
    settings = ctx.settings()
    engine = create_database_engine(settings.database_url)
    try:
        migrate.upgrade(engine, revision)
        click.echo(f"database at revision {migrate.current_revision(engine)}")
    finally:
        engine.dispose()


@db.command("current")
@click.pass_obj
def db_current(ctx: _Context) -> None:
    """Show the database's schema revision and the newest one this version knows."""
    settings = ctx.settings()
    engine = create_database_engine(settings.database_url)
    try:
        current = migrate.current_revision(engine) or "empty"
        click.echo(f"database: {current}; newest: {migrate.head_revision()}")
    finally:
        engine.dispose()


def _demo_secret(path: Path) -> str:
    """A secret key made once for the demo and kept beside its database (owner-only)."""
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(key + "\n")
    return key


main.add_command(mock_command)
for _command in (*COMMANDS, *ACCESS_COMMANDS):
    main.add_command(_command)


@main.command()
@click.option("--port", type=int, default=8000, show_default=True, help="The service's port.")
@click.option(
    "--mock-port",
    type=int,
    default=9100,
    show_default=True,
    help="First port of the mock MDM (Jamf Pro on it, Apple School Manager on the next).",
)
@click.option("--devices", type=click.IntRange(min=1), default=300, show_default=True)
@click.option("--seed", type=int, default=2026, show_default=True, help="The simulated school.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var/demo"),
    show_default=True,
    help="Where the demo keeps its SQLite database and secret key.",
)
@click.option(
    "--pace",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Real seconds between the night's steps (0: as fast as possible).",
)
@click.option("--no-night", is_flag=True, help="Serve the demo school without playing a night.")
@click.pass_obj
def demo(
    ctx: _Context,
    port: int,
    mock_port: int,
    devices: int,
    seed: int,
    data_dir: Path,
    pace: float,
    no_night: bool,
) -> None:
    """Run a demo school on this machine and play one school night on it.

    The service (SQLite) runs beside a mock Jamf Pro and Apple School Manager serving a simulated
    school of --devices iPads, on a simulated clock starting at 19:50 tonight: restriction
    profiles go on, home iPads lock at 20:00, a teacher bans a pupil, everything unlocks at
    07:00. Each step is printed; the servers keep running afterwards. Nothing to configure:
    the database (fresh on every start) and a secret key go under --data-dir.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    database = data_dir / "mdm-bridge.db"
    for stale in (database, database.with_name(database.name + "-wal")):
        stale.unlink(missing_ok=True)
    settings = ctx.settings(
        database_url=f"sqlite:///{database}",
        secret_key=_demo_secret(data_dir / "secret-key"),
        port=port,
        scheduler=False,  # the night player below triggers the runs on the simulated clock
    )
    today = SystemClock().now().astimezone(ZoneInfo("Europe/London")).date()
    clock = FakeClock(demo_start(today))
    plan = MockPlan(fleet=FleetConfig(devices=devices, seed=seed), vendors=(JAMF_PRO, ASM))
    mock = build_mock_apps(plan, clock)
    ports = vendor_ports(plan.vendors, mock_port)
    app = create_app(settings, clock=clock)
    service = serving.Listener(name="mdm-bridge", app=app, host=settings.host, port=settings.port)
    jamf_pro, asm = (
        serving.Listener(name=vendor, app=mock.apps[vendor], host=settings.host, port=ports[vendor])
        for vendor in plan.vendors
    )
    engine = create_database_engine(settings.database_url)
    try:
        migrate.upgrade(engine)
        prepare(
            engine,
            secret_key=settings.secret_key.get_secret_value(),
            jamf_url=jamf_pro.url,
            fleet=mock.fleets[JAMF_PRO],
            now=clock.now(),
        )
        tokens = demo_tokens(engine, fleet=mock.fleets[JAMF_PRO], now=clock.now())
    finally:
        engine.dispose()
    user, password = next(iter(plan.jamf_pro.users.items()))
    click.echo(f"mdm-bridge demo: a school of {devices} iPads")
    click.echo(
        f"  service API        {service.url}  (docs {service.url}/docs, {service.url}/status)"
    )
    click.echo("  API tokens (send as 'Authorization: Bearer <token>'; valid for this demo run):")
    for role, text in tokens.items():
        click.echo(f"    {role.value:<14} {text}")
    click.echo(f"  mock Jamf Pro      {jamf_pro.url}  (user {user} / {password})")
    click.echo(f"  mock Apple School  {asm.url}")
    click.echo(f"  mock ground truth  {jamf_pro.url}/_mock/devices and {asm.url}/_mock")
    click.echo(f"  data               {data_dir}/")
    click.echo("  stop with Ctrl-C")
    player = NightPlayer(
        app=app, clock=clock, fleet=mock.fleets[JAMF_PRO], say=click.echo, pace=pace
    )
    serving.run([service, jamf_pro, asm], beside=None if no_night else player.play)
