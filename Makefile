# The two commands of the README. Each creates (or reuses) the local virtual environment itself.
#   make demo   the main job on the offline sandbox
#   make test   the test suite (what .ci/run runs)
#   make airflow  Apache Airflow in .venv-airflow, for the fleet DAG (make test builds it)

# The probe is silent: a pyenv shim for a version that is not installed prints "command not found" on stderr.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 \
	&& { echo $$p; break; }; done 2>/dev/null)
VENV   := .venv
STAMP  := $(VENV)/.idbridge-installed
# Why the browser tests cannot run here, when they cannot (read by tests/support/browser.py).
NO_BROWSER := $(VENV)/.chromium-unavailable
PYTEST_ARGS ?=
# Apache Airflow, for the fleet DAG's test (examples/airflow): a virtual environment of its own, so that neither
# Airflow's dependencies nor idbridge's pinned ones are touched; pinned by examples/airflow/constraints.txt.
AIRFLOW_VENV  := .venv-airflow
AIRFLOW_STAMP := $(AIRFLOW_VENV)/.airflow-installed
# Why Airflow could not be installed, when it could not (read by tests/kit/test_airflow_fleet.py, which then skips).
NO_AIRFLOW    := .venv-airflow.unavailable

.PHONY: demo test venv browser airflow clean

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

# Uses the interpreter of .venv, so both environments run the same Python. A failing install (no route to PyPI)
# does not fail `make test`: the reason is recorded and the Airflow test skips, saying it.
$(AIRFLOW_STAMP): examples/airflow/constraints.txt | $(STAMP)
	@rm -f $(NO_AIRFLOW)
	@base=$$($(VENV)/bin/python -c 'import sys; print(sys._base_executable)'); \
	test -x $(AIRFLOW_VENV)/bin/python || "$$base" -m venv $(AIRFLOW_VENV)
	@echo "installing Apache Airflow into $(AIRFLOW_VENV) (pip, ~300 MB)"
	@if $(AIRFLOW_VENV)/bin/python -m pip install --quiet --upgrade pip 2>$(AIRFLOW_VENV)/pip.log && \
	    $(AIRFLOW_VENV)/bin/python -m pip install --quiet -c examples/airflow/constraints.txt \
	        "apache-airflow==$$(sed -n 's/^apache-airflow==//p' examples/airflow/constraints.txt)" \
	        2>>$(AIRFLOW_VENV)/pip.log; then \
		touch $(AIRFLOW_STAMP); \
	else \
		echo "pip install apache-airflow failed ($(AIRFLOW_VENV)/pip.log): $$(grep -E 'ERROR|error:' $(AIRFLOW_VENV)/pip.log | tail -1)" \
			| tee $(NO_AIRFLOW) >&2; \
	fi

airflow: $(AIRFLOW_STAMP)

demo: $(STAMP)
	$(VENV)/bin/idbridge demo

test: $(STAMP) browser airflow
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(AIRFLOW_VENV) $(NO_AIRFLOW) runs .pytest_cache
