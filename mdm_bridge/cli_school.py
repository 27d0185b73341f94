"""CLI commands for technicians: policy validate, plan, reconcile, ban, roster, mdm.

Registered on the `mdm-bridge` group by `mdm_bridge.cli`. Each command reads settings through
the group's context object, so errors in settings, policy files or requests end with a message
naming the setting, file and line or field, never a traceback. Every write (a ban, a roster
import, an MDM connection) is recorded in the audit trail in its transaction, under the
person named by `--by` or `--recorded-by` with the role "cli".
"""

from __future__ import annotations

import asyncio
import getpass
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import click
from sqlalchemy import Connection, Engine, select

from mdm_bridge.clock import SystemClock
from mdm_bridge.connections import add_instance
from mdm_bridge.model import ActionKind, LockCause, Vendor
from mdm_bridge.reconcile.run import Preview, RunSummary
from mdm_bridge.service import PolicyError, Reconciling, read_policy, worker_name
from mdm_bridge.settings import Settings
from mdm_bridge.store import audit, bans, migrate
from mdm_bridge.store.engine import create_database_engine
from mdm_bridge.store.roster import import_roster, parse_roster_csv
from mdm_bridge.store.tables import School
from policies import DEFAULT_POLICY_DIR, CurfewVerdict, Policy, academic_year_of
from policies import validate_policy_files as check_policy
from policies.durations import parse_duration
from schedules.source import SourceError

SCHOOLS = School.__table__  # type: ignore[attr-defined]
UNREACHABLE = timedelta(hours=48)


class SettingsSource(Protocol):
    def settings(self, **overrides: Any) -> Settings: ...


@contextmanager
def database(settings: Settings) -> Iterator[Engine]:
    engine = create_database_engine(settings.database_url)
    try:
        migrate.upgrade(engine)
        yield engine
    finally:
        engine.dispose()


def record(
    connection: Connection,
    settings: Settings,
    *,
    by: str,
    at: datetime,
    action: str,
    target: str,
    reason: str = "",
    **change: object,
) -> None:
    """One audit event for a CLI write, in the write's transaction (never secrets)."""
    audit.append(
        connection,
        key=audit.audit_key(settings.secret_key.get_secret_value()),
        at=at,
        actor=by,
        role="cli",
        action=action,
        target=target,
        reason=reason,
        change=change,
    )


def _ban_target(view: bans.BanView) -> str:
    return f"ban:{view.ban.id} pupil:{view.ban.pupil_reference} level:{view.ban.level}"


def _policy(settings: Settings) -> Policy:
    try:
        return read_policy(settings)
    except PolicyError as error:
        raise click.ClickException(str(error)) from None


def _local(policy: Policy, instant: datetime) -> str:
    return f"{instant.astimezone(ZoneInfo(policy.schedule.zone)):%Y-%m-%d %H:%M}"


# -- policy -----------------------------------------------------------------------------------
@click.group()
def policy() -> None:
    """The school's policy files (curfew, profiles, ban ladder)."""


@policy.command("validate")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), required=False)
@click.pass_obj
def policy_validate(ctx: SettingsSource, directory: Path | None) -> None:
    """Check the policy in DIRECTORY (default: the policy_dir setting, else the bundled one).

    Every problem is listed with file and line; a policy that does not validate is never applied.
    """
    if directory is None:
        directory = ctx.settings().policy_dir or DEFAULT_POLICY_DIR
    problems = check_policy(directory)
    if problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"{len(problems)} problem(s): the policy is not valid")
    click.echo(f"{directory}: the policy is valid")


# -- plan and reconcile -------------------------------------------------------------------------
def parse_at(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """'20:00' (its next occurrence, school time), or an ISO date-time (school time if naive)."""
    try:
        clock_time = time.fromisoformat(text)
    except ValueError:
        pass
    else:
        local_now = now.astimezone(zone)
        candidate = datetime.combine(local_now.date(), clock_time, tzinfo=zone)
        if candidate <= local_now:
            candidate = datetime.combine(
                local_now.date() + timedelta(days=1), clock_time, tzinfo=zone
            )
        return candidate.astimezone(ZoneInfo("UTC"))
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is neither HH:MM nor a date-time like 2026-11-23T20:00", param_hint="--at"
        ) from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=zone)
    return instant.astimezone(ZoneInfo("UTC"))


