# Set-up and everyday commands. `make run` and `make test` are the README's two
# commands: each installs everything it needs into .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two environments from two hashed, universal locks (Linux x86-64 and arm64):
# requirements.lock is the runtime (what `make run` needs); requirements-dev.lock
# adds the test, benchmark and lint tools (what `make test` needs). Each stamp
# records the lock it installed.
STAMP := $(VENV)/.installed-run-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
DEV_STAMP := $(VENV)/.installed-dev-$(shell cat requirements-dev.lock pyproject.toml | cksum | cut -d' ' -f1)
UV_INSTALL = $(BIN)/uv pip install --python $(BIN)/python --quiet --compile-bytecode
PORT ?= 8501

.PHONY: install install-dev run test lint data bench browser lock

$(BIN)/uv:
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip --upgrade
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv

$(STAMP): requirements.lock pyproject.toml | $(BIN)/uv
	$(UV_INSTALL) -r requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps -e .
	rm -f $(VENV)/.installed-run-*
	touch $(STAMP)

$(DEV_STAMP): requirements-dev.lock pyproject.toml | $(BIN)/uv
	$(UV_INSTALL) -r requirements-dev.lock
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps -e .
	rm -f $(VENV)/.installed-dev-*
	touch $(DEV_STAMP)

## The runtime only (the app, the command line).
install: $(STAMP)

## The runtime and the test, benchmark and lint tools.
install-dev: $(DEV_STAMP)

## Re-resolve both locks from pyproject.toml (hashes; Linux x86-64 and arm64).
lock: | $(BIN)/uv
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11.5 \
		--generate-hashes -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --group dev --universal \
		--python-version 3.11.5 --generate-hashes -o requirements-dev.lock

## Start the app on the embedded default data (http://localhost:$(PORT)).
## `hotspot serve` computes the default view first, then runs `streamlit run app.py`.
run: install
	$(BIN)/hotspot serve --port $(PORT)

## Debian's Chromium for the browser tests (tests/test_browser.py) and poppler's
## pdftoppm for the PDF tests, installed with apt when running as root and missing;
## never a Playwright browser download.
browser:
	@{ command -v chromium && command -v pdftoppm; } >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && apt-get install -y -qq chromium chromium-driver \
				poppler-utils; \
		else \
			echo "chromium or pdftoppm not found: those tests will be skipped"; \
		fi; }

## Lint, type-check and run the whole test suite.
test: install-dev browser
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

## Rebuild the embedded data set from ../shared/data (see data/README.md).
data: install
	$(BIN)/python scripts/build_all.py

## Speed benchmarks (run on demand; figures go in the README).
bench: install-dev
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_geocode.py
	$(BIN)/python benchmarks/bench_gistar.py
	$(BIN)/python benchmarks/bench_kde.py
	$(BIN)/python benchmarks/bench_scale.py --rows 1000000
	$(BIN)/python benchmarks/bench_app.py
