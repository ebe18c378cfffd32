"""The order support/schedule.py hands files to the xdist workers names files that exist (a renamed file would
silently lose its place at the front and could end the run a minute late)."""

from support.schedule import SLOW_FILES_FIRST
from support.sandbox import ROOT


def test_every_file_named_first_exists():
    assert len(set(SLOW_FILES_FIRST)) == len(SLOW_FILES_FIRST)
    assert [path for path in SLOW_FILES_FIRST if not (ROOT / path).is_file()] == []