def describe_preview(preview: Preview, policy: Policy) -> list[str]:
    """The plan in a technician's words: what changes at that time, and why not elsewhere."""
    at = _local(policy, preview.at)
    period = policy.schedule.period_at(preview.at)
    curfew = f"in curfew until {_local(policy, period.end)}" if period else "outside curfew"
    kinds: Counter[ActionKind] = Counter(a.kind for a in preview.actions)
    lock_causes: Counter[LockCause] = Counter(
        a.lock.cause for a in preview.actions if a.kind is ActionKind.LOCK and a.lock
    )
    verdicts = preview.verdicts()
    unreachable = sum(
        1
        for d in preview.devices
        if d.observed is not None
        and d.observed.last_check_in is not None
        and d.observed.last_check_in < preview.at - UNREACHABLE
    )
    blocked: Counter[str] = Counter(d.plan.blocked[0] for d in preview.devices if d.plan.blocked)
    causes = ", ".join(f"{c.value.replace('_', ' ')} {n}" for c, n in sorted(lock_causes.items()))
    lines = [
        f"{at} ({policy.schedule.zone}), {curfew}: {len(preview.devices)} iPads",
        f"  {kinds[ActionKind.LOCK]} iPads lock" + (f" ({causes})" if causes else ""),
        f"  {kinds[ActionKind.UNLOCK]} iPads unlock",
        f"  {kinds[ActionKind.INSTALL_PROFILE]} profile installs, "
        f"{kinds[ActionKind.REMOVE_PROFILE]} removals",
        f"  {verdicts[CurfewVerdict.EXEMPT]} exempt from curfew, "
        f"{verdicts[CurfewVerdict.NOT_HOME_USE]} not home-use",
        f"  {unreachable} unreachable for 48 h or more (no check-in since "
        f"{_local(policy, preview.at - UNREACHABLE)})",
    ]
    for reason, count in blocked.most_common():
        lines.append(f"  {count} cannot be changed: {reason}")
    return lines


@click.command()
@click.option("--at", "at_text", help="When: HH:MM (next occurrence) or 2026-11-23T20:00.")
@click.pass_obj
def plan(ctx: SettingsSource, at_text: str | None) -> None:
    """Print what would change and why, now or at a given time, without changing anything.

    Uses the last observation of every iPad (the MDM is not asked).
    """
    settings = ctx.settings()
    policy_ = _policy(settings)
    now = SystemClock().now()
    zone = ZoneInfo(policy_.schedule.zone)
    at = parse_at(at_text, now, zone) if at_text else now

    async def look() -> Preview:
        service = Reconciling(
            database=engine, clock=SystemClock(), settings=settings, worker=worker_name()
        )
        await service.start()
        try:
            return await asyncio.to_thread(service.preview, at)
        finally:
            await service.stop()

    with database(settings) as engine:
        preview = asyncio.run(look())
    for line in describe_preview(preview, policy_):
        click.echo(line)


def _summary(summary: RunSummary) -> str:
    sent = summary.sent
    text = (
        f"run {summary.run_id}: {summary.devices} iPads, {summary.converged} already right, "
        f"{summary.queued} changes queued, {sent.sent} sent ({sent.accepted} accepted, "
        f"{sent.pending} waiting for the iPad, {sent.failed} failed, {sent.refused} refused), "
        f"{summary.blocked} cannot be changed"
    )
    return text + "".join(f"\n  error: {error}" for error in summary.errors)


async def _run_once(settings: Settings, engine: Engine, *, inventory: bool) -> RunSummary:
    service = Reconciling(
        database=engine, clock=SystemClock(), settings=settings, worker=worker_name()
    )
    await service.start()
    try:
        if inventory:
            await service.sync_inventory()
        return await service.reconcile("mdm-bridge reconcile")
    finally:
        await service.stop()


