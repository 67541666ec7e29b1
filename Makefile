# Every target does its own setup: a fresh Debian machine needs only python3 and make.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEMO := build/demo

.PHONY: demo test lint bench system-deps examples clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# Playwright cannot download its own browser here: Debian's Chromium is the one we
# test. LibreOffice Calc opens the tracker as a real spreadsheet program would.
SYSTEM_PACKAGES := $(if $(wildcard /usr/bin/chromium),,chromium fonts-liberation) \
	$(if $(shell command -v soffice),,libreoffice-calc-nogui)

system-deps:
	@if [ -n "$(strip $(SYSTEM_PACKAGES))" ]; then \
		echo "installing with apt: $(strip $(SYSTEM_PACKAGES))"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
			--no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; \
	fi

demo: $(STAMP)
	rm -rf $(DEMO)
	@# The example submissions were made with bundles of this same build, built
	@# before this fresh folder; sync rejects work dated before its build.
	$(PY) cli.py build examples/pilot --out $(DEMO) --built-at 2026-12-01
	$(PY) cli.py sync examples/pilot/submissions --build $(DEMO) --tracker $(DEMO)/tracker.xlsx
	$(PY) cli.py report --tracker $(DEMO)/tracker.xlsx --out $(DEMO)/dashboard.html
	@echo
	@echo "Demo ready:"
	@echo "  open first:               $(DEMO)/bundles/r01/index.html (one bundle per rater)"
	@echo "  zips to hand out:         $(DEMO)/zips/"
	@echo "  ops-only build record:    $(DEMO)/build-record.json and $(DEMO)/build-report.txt"
	@echo "  tracker for leads:        $(DEMO)/tracker.xlsx"
	@echo "  dashboard:                $(DEMO)/dashboard.html"

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: $(STAMP) system-deps lint
	$(VENV)/bin/pytest

# Every benchmark measures against its own baseline in the same run (BENCHMARKS.md).
bench: $(STAMP) system-deps
	@for bench in benchmarks/bench_*.py; do \
		echo "== $$bench"; PYTHONPATH=. $(PY) $$bench || exit 1; \
	done

# Regenerate the example submissions by filling the built bundles in Chromium.
examples: $(STAMP) system-deps
	$(PY) scripts/make_example_submissions.py

clean:
	rm -rf build $(VENV)
