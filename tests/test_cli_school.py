"""The technician's commands: policy validate, roster import, plan, ban — errors name the field."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from mdm_bridge.cli import main
from mdm_bridge.cli_school import parse_at
from mdm_bridge.store import audit
from mdm_bridge.store.engine import create_database_engine
from policies import DEFAULT_POLICY_DIR

KEY = "k" * 40
LONDON = ZoneInfo("Europe/London")
ROSTER = """\
serial_number,pupil_reference,pupil_name,year_group,classes,takes_home,parent_meeting_on,declaration_signed_on
SER1,P1,Ada L.,7,7B;Chess club,yes,2026-09-10,2026-09-12
SER2,P2,Ben K.,7,7B,no,,
"""


@pytest.fixture
def runner(clean_environment: pytest.MonkeyPatch) -> CliRunner:
    return CliRunner()


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    return {"MDM_BRIDGE_SECRET_KEY": KEY, "MDM_BRIDGE_DATABASE_URL": database_url}


def test_the_bundled_policy_validates(runner: CliRunner, env: dict[str, str]) -> None:
    result = runner.invoke(main, ["policy", "validate"], env=env)
    assert result.exit_code == 0, result.output
    assert "the policy is valid" in result.output


def test_a_broken_policy_is_reported_with_file_and_line(
    runner: CliRunner, env: dict[str, str], tmp_path: Path
) -> None:
    policy_dir = tmp_path / "policy"
    shutil.copytree(DEFAULT_POLICY_DIR, policy_dir)
    policy_file = policy_dir / "policy.yaml"
    policy_file.write_text(policy_file.read_text() + "\nsurprise: true\n")
    result = runner.invoke(main, ["policy", "validate", str(policy_dir)], env=env)
    assert result.exit_code == 1
    assert f"{policy_file}:" in result.output
    assert "surprise" in result.output
    # and the service refuses to plan with it
    plan = runner.invoke(main, ["plan"], env={**env, "MDM_BRIDGE_POLICY_DIR": str(policy_dir)})
    assert plan.exit_code == 1
    assert "is not valid" in plan.output
    assert "Traceback" not in plan.output


def test_roster_errors_name_line_and_column_and_import_nothing(
    runner: CliRunner, env: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "roster.csv"
    bad.write_text(ROSTER.replace("2026-09-12", "12/09/2026").replace(",7,7B,no", ",seven,7B,no"))
    result = runner.invoke(main, ["roster", "import", str(bad), "--recorded-by", "IT"], env=env)
    assert result.exit_code == 1
    assert f"{bad}:2: declaration_signed_on: '12/09/2026' is not a date" in result.output
    assert f"{bad}:3: year_group: must be a whole number" in result.output
    listed = runner.invoke(main, ["ban", "list", "--pupil", "P1"], env=env)
    assert "no pupil with reference 'P1'" in listed.output, "nothing was half-imported"


def test_a_ban_through_the_cli_follows_the_ladder(
    runner: CliRunner, env: dict[str, str], tmp_path: Path
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    imported = runner.invoke(
        main, ["roster", "import", str(roster), "--recorded-by", "IT"], env=env
    )
    assert imported.exit_code == 0, imported.output
    assert "2 pupils, 0 iPads assigned" in imported.output
    issue = ["ban", "issue", "--pupil", "P1", "--reason", "games in maths", "--by", "Ms T"]
    wrong = runner.invoke(main, [*issue, "--level", "9", "--category", "games"], env=env)
    assert "Error: level: there is no ban level 9" in wrong.output
    too_long = [*issue, "--level", "1", "--category", "games", "--duration", "30d"]
    assert "Error: duration: level 1 lasts at most" in runner.invoke(main, too_long, env=env).output
    ok = runner.invoke(main, [*issue, "--level", "3", "--category", "games"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "level 3, awaiting_approval" in ok.output
    assert "has no iPad assigned" in ok.output
    same = runner.invoke(main, ["ban", "approve", "1", "--by", "Ms T"], env=env)
    assert "approved_by: a second person must approve" in same.output
    approved = runner.invoke(main, ["ban", "approve", "1", "--by", "Mr Head"], env=env)
    assert "level 3, active" in approved.output
    no_reason = runner.invoke(
        main, ["ban", "lift", "1", "--by", "Mr Head", "--reason", " "], env=env
    )
    assert "reason: say why the ban ends early" in no_reason.output
    lifted = runner.invoke(
        main, ["ban", "lift", "1", "--by", "Mr Head", "--reason", "apologised"], env=env
    )
    assert "lifted" in lifted.output
    assert runner.invoke(main, ["ban", "list"], env=env).output.strip().endswith("no bans")
    # every write is in the audit trail under the person named, and refusals left nothing
    trail = audit_trail(env)
    assert [(e.action, e.actor, e.role) for e in trail] == [
        ("roster.import", "IT", "cli"),
        ("ban.issue", "Ms T", "cli"),
        ("ban.approve", "Mr Head", "cli"),
        ("ban.lift", "Mr Head", "cli"),
    ]
    assert trail[0].change["pupils"] == 2
    assert trail[1].target == "ban:1 pupil:P1 level:3"
    assert trail[1].reason == "games in maths"
    assert trail[1].change["status"] == "awaiting_approval"
    assert trail[2].change["status"] == {"before": "awaiting_approval", "after": "active"}
    assert trail[3].reason == "apologised"


def audit_trail(env: dict[str, str]) -> list[audit.Entry]:
    engine = create_database_engine(env["MDM_BRIDGE_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            assert audit.verify(connection, key=audit.audit_key(KEY)).ok
            return audit.search(connection, audit.AuditQuery(), limit=100)
    finally:
        engine.dispose()


def test_registering_an_mdm_is_audited_without_its_secrets(
    runner: CliRunner, env: dict[str, str]
) -> None:
    added = runner.invoke(
        main,
        [
            "mdm", "add", "--name", "jamf", "--vendor", "jamf_pro",
            "--url", "https://school.jamfcloud.com", "--option", "client_id=bridge",
            "--secret", "client_secret=very-secret-value", "--by", "t.tech",
        ],
        env=env,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    [event] = audit_trail(env)
    assert (event.action, event.actor, event.role) == ("mdm.add", "t.tech", "cli")
    assert event.target.endswith("name:jamf")
    assert event.change["secrets"] == ["client_secret"]
    assert "very-secret-value" not in repr(event.change)


def test_plan_at_a_time_reads_school_time() -> None:
    now = datetime(2026, 10, 24, 21, 0, tzinfo=UTC)  # 22:00 BST, the night before the change
    assert parse_at("20:00", now, LONDON) == datetime(2026, 10, 25, 20, 0, tzinfo=UTC)  # GMT
    assert parse_at("23:00", now, LONDON) == datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
    assert parse_at("2026-11-23T20:00", now, LONDON) == datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
