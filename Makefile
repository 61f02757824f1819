# Set-up and everyday commands. `make run` and `make test` are the README's two
# commands: each installs everything it needs into .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
PORT ?= 8501

.PHONY: install run test lint data bench browser

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip --upgrade
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --python $(BIN)/python --quiet --compile-bytecode -r requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

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
test: install browser
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

## Rebuild the embedded data set from ../shared/data (see data/README.md).
data: install
	$(BIN)/python scripts/build_all.py

## Speed benchmarks (run on demand; figures go in the README).
bench: install
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_geocode.py
	$(BIN)/python benchmarks/bench_gistar.py
	$(BIN)/python benchmarks/bench_kde.py
	$(BIN)/python benchmarks/bench_scale.py --rows 1000000
	$(BIN)/python benchmarks/bench_app.py
