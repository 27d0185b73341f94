"""The import-linter contracts hold on the tree, and break when a forbidden import is added.

Each case copies our packages to a scratch folder, adds one import that DESIGN.md forbids, and
runs lint-imports there: the named contract must be reported broken.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("mdm_bridge", "connectors", "policies", "schedules", "mocks")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_contracts_hold_on_the_real_tree(tree: Path) -> None:
    result = _lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module_file", "forbidden_import", "contract"),
    [
        ("policies/__init__.py", "import mdm_bridge.store", "policies and schedules are pure"),
        ("schedules/__init__.py", "import httpx", "policies and schedules are pure"),
        ("mdm_bridge/model.py", "import mdm_bridge.store.tables", "Service layers"),
        ("mocks/__init__.py", "import connectors", "The mock is independent"),
        ("mdm_bridge/store/engine.py", "import connectors.jamf_pro", "never names a concrete"),
        ("connectors/jamf_school/__init__.py", "import connectors.jamf_pro", "never import each"),
    ],
)
def test_forbidden_import_breaks_its_contract(
    tree: Path, module_file: str, forbidden_import: str, contract: str
) -> None:
    target = tree / module_file
    target.write_text(target.read_text() + f"\n{forbidden_import}  # added by the test\n")
    result = _lint_imports(tree)
    assert result.returncode == 1, result.stdout
    broken = [line for line in result.stdout.splitlines() if " BROKEN" in line]
    assert any(contract in line for line in broken), result.stdout
