"""Files the school edits, read with their line numbers, so every error names file and line.

`load_yaml` parses a YAML document into plain Python values and records, for every mapping key
and list item, the line it sits on. `validate` checks the values against a pydantic model and
turns each validation error into "file:line: field.path: message". Both are pure: the caller
reads the file and passes its text in. Used by `schedules` and `policies` alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Path = tuple[str | int, ...]
Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int  # 1-based
    where: str  # dotted field path, "" for the whole document
    message: str

    def __str__(self) -> str:
        field = f"{self.where}: " if self.where else ""
        return f"{self.file}:{self.line}: {field}{self.message}"


class SourceError(ValueError):
    """One or more problems in a file; nothing from that file may be applied."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass(frozen=True, slots=True)
class Located:
    """A parsed document and the line of every key and item in it."""

    file: str
    value: Any
    lines: dict[Path, int]

    def line_of(self, path: Path) -> int:
        """The line of `path`, or of its nearest ancestor the document has."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return 1

    def problem(self, path: Path, message: str) -> Problem:
        where = ".".join(str(part) for part in path)
        return Problem(self.file, self.line_of(path), where, message)


def load_yaml(text: str, file: str) -> Located:
    """Parse `text` (the content of `file`) with YAML's safe subset, keeping line numbers."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        reason = error.problem or error.context or "not valid YAML"
        raise SourceError([Problem(file, line, "", f"not valid YAML: {reason}")]) from None
    except yaml.YAMLError as error:
        raise SourceError([Problem(file, 1, "", f"not valid YAML: {error}")]) from None
    lines: dict[Path, int] = {(): 1}
    if node is None:
        return Located(file, None, lines)
    loader = yaml.SafeLoader("")
    try:
        value = _build(node, (), lines, loader, file)
    finally:
        loader.dispose()
    return Located(file, value, lines)


def _build(node: yaml.Node, path: Path, lines: dict[Path, int], loader: Any, file: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int) or isinstance(key, bool):
                line = key_node.start_mark.line + 1
                raise SourceError([Problem(file, line, _dotted(path), f"key {key!r} is not text")])
            if key in result:
                line = key_node.start_mark.line + 1
                problem = Problem(file, line, _dotted((*path, key)), "appears twice")
                raise SourceError([problem])
            result[key] = _build(value_node, (*path, key), lines, loader, file)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, (*path, index), lines, loader, file)
            for index, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def _dotted(path: Path) -> str:
    return ".".join(str(part) for part in path)


def validate(model: type[Model], located: Located) -> Model:
    """`located.value` as `model`, or a SourceError naming file, line and field of each error."""
    try:
        return model.model_validate(located.value)
    except ValidationError as error:
        problems = []
        for detail in error.errors(include_url=False):
            path = tuple(part for part in detail["loc"] if isinstance(part, str | int))
            problems.append(located.problem(path, detail["msg"]))
        raise SourceError(problems) from None
