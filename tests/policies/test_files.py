"""Policy files: the shipped default loads, and each kind of mistake is named by file:line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from policies import DEFAULT_POLICY_DIR, load_policy, validate_policy_files
from schedules import SourceError

DEFAULT_TEXT = (DEFAULT_POLICY_DIR / "policy.yaml").read_text(encoding="utf-8")


def write(folder: Path, text: str) -> Path:
    (folder / "policy.yaml").write_text(text, encoding="utf-8")
    return folder


def line_of(text: str, fragment: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(f"{fragment!r} not in the text")


def edited(old: str, new: str, count: int = 1) -> str:
    assert old in DEFAULT_TEXT, old
    return DEFAULT_TEXT.replace(old, new, count)


def test_the_shipped_default_is_valid() -> None:
    assert validate_policy_files(DEFAULT_POLICY_DIR) == []
    policy = load_policy(DEFAULT_POLICY_DIR)
    assert set(policy.profiles) == {"primary-lower", "primary-upper", "secondary"}
    assert policy.schedule.zone == "Europe/London"


def test_a_copy_of_the_default_loads_the_same(tmp_path: Path) -> None:
    shutil.copy(DEFAULT_POLICY_DIR / "policy.yaml", tmp_path / "policy.yaml")
    assert load_policy(tmp_path) == load_policy(DEFAULT_POLICY_DIR)


@pytest.mark.parametrize(
    ("old", "new", "line_fragment", "message"),
    [
        (
            "{key_stage: ks2, profile: primary-upper}",
            "{key_stage: ks2, profile: primary-middle}",
            "primary-middle",
            "no profile named 'primary-middle'",
        ),
        ("    - level: 3\n", "    - level: 5\n", "level: 5", "expected 3, got 5"),
        (
            "approvers: [senior_leader]\n",
            "approvers: [head_teacher]\n",
            "head_teacher",
            "Input should be",
        ),
        (
            "default_duration: 3d\n",
            "default_duration: three days\n",
            "three days",
            "not a duration",
        ),
        ("repeat_window: 28d", "repeat_window: 1 month", "1 month", "not a duration"),
        (
            "      allowChat: false                 #",
            "      allowChatting: false  #",
            "allowChatting",
            "not a restriction key",
        ),
        ("ratingApps: 300", "ratingApps: lots", "ratingApps: lots", "must be integer"),
        (
            "        - discord.com\n",
            "        - https://discord.com\n",
            "https://discord.com",
            "is not a site",
        ),
        ("  curfew: \"It's", "  curfews: \"It's", "curfews:", "Extra inputs are not permitted"),
        (
            "default_duration: 1w\n",
            "default_duration: 5w\n",
            "default_duration: 5w",
            "longer than the maximum",
        ),
        ("schedule: default", "schedule: nights.yaml", "schedule: nights.yaml", "cannot read"),
    ],
)
def test_mistakes_name_file_line_and_field(
    tmp_path: Path, old: str, new: str, line_fragment: str, message: str
) -> None:
    text = edited(old, new)
    folder = write(tmp_path, text)
    problems = validate_policy_files(folder)
    assert problems, "the mistake was not noticed"
    expected_line = line_of(text, line_fragment)
    matching = [p for p in problems if message in p.message]
    assert matching, [str(p) for p in problems]
    assert matching[0].file == str(folder / "policy.yaml")
    assert matching[0].line == expected_line, [str(p) for p in problems]
    assert str(matching[0]).startswith(f"{folder / 'policy.yaml'}:{expected_line}: ")
    with pytest.raises(SourceError):
        load_policy(folder)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = DEFAULT_TEXT.replace("profile: primary-upper}", "profile: nope}").replace(
        "repeat_window: 28d", "repeat_window: soon"
    )
    problems = validate_policy_files(write(tmp_path, text))
    assert len(problems) == 2


def test_a_missing_policy_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    problems = validate_policy_files(tmp_path)
    assert len(problems) == 1
    assert problems[0].file == str(tmp_path / "policy.yaml")


def test_broken_yaml_names_its_line(tmp_path: Path) -> None:
    text = DEFAULT_TEXT.replace("messages:\n", "messages: [\n", 1)
    problems = validate_policy_files(write(tmp_path, text))
    assert problems
    assert "not valid YAML" in problems[0].message


def test_a_curfew_file_next_to_the_policy_is_used_with_its_own_errors(tmp_path: Path) -> None:
    write(tmp_path, DEFAULT_TEXT.replace("schedule: default", "schedule: nights.yaml"))
    nights = 'name: nights\ntimezone: Europe/London\nwindows:\n  - {start: "21:00", end: "06:00"}\n'
    (tmp_path / "nights.yaml").write_text(nights, encoding="utf-8")
    assert load_policy(tmp_path).schedule.rule.windows[0].start.hour == 21
    (tmp_path / "nights.yaml").write_text(
        nights.replace("Europe/London", "Mars/Olympus"), encoding="utf-8"
    )
    problems = validate_policy_files(tmp_path)
    assert problems
    assert problems[0].file == str(tmp_path / "nights.yaml")
