"""The subset of RSQL that Jamf Pro's list endpoints accept in ``filter``.

Supports ``==``, ``!=``, ``=lt=``/``<``, ``=le=``/``<=``, ``=gt=``/``>``, ``=ge=``/``>=``,
``=in=(…)``, ``=out=(…)``, ``;`` (AND, binds tighter), ``,`` (OR), parentheses, quoted values,
case-insensitive string matching and ``*`` wildcards. Route modules describe their fields with
``FieldSpec`` and call ``compile_filter``; a bad filter raises ``RsqlError``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class RsqlError(ValueError):
    pass


class Kind(Enum):
    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"


@dataclass(frozen=True, kw_only=True)
class FieldSpec(Generic[T]):
    kind: Kind
    # Returns one value, None, or a list (for many-valued fields such as a device's groups).
    read: Callable[[T], Any]


@dataclass(frozen=True, kw_only=True)
class Comparison:
    selector: str
    operator: str
    values: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Junction:
    conjunctive: bool  # True = AND (;), False = OR (,)
    parts: tuple[Node, ...]


Node = Comparison | Junction

_ALIASES = {"<": "=lt=", "<=": "=le=", ">": "=gt=", ">=": "=ge="}
_OPERATOR = re.compile(r"==|!=|=[a-z]+=|<=|>=|<|>")
_SELECTOR = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_UNQUOTED = re.compile(r"[^\s\"'(),;=!<>]+")
_SUPPORTED = frozenset({"==", "!=", "=lt=", "=le=", "=gt=", "=ge=", "=in=", "=out="})


def parse(text: str) -> Node:
    parser = _Parser(text)
    node = parser.expression()
    parser.skip_spaces()
    if parser.position != len(text):
        raise RsqlError(f"unexpected text at {parser.position}: {text[parser.position :]!r}")
    return node


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0

    def skip_spaces(self) -> None:
        while self.position < len(self.text) and self.text[self.position].isspace():
            self.position += 1

    def peek(self) -> str:
        self.skip_spaces()
        return self.text[self.position] if self.position < len(self.text) else ""

    def expression(self) -> Node:
        parts = [self.conjunction()]
        while self.peek() == ",":
            self.position += 1
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Junction(conjunctive=False, parts=tuple(parts))

    def conjunction(self) -> Node:
        parts = [self.term()]
        while self.peek() == ";":
            self.position += 1
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else Junction(conjunctive=True, parts=tuple(parts))

    def term(self) -> Node:
        if self.peek() == "(":
            self.position += 1
            node = self.expression()
            if self.peek() != ")":
                raise RsqlError("missing closing parenthesis")
            self.position += 1
            return node
        return self.comparison()

    def comparison(self) -> Comparison:
        self.skip_spaces()
        selector = _SELECTOR.match(self.text, self.position)
        if selector is None:
            raise RsqlError(f"expected a field name at {self.position}")
        self.position = selector.end()
        self.skip_spaces()
        operator = _OPERATOR.match(self.text, self.position)
        if operator is None:
            raise RsqlError(f"expected an operator after {selector.group()!r}")
        self.position = operator.end()
        name = _ALIASES.get(operator.group(), operator.group())
        if name not in _SUPPORTED:
            raise RsqlError(f"unsupported operator {operator.group()!r}")
        values = self.value_list() if name in ("=in=", "=out=") else (self.value(),)
        return Comparison(selector=selector.group(), operator=name, values=values)

    def value_list(self) -> tuple[str, ...]:
        if self.peek() != "(":
            raise RsqlError("=in= and =out= need a parenthesised list")
        self.position += 1
        values = [self.value()]
        while self.peek() == ",":
            self.position += 1
            values.append(self.value())
        if self.peek() != ")":
            raise RsqlError("missing closing parenthesis in value list")
        self.position += 1
        return tuple(values)

    def value(self) -> str:
        quote = self.peek()
        if quote in ("'", '"'):
            end = self.text.find(quote, self.position + 1)
            if end < 0:
                raise RsqlError("unterminated quoted value")
            value = self.text[self.position + 1 : end]
            self.position = end + 1
            return value
        match = _UNQUOTED.match(self.text, self.position)
        if match is None:
            raise RsqlError(f"expected a value at {self.position}")
        self.position = match.end()
        return match.group()


def compile_filter(text: str, fields: Mapping[str, FieldSpec[T]]) -> Callable[[T], bool]:
    """Parse ``text`` and bind it to ``fields``; unknown fields and bad values raise."""
    node = parse(text)
    return _compile(node, {name.casefold(): spec for name, spec in fields.items()})


def equality_values(node: Node, selector: str) -> set[str] | None:
    """Values ``selector`` must equal for ``node`` to hold, when the filter pins them down.

    Lets a route look up candidates by key instead of scanning everything.
    """
    if isinstance(node, Comparison):
        if node.selector.casefold() == selector.casefold() and node.operator in ("==", "=in="):
            if any("*" in value for value in node.values):
                return None
            return set(node.values)
        return None
    if node.conjunctive:
        for part in node.parts:
            found = equality_values(part, selector)
            if found is not None:
                return found
        return None
    collected: set[str] = set()
    for part in node.parts:
        found = equality_values(part, selector)
        if found is None:
            return None
        collected |= found
    return collected


def _compile(node: Node, fields: Mapping[str, FieldSpec[T]]) -> Callable[[T], bool]:
    if isinstance(node, Junction):
        parts = [_compile(part, fields) for part in node.parts]
        if node.conjunctive:
            return lambda item: all(part(item) for part in parts)
        return lambda item: any(part(item) for part in parts)
    spec = fields.get(node.selector.casefold())
    if spec is None:
        raise RsqlError(f"field {node.selector!r} cannot be used in a filter")
    wanted = tuple(_coerce(value, spec.kind) for value in node.values)
    test = _operator_test(node.operator, wanted, spec.kind)
    read = spec.read

    def matches(item: T) -> bool:
        value = read(item)
        values = value if isinstance(value, list) else [value]
        if node.operator in ("!=", "=out="):
            return all(test(v) for v in values)
        return any(test(v) for v in values)

    return matches


def _coerce(raw: str, kind: Kind) -> Any:
    if kind is Kind.BOOLEAN:
        if raw.casefold() not in ("true", "false"):
            raise RsqlError(f"{raw!r} is not true or false")
        return raw.casefold() == "true"
    if kind is Kind.NUMBER:
        try:
            return float(raw)
        except ValueError as error:
            raise RsqlError(f"{raw!r} is not a number") from error
    if kind is Kind.DATE:
        try:
            instant = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError as error:
            raise RsqlError(f"{raw!r} is not an ISO-8601 date") from error
        return (instant if instant.tzinfo else instant.replace(tzinfo=UTC)).timestamp()
    return raw.casefold()


def _normalise(value: Any, kind: Kind) -> Any:
    if value is None:
        return None
    if kind is Kind.STRING:
        return str(value).casefold()
    if kind is Kind.NUMBER:
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    return value


def _operator_test(operator: str, wanted: tuple[Any, ...], kind: Kind) -> Callable[[Any], bool]:
    def equal(value: Any, target: Any) -> bool:
        if kind is Kind.STRING and isinstance(target, str) and "*" in target:
            return value is not None and fnmatch.fnmatchcase(value, target)
        return bool(value == target)

    def normalised(test: Callable[[Any], bool]) -> Callable[[Any], bool]:
        return lambda value: test(_normalise(value, kind))

    target = wanted[0]
    if operator in ("==", "=in="):
        return normalised(lambda v: any(equal(v, w) for w in wanted))
    if operator in ("!=", "=out="):
        return normalised(lambda v: not any(equal(v, w) for w in wanted))
    ordering: dict[str, Callable[[Any], bool]] = {
        "=lt=": lambda v: v is not None and v < target,
        "=le=": lambda v: v is not None and v <= target,
        "=gt=": lambda v: v is not None and v > target,
        "=ge=": lambda v: v is not None and v >= target,
    }
    return normalised(ordering[operator])
