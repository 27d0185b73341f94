"""Curfew rule files (YAML) the technician edits, and the defaults shipped with the bridge.

Called by `policies` and the service when loading a school's configuration; calls
`schedules.source` so that every error names file, line and field.
"""

from __future__ import annotations

from schedules.curfew import CurfewRule


def parse_curfew_rule(text: str, file: str) -> CurfewRule:
    """The curfew rule in YAML `text`, or a SourceError naming file and line of each problem."""
    raise NotImplementedError


def default_curfew_rule() -> CurfewRule:
    """The bundled default: home iPads locked 20:00-07:00 school-local time, every night."""
    raise NotImplementedError
