"""Logging: one JSON object per line when asked, and secrets never written."""

from __future__ import annotations

import json
import logging

import pytest

from mdm_bridge.logs import REDACTED, configure_logging

SECRET = "s3cret-value-that-must-never-be-logged"


def _lines(err: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def test_json_format_is_one_object_per_event(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(log_format="json", level="INFO")
    logging.getLogger("mdm_bridge.test").info("locked %d iPads", 412, extra={"run_id": 7})
    logging.getLogger("mdm_bridge.test").debug("not shown at INFO")
    [entry] = _lines(capsys.readouterr().err)
    assert entry["event"] == "locked 412 iPads"
    assert entry["level"] == "info"
    assert entry["logger"] == "mdm_bridge.test"
    assert entry["run_id"] == 7
    assert str(entry["time"]).endswith("+00:00")


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_secrets_are_redacted(capsys: pytest.CaptureFixture[str], log_format: str) -> None:
    configure_logging(log_format=log_format, level="INFO", secrets=(SECRET,))  # type: ignore[arg-type]
    log = logging.getLogger("mdm_bridge.test")
    log.info("connecting with %s", SECRET)
    log.info("token refreshed", extra={"access_token": "abc.def.ghi", "client": "jamf"})
    try:
        raise RuntimeError(f"login failed for key {SECRET}")
    except RuntimeError:
        log.exception("vendor said no")
    err = capsys.readouterr().err
    assert SECRET not in err
    assert "abc.def.ghi" not in err
    assert err.count(REDACTED) >= 3
    assert "jamf" in err
    assert "login failed" in err


def test_text_format_is_readable(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(log_format="text", level="INFO")
    logging.getLogger("mdm_bridge.test").warning("curfew late", extra={"devices": 3})
    line = capsys.readouterr().err.strip()
    assert "WARNING" in line
    assert line.endswith("mdm_bridge.test: curfew late devices=3")
