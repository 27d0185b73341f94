# The two commands a new technician needs: `make run` and `make test`. Both set everything up
# from a fresh clone: a pinned uv in .tools/, then .venv/ installed exactly from uv.lock.

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test lint typecheck layers pytest install lock clean bench

run: $(VENV)/.installed
	$(BIN)/mdm-bridge demo

test: lint typecheck layers pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

layers: $(VENV)/.installed
	$(BIN)/lint-imports --no-cache

pytest: $(VENV)/.installed
	$(BIN)/pytest

install: $(VENV)/.installed

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

# Re-resolve dependencies after editing pyproject.toml; commit the new uv.lock.
lock: | $(UV)
	$(UV) lock

clean:
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache
