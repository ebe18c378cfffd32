"""Where the project's own files are: notebooks, scenarios and parameters live beside the package in the repo."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
SCENARIOS_DIR = REPO_ROOT / "scenarios"
PARAMETERS_DIR = REPO_ROOT / "parameters"