@click.command()
@click.option("--inventory/--no-inventory", default=True, help="Sync the MDM inventory first.")
@click.pass_obj
def reconcile(ctx: SettingsSource, inventory: bool) -> None:
    """Reconcile every iPad once: observe, plan, send, and report."""
    settings = ctx.settings()
    _policy(settings)
    with database(settings) as engine:
        summary = asyncio.run(_run_once(settings, engine, inventory=inventory))
    click.echo(_summary(summary))


# -- bans ---------------------------------------------------------------------------------------
@click.group()
def ban() -> None:
    """Issue, approve, lift and list bans (the same rules as the API)."""


def _show(view: bans.BanView, policy_: Policy) -> str:
    b = view.ban
    text = (
        f"ban {b.id}: pupil {b.pupil_reference}, level {b.level}, {view.status.value}, "
        f"{_local(policy_, b.starts_at)} to {_local(policy_, b.ends_at)}, "
        f"{b.category}: {b.reason} (by {b.issued_by})"
    )
    if view.suggested_level is not None and view.suggested_level != b.level:
        text += f"\n  note: this pupil's recent history suggests level {view.suggested_level}"
    return text


def _reconcile_pupil(settings: Settings, engine: Engine, pupil: str) -> None:
    with engine.connect() as connection:
        device_ids = bans.devices_of(connection, pupil)
    if not device_ids:
        click.echo(f"  pupil {pupil} has no iPad assigned; nothing to send")
        return

    async def run() -> RunSummary:
        service = Reconciling(
            database=engine, clock=SystemClock(), settings=settings, worker=worker_name()
        )
        await service.start()
        try:
            return await service.reconcile(f"ban change for {pupil}", device_ids)
        finally:
            await service.stop()

    click.echo("  " + _summary(asyncio.run(run())))


@contextmanager
def _ban_errors() -> Iterator[None]:
    try:
        yield
    except bans.BanError as error:
        raise click.ClickException(str(error)) from None


@ban.command("issue")
@click.option("--pupil", required=True, help="The pupil's reference.")
@click.option("--level", type=int, required=True, help="Level on the ban ladder.")
@click.option("--reason", required=True, help="What happened.")
@click.option("--category", required=True, help="Kind of misuse, e.g. 'inappropriate search'.")
@click.option("--by", "issued_by", required=True, help="Who issues it.")
@click.option("--duration", help="e.g. 2d or 48h (default: the level's default).")
@click.option("--notes", default="")
@click.option("--reconcile/--no-reconcile", "now_", default=True, help="Send it at once.")
@click.pass_obj
def ban_issue(
    ctx: SettingsSource,
    pupil: str,
    level: int,
    reason: str,
    category: str,
    issued_by: str,
    duration: str | None,
    notes: str,
    now_: bool,
) -> None:
    """Ban a pupil's iPad; levels that need approval wait for a senior leader."""
    settings = ctx.settings()
    policy_ = _policy(settings)
    length = None
    if duration:
        try:
            length = parse_duration(duration)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--duration") from None
    now = SystemClock().now()
    with database(settings) as engine, _ban_errors():
        with engine.begin() as connection:
            view = bans.issue(
                connection,
                ladder=policy_.ladder,
                pupil=pupil,
                level=level,
                reason=reason,
                category=category,
                issued_by=issued_by,
                notes=notes,
                duration=length,
                now=now,
            )
            record(
                connection,
                settings,
                by=issued_by,
                at=now,
                action="ban.issue",
                target=_ban_target(view),
                reason=view.ban.reason,
                level=view.ban.level,
                category=view.ban.category,
                status=view.status.value,
                starts_at=view.ban.starts_at.isoformat(),
                ends_at=view.ban.ends_at.isoformat(),
                suggested_level=view.suggested_level,
            )
        click.echo(_show(view, policy_))
        if now_:
            _reconcile_pupil(settings, engine, pupil)


