# The two commands of the README. Each creates (or reuses) the local virtual environment itself.
#   make demo   the main job on the offline sandbox
#   make test   the test suite (what .ci/run runs)

# The probe is silent: a pyenv shim for a version that is not installed prints "command not found" on stderr.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 \
	&& { echo $$p; break; }; done 2>/dev/null)
VENV   := .venv
STAMP  := $(VENV)/.idbridge-installed
# Why the browser tests cannot run here, when they cannot (read by tests/support/browser.py).
NO_BROWSER := $(VENV)/.chromium-unavailable
PYTEST_ARGS ?=

.PHONY: demo test venv browser clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "idbridge needs Python 3.11 or newer on PATH" >&2; exit 2; }
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev,sandbox]'
	@touch $(STAMP)

venv: $(STAMP)

# Debian's chromium, for the test that opens the HTML reports in a headless browser with the network off.
# Unattended as root (or with password-less sudo) wherever apt-get exists; elsewhere the reason is recorded and
# that one test skips, saying it. An apt-get that exists but fails is an error: on such a machine it must work.
browser: $(STAMP)
	@rm -f $(NO_BROWSER)
	@if command -v chromium >/dev/null 2>&1; then \
		echo "chromium: $$(command -v chromium)"; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo "chromium is not installed and apt-get is not available here: the browser test will be skipped" \
			| tee $(NO_BROWSER) >&2; \
	else \
		if [ "$$(id -u)" = 0 ]; then SUDO=; \
		elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
		else echo "chromium is not installed and installing it needs root (apt-get install chromium): the browser test will be skipped" \
			| tee $(NO_BROWSER) >&2; exit 0; fi; \
		echo "installing Debian's chromium (apt-get, ~400 MB) for the browser test"; \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium \
			>/dev/null && echo "chromium: $$(command -v chromium)"; \
	fi

demo: $(STAMP)
	$(VENV)/bin/idbridge demo

test: $(STAMP) browser
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) runs .pytest_cache
