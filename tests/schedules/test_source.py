"""Files the school edits: every error names the file, the line and the field."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict

from schedules.source import SourceError, load_yaml, validate


class Window(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: str
    end: str


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    windows: list[Window]


GOOD = """\
name: home
windows:
  - start: "20:00"
    end: "07:00"
"""


def test_a_good_file_loads_with_the_line_of_every_key() -> None:
    located = load_yaml(GOOD, "curfew.yaml")
    assert validate(Document, located).windows[0].end == "07:00"
    assert located.line_of(("windows", 0, "end")) == 4
    assert located.line_of(("windows", 0, "nowhere")) == 3


def test_a_missing_field_names_file_line_and_path() -> None:
    text = GOOD.replace('    end: "07:00"\n', "")
    with pytest.raises(SourceError) as caught:
        validate(Document, load_yaml(text, "curfew.yaml"))
    assert str(caught.value) == "curfew.yaml:3: windows.0.end: Field required"


def test_an_unknown_key_is_reported_on_its_own_line() -> None:
    text = GOOD + "colour: blue\n"
    with pytest.raises(SourceError, match=r"^curfew.yaml:5: colour: Extra inputs"):
        validate(Document, load_yaml(text, "curfew.yaml"))


def test_broken_yaml_names_the_line() -> None:
    with pytest.raises(SourceError, match=r"^curfew.yaml:2: not valid YAML"):
        load_yaml("name: home\n  windows: [1]\nend: x\n", "curfew.yaml")


def test_a_key_written_twice_is_refused() -> None:
    with pytest.raises(SourceError, match=r"^p.yaml:2: name: appears twice"):
        load_yaml("name: a\nname: b\n", "p.yaml")


def test_an_empty_file_is_an_error_for_the_model_not_a_crash() -> None:
    with pytest.raises(SourceError, match=r"^empty.yaml:1: "):
        validate(Document, load_yaml("", "empty.yaml"))