@ban.command("approve")
@click.argument("ban_id", type=int)
@click.option("--by", "approved_by", required=True, help="The senior leader approving it.")
@click.option("--reconcile/--no-reconcile", "now_", default=True)
@click.pass_obj
def ban_approve(ctx: SettingsSource, ban_id: int, approved_by: str, now_: bool) -> None:
    """Approve a ban waiting for a second person."""
    settings = ctx.settings()
    policy_ = _policy(settings)
    now = SystemClock().now()
    with database(settings) as engine, _ban_errors():
        with engine.begin() as connection:
            view = bans.approve(
                connection, ladder=policy_.ladder, ban_id=ban_id, approved_by=approved_by, now=now
            )
            record(
                connection,
                settings,
                by=approved_by,
                at=now,
                action="ban.approve",
                target=_ban_target(view),
                status={"before": "awaiting_approval", "after": view.status.value},
                issued_by=view.ban.issued_by,
                ends_at=view.ban.ends_at.isoformat(),
            )
        click.echo(_show(view, policy_))
        if now_:
            _reconcile_pupil(settings, engine, view.ban.pupil_reference)


@ban.command("lift")
@click.argument("ban_id", type=int)
@click.option("--reason", required=True, help="Why it ends early.")
@click.option("--by", "lifted_by", required=True)
@click.option("--reconcile/--no-reconcile", "now_", default=True)
@click.pass_obj
def ban_lift(ctx: SettingsSource, ban_id: int, reason: str, lifted_by: str, now_: bool) -> None:
    """End a ban early, with a reason."""
    settings = ctx.settings()
    policy_ = _policy(settings)
    now = SystemClock().now()
    with database(settings) as engine, _ban_errors():
        with engine.begin() as connection:
            view = bans.lift(
                connection,
                ladder=policy_.ladder,
                ban_id=ban_id,
                lifted_by=lifted_by,
                reason=reason,
                now=now,
            )
            record(
                connection,
                settings,
                by=lifted_by,
                at=now,
                action="ban.lift",
                target=_ban_target(view),
                reason=reason.strip(),
                status=view.status.value,
                ends_at=view.ban.ends_at.isoformat(),
                lifted_at=now.isoformat(),
            )
        click.echo(_show(view, policy_))
        if now_:
            _reconcile_pupil(settings, engine, view.ban.pupil_reference)


@ban.command("list")
@click.option("--pupil", help="Only this pupil's bans.")
@click.option("--all", "everything", is_flag=True, help="Include ended and lifted bans.")
@click.pass_obj
def ban_list(ctx: SettingsSource, pupil: str | None, everything: bool) -> None:
    """List current bans (or all of them)."""
    settings = ctx.settings()
    policy_ = _policy(settings)
    now = SystemClock().now()
    views: list[bans.BanView] = []
    with database(settings) as engine, _ban_errors(), engine.connect() as connection:
        while True:  # a page at a time, as the API lists them
            query = bans.BanQuery(
                pupil=pupil,
                current=None if everything else True,
                after_id=int(views[-1].ban.id) if views else 0,
            )
            page = bans.search(connection, policy_.ladder, now, query, limit=1000)
            views.extend(page)
            if len(page) < 1000:
                break
    for view in views:
        click.echo(_show(view, policy_))
    if not views:
        click.echo("no bans")


# -- roster and MDM connections ---------------------------------------------------------------
def _school_id(engine: Engine, name: str, zone: str) -> int:
    with engine.begin() as connection:
        found = connection.execute(
            select(SCHOOLS.c.id).where(SCHOOLS.c.name == name)
        ).scalar_one_or_none()
        if found is not None:
            return int(found)
        inserted = connection.execute(
            SCHOOLS.insert()
            .values(name=name, timezone=zone, created_at=SystemClock().now())
            .returning(SCHOOLS.c.id)
        )
        return int(inserted.scalar_one())


@click.group()
def roster() -> None:
    """Pupils, classes, which iPad each has, and home-use agreements."""


