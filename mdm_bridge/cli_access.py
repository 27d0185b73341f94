"""CLI commands for access and accountability: `token create|list|revoke`, `audit verify|export`.

Registered on the `mdm-bridge` group by `mdm_bridge.cli`. A token is printed once, when it is
created, and never again (only its hash is stored). Creating and revoking tokens and exporting
the trail are themselves recorded in the audit trail, under the person named by `--by`.
"""

from __future__ import annotations

import csv
import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import click

from mdm_bridge.cli_school import SettingsSource, database, record
from mdm_bridge.clock import SystemClock
from mdm_bridge.store import access, audit
from mdm_bridge.store.errors import FieldError
from policies import Role
from policies.durations import parse_duration

LONGEST_TOKEN = timedelta(days=400)


def _operator() -> str:
    return f"cli:{getpass.getuser()}"


@contextmanager
def _field_errors() -> Iterator[None]:
    try:
        yield
    except FieldError as error:
        raise click.ClickException(str(error)) from None


# -- token ------------------------------------------------------------------------------------
@click.group()
def token() -> None:
    """API tokens: one per person and role, shown once, with an expiry."""


@token.command("create")
@click.option("--user", required=True, help="The person's school login, e.g. j.smith.")
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
@click.option("--classes", default="", help="Teachers only: their classes, comma-separated.")
@click.option(
    "--expires",
    "expires_text",
    default="90d",
    show_default=True,
    help="How long it lasts: 30d, 12w... (at most 400 days)",
)
@click.option("--description", default="", help="What it is for, e.g. 'Prometheus scrape'.")
@click.option("--by", "created_by", help="Who is creating it (default: cli:<your login>).")
@click.pass_obj
def token_create(
    ctx: SettingsSource,
    user: str,
    role: str,
    classes: str,
    expires_text: str,
    description: str,
    created_by: str | None,
) -> None:
    """Create an API token and print it once."""
    settings = ctx.settings()
    try:
        lifetime = parse_duration(expires_text)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--expires") from None
    if lifetime > LONGEST_TOKEN:
        raise click.BadParameter(
            "at most 400 days; create a new token each year", param_hint="--expires"
        )
    by = created_by or _operator()
    now = SystemClock().now()
    with database(settings) as engine, _field_errors(), engine.begin() as connection:
        text, info = access.create_token(
            connection,
            user=user,
            role=Role(role),
            classes=tuple(classes.split(",")) if classes else (),
            expires_at=now + lifetime,
            now=now,
            created_by=by,
            description=description,
        )
        record(
            connection,
            settings,
            by=by,
            at=now,
            action="token.create",
            target=f"token:{info.id}",
            user=user,
            role=role,
            classes=list(info.classes),
            expires_at=info.expires_at.isoformat(),
        )
    click.echo(
        f"token {info.id} for {info.user} ({info.role.value}), "
        f"expires {info.expires_at:%Y-%m-%d %H:%M} UTC"
    )
    click.echo("Copy it now: it is shown only once.", err=True)
    click.echo(text)


@token.command("list")
@click.option("--user", help="Only this person's tokens.")
@click.pass_obj
def token_list(ctx: SettingsSource, user: str | None) -> None:
    """Every token: who, which role, until when, revoked or not (never the token itself)."""
    now = SystemClock().now()
    with database(ctx.settings()) as engine, engine.connect() as connection:
        found = access.list_tokens(connection, user=user)
    for info in found:
        state = "revoked" if info.revoked_at else "expired" if info.expires_at <= now else "active"
        scope = f" classes={','.join(info.classes)}" if info.classes else ""
        click.echo(
            f"{info.id:>5}  {info.user:<24} {info.role.value:<14} {state:<8} "
            f"expires {info.expires_at:%Y-%m-%d}{scope}  {info.description}"
        )
    if not found:
        click.echo("no tokens")


@token.command("revoke")
@click.argument("token_id", type=int)
@click.option("--reason", required=True, help="Why, e.g. 'left the school', 'token leaked'.")
@click.option("--by", "revoked_by", help="Who is revoking it (default: cli:<your login>).")
@click.pass_obj
def token_revoke(ctx: SettingsSource, token_id: int, reason: str, revoked_by: str | None) -> None:
    """Revoke a token at once; requests with it answer 401 from now on."""
    settings = ctx.settings()
    by = revoked_by or _operator()
    now = SystemClock().now()
    with database(settings) as engine, _field_errors(), engine.begin() as connection:
        info = access.revoke_token(connection, token_id=token_id, revoked_by=by, now=now)
        record(
            connection,
            settings,
            by=by,
            at=now,
            action="token.revoke",
            target=f"token:{info.id}",
            reason=reason,
            user=info.user,
            role=info.role.value,
        )
    click.echo(f"token {info.id} of {info.user} revoked")


# -- audit ------------------------------------------------------------------------------------
@click.group("audit")
def audit_group() -> None:
    """The audit trail: verify its hash chain, export it."""


@audit_group.command("verify")
@click.pass_obj
def audit_verify(ctx: SettingsSource) -> None:
    """Check every event's HMAC and its place in the chain; exit 1 naming the first break."""
    settings = ctx.settings()
    key = audit.audit_key(settings.secret_key.get_secret_value())
    with database(settings) as engine, engine.connect() as connection:
        verdict = audit.verify(connection, key=key)
    if not verdict.ok:
        click.echo(
            f"audit trail BROKEN: {verdict.problem} ({verdict.events} event(s) verified before it)",
            err=True,
        )
        sys.exit(1)
    click.echo(f"audit trail intact: {verdict.events} event(s), chain head {verdict.head_seq}")


@audit_group.command("export")
@click.option(
    "--format", "form", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: standard output).",
)
@click.option("--action", help="Only these actions: exact, or a prefix ending in '.' (ban.)")
@click.option("--actor", help="Only this person's events.")
@click.option("--by", "exported_by", help="Who takes the copy (default: cli:<your login>).")
@click.pass_obj
def audit_export(
    ctx: SettingsSource,
    form: str,
    output: Path | None,
    action: str | None,
    actor: str | None,
    exported_by: str | None,
) -> None:
    """Write the audit trail as CSV or JSON, oldest first."""
    settings = ctx.settings()
    query = audit.AuditQuery(actor=actor, action=action)
    by = exported_by or _operator()
    with database(settings) as engine:
        with engine.begin() as connection:
            record(
                connection,
                settings,
                by=by,
                at=SystemClock().now(),
                action="audit.export",
                target="audit",
                format=form,
                filters={"action": action, "actor": actor},
            )
        sink = output.open("w", newline="") if output else sys.stdout
        try:
            with engine.connect() as connection:
                entries = audit.stream(connection, query)
                if form == "csv":
                    writer = csv.writer(sink)
                    writer.writerow(audit.CSV_COLUMNS)
                    writer.writerows(audit.csv_row(entry) for entry in entries)
                else:
                    json.dump([entry.as_json() for entry in entries], sink, indent=1)
                    sink.write("\n")
        finally:
            if output:
                sink.close()


COMMANDS = (token, audit_group)
