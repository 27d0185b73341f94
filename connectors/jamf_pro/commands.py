"""Managed Lost Mode in bulk through `/api/v2/mdm/commands`, and what became of each command.

`JamfProConnector.apply` hands `send_lost_mode` the lock or unlock actions of a batch, many
devices per request (the devices are named by `managementId`). A 201 means Jamf queued the
commands, which is all an answer can say: the device carries them out at its next check-in,
and `security.lostModeEnabled` flips only then. `command_states` and `pending_commands` read the
MDM's own record afterwards, for `read_outcomes` and `observe`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import httpx

from connectors.base import ActionResult, FailureKind, Outcome, PermanentError
from connectors.http import VendorHttp
from connectors.jamf_pro.inventory import PAGE_SIZE, parse_instant
from connectors.parsing import field, json_body
from mdm_bridge.model import Action, CommandStatus, PendingCommand

COMMANDS_PATH = "/api/v2/mdm/commands"
JSON = {"Accept": "application/json"}
# Management ids are 36 characters; a hundred of them keep a status filter's URL short.
IDS_PER_STATUS_READ = 100


class LostModeCommand(StrEnum):
    """The only command types the bridge sends; checked here because Jamf would turn a
    misspelt type into null and fail the whole request."""

    ENABLE = "ENABLE_LOST_MODE"
    DISABLE = "DISABLE_LOST_MODE"


# Jamf's command type -> our action vocabulary, for pending commands we report.
ACTION_WORDS = {LostModeCommand.ENABLE.value: "lock", LostModeCommand.DISABLE.value: "unlock"}

COMMAND_STATES = {
    "PENDING": CommandStatus.PENDING,
    "ACKNOWLEDGED": CommandStatus.ACKNOWLEDGED,
    "NOT_NOW": CommandStatus.NOT_NOW,
    "ERROR": CommandStatus.ERROR,
    "COMMAND_FORMAT_ERROR": CommandStatus.ERROR,
}


@dataclass(frozen=True, kw_only=True)
class LostModeText:
    """What a locked iPad shows; Jamf needs a message or a phone number."""

    phone: str = ""
    footnote: str = ""


async def send_lost_mode(
    http: VendorHttp,
    base_url: str,
    command: LostModeCommand,
    actions: Sequence[Action],
    *,
    message: str = "",
    text: LostModeText,
) -> list[ActionResult]:
    """One request for all `actions`; every result is ACCEPTED when Jamf queued them."""
    command_data: dict[str, str] = {"commandType": LostModeCommand(command).value}
    if command is LostModeCommand.ENABLE:
        command_data["lostModeMessage"] = message
        if text.phone:
            command_data["lostModePhone"] = text.phone
        if text.footnote:
            command_data["lostModeFootnote"] = text.footnote
    client_data = [{"managementId": action.device.management_id} for action in actions]
    response = await http.request(
        "POST",
        base_url + COMMANDS_PATH,
        json={"clientData": client_data, "commandData": command_data},
        headers=JSON,
    )
    references = _references(_json_or_none(response), len(actions))
    return [
        ActionResult(
            action=action,
            outcome=Outcome.ACCEPTED,
            detail="queued in Jamf Pro; the device applies it at its next check-in",
            vendor_reference=reference,
        )
        for action, reference in zip(actions, references, strict=True)
    ]


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:  # json's decode error and a body that is not text both land here
        return None


def _references(body: Any, count: int) -> list[str | None]:
    """Command ids, paired with devices by position when Jamf returns one per device.

    The 201 status alone says the commands were queued; the body's shape (one entry per
    device, in order) is not documented, so ids are only a hint that `command_states` checks
    against each record's managementId before trusting it.
    """
    if not isinstance(body, list) or len(body) != count:
        return [None] * count
    ids = [entry.get("id") if isinstance(entry, dict) else None for entry in body]
    return [value if isinstance(value, str) and value else None for value in ids]


@dataclass(frozen=True, kw_only=True)
class CommandRecord:
    uuid: str
    management_id: str
    command_type: str
    status: CommandStatus | None  # None: a state we do not know
    sent_at: datetime
    error: str


async def command_records(
    http: VendorHttp, base_url: str, rsql: str, what: str
) -> list[CommandRecord]:
    """Every command record matching an RSQL filter (Jamf refuses the listing without one)."""
    records: list[CommandRecord] = []
    page = 0
    while True:
        params = {"filter": rsql, "page": page, "page-size": PAGE_SIZE}
        response = await http.request("GET", base_url + COMMANDS_PATH, params=params, headers=JSON)
        label = f"{what} page {page}"
        document = json_body(response, label)
        total = field(document, "totalCount", int)
        items = field(document, "results", list)
        records += [_record(document, index, label) for index in range(len(items))]
        page += 1
        if not items or page * PAGE_SIZE >= total:
            return records


def _record(document: Any, index: int, label: str) -> CommandRecord:
    item = f"results[{index}]"
    try:
        state = field(document, f"{item}.commandState", str)
        error = field(document, f"{item}.commandError", dict, optional=True) or {}
        sent = field(document, f"{item}.dateSent", str)
        return CommandRecord(
            uuid=field(document, f"{item}.uuid", str),
            management_id=field(document, f"{item}.client.managementId", str),
            command_type=field(document, f"{item}.commandType", str),
            status=COMMAND_STATES.get(state.upper()),
            sent_at=parse_instant(sent, f"field {item}.dateSent"),
            error=str(error.get("errorEnglishDescription") or error.get("errorCode") or ""),
        )
    except PermanentError as error:
        raise PermanentError(f"{label}: {error.message}") from None


def rsql_in(selector: str, values: Sequence[str]) -> str:
    quoted = ",".join(f'"{value}"' for value in values)
    return f"{selector}=in=({quoted})"


async def pending_commands(
    http: VendorHttp, base_url: str, management_ids: Sequence[str], what: str
) -> dict[str, tuple[PendingCommand, ...]]:
    """Lock and unlock commands still waiting for each device, oldest first."""
    found: dict[str, list[PendingCommand]] = {}
    for start in range(0, len(management_ids), IDS_PER_STATUS_READ):
        chunk = management_ids[start : start + IDS_PER_STATUS_READ]
        rsql = rsql_in("clientManagementId", chunk) + ";status==PENDING"
        for record in await command_records(http, base_url, rsql, what):
            word = ACTION_WORDS.get(record.command_type)
            if word is None or record.status is not CommandStatus.PENDING:
                continue
            found.setdefault(record.management_id, []).append(
                PendingCommand(command_id=record.uuid, kind=word, queued_at=record.sent_at)
            )
    return {key: tuple(sorted(items, key=lambda c: c.queued_at)) for key, items in found.items()}


def settled(result: ActionResult, record: CommandRecord | None) -> ActionResult:
    """An accepted result re-judged by Jamf's record of its command."""
    if record is None or record.management_id != result.action.device.management_id:
        return result  # no trustworthy record: nothing new to say
    if record.status is CommandStatus.ACKNOWLEDGED:
        return _with(result, Outcome.ACCEPTED, "the device carried it out")
    if record.status is CommandStatus.ERROR:
        return _with(result, Outcome.FAILED, f"the device refused it: {record.error}".strip(": "))
    if record.status is CommandStatus.NOT_NOW:
        return _with(result, Outcome.PENDING, "the device deferred it (NotNow)")
    return _with(result, Outcome.PENDING, "queued; the device has not answered yet")


def _with(result: ActionResult, outcome: Outcome, detail: str) -> ActionResult:
    failure = FailureKind.PERMANENT if outcome is Outcome.FAILED else None
    return ActionResult(
        action=result.action,
        outcome=outcome,
        detail=detail,
        failure=failure,
        vendor_reference=result.vendor_reference,
    )