@roster.command("import")
@click.argument("csv_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--school", default="School", show_default=True)
@click.option("--recorded-by", required=True, help="Who is importing (kept with agreements).")
@click.pass_obj
def roster_import(ctx: SettingsSource, csv_file: Path, school: str, recorded_by: str) -> None:
    """Import CSV_FILE (columns: serial_number, pupil_reference, pupil_name, year_group, classes,
    takes_home, parent_meeting_on, declaration_signed_on). All or nothing."""
    settings = ctx.settings()
    try:
        entries = parse_roster_csv(csv_file.read_text(encoding="utf-8-sig"), str(csv_file))
    except SourceError as error:
        raise click.ClickException(f"the roster was not imported:\n{error}") from None
    now = SystemClock().now()
    with database(settings) as engine:
        school_id = _school_id(engine, school, settings.timezone)
        with engine.begin() as connection:
            report = import_roster(
                connection,
                school_id=school_id,
                entries=entries,
                academic_year=academic_year_of(now.date()),
                recorded_by=recorded_by,
                now=now,
            )
            record(
                connection,
                settings,
                by=recorded_by,
                at=now,
                action="roster.import",
                target=f"school:{school_id} file:{csv_file.name}",
                pupils=report.pupils,
                devices_assigned=report.devices_assigned,
                unknown_serials=len(report.unknown_serials),
                academic_year=academic_year_of(now.date()),
            )
    click.echo(f"{report.pupils} pupils, {report.devices_assigned} iPads assigned")
    if report.unknown_serials:
        click.echo(
            f"{len(report.unknown_serials)} serial numbers are not in the MDM inventory yet "
            f"(run `mdm-bridge reconcile` to sync it): {', '.join(report.unknown_serials[:10])}"
        )


@click.group()
def mdm() -> None:
    """MDM connections (Jamf Pro, Jamf School, Apple School Manager)."""


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    found = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not key:
            raise click.BadParameter(f"{value!r}: expected KEY=VALUE", param_hint=option)
        found[key] = text if sep else click.prompt(f"{key}", hide_input=True)
    return found


@mdm.command("add")
@click.option("--name", required=True, help="A name for this connection, e.g. jamf.")
@click.option("--vendor", type=click.Choice([v.value for v in Vendor]), required=True)
@click.option("--url", "base_url", required=True, help="e.g. https://school.jamfcloud.com")
@click.option("--option", "options", multiple=True, help="KEY=VALUE, e.g. client_id=...")
@click.option("--secret", "secrets", multiple=True, help="KEY (asked for) or KEY=VALUE.")
@click.option("--school", default="School", show_default=True)
@click.option("--by", "added_by", help="Who is registering it (default: cli:<your login>).")
@click.pass_obj
def mdm_add(
    ctx: SettingsSource,
    name: str,
    vendor: str,
    base_url: str,
    options: tuple[str, ...],
    secrets: tuple[str, ...],
    school: str,
    added_by: str | None,
) -> None:
    """Register (or update) an MDM connection; secrets are stored encrypted, never shown."""
    settings = ctx.settings()
    option_values = _pairs(options, "--option")
    secret_values = _pairs(secrets, "--secret")
    now = SystemClock().now()
    with database(settings) as engine:
        school_id = _school_id(engine, school, settings.timezone)
        with engine.begin() as connection:
            instance_id = add_instance(
                connection,
                secret_key=settings.secret_key.get_secret_value(),
                school_id=school_id,
                name=name,
                vendor=Vendor(vendor),
                base_url=base_url,
                options=option_values,
                secrets=secret_values,
                now=now,
            )
            record(
                connection,
                settings,
                by=added_by or f"cli:{getpass.getuser()}",
                at=now,
                action="mdm.add",
                target=f"mdm:{instance_id} name:{name}",
                vendor=vendor,
                base_url=base_url,
                options=sorted(option_values),  # names only: values may identify accounts
                secrets=sorted(secret_values),  # names only, never the secrets
            )
    click.echo(f"MDM connection {name!r} saved (id {instance_id}); secrets stored encrypted")


COMMANDS = (policy, plan, reconcile, ban, roster, mdm)
