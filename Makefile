# The two commands of the README. Each creates (or reuses) the local virtual environment itself.
#   make demo   the main job on the offline sandbox
#   make test   the test suite (what .ci/run runs)

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && { echo $$p; break; }; done)
VENV   := .venv
STAMP  := $(VENV)/.idbridge-installed
PYTEST_ARGS ?=

.PHONY: demo test venv clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "idbridge needs Python 3.11 or newer on PATH" >&2; exit 2; }
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/idbridge demo

test: $(STAMP)
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) runs .pytest_cache
