"""Fixtures of the review tests: the hand-made access table of review_tables, fresh for each test."""

from __future__ import annotations

import pandas as pd
import pytest

from support.review_tables import make_access, make_findings, make_tables


@pytest.fixture
def access() -> pd.DataFrame:
    return make_access()


@pytest.fixture
def findings() -> pd.DataFrame:
    return make_findings()


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    return make_tables()
