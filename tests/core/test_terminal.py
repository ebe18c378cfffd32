"""Tenant data printed by the CLI carries no terminal escapes: no window title, hyperlink, clipboard write, cursor
movement or overwritten line, whatever a display name or a cloud's error message holds."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from idbridge.cli import main
from idbridge.core.terminal import for_terminal

# A display name an attacker chose: window title, a hyperlink, a clipboard write (OSC 52), colour and cursor moves,
# a carriage return that overwrites the line, C1 controls (CSI and OSC in one byte), DEL, a bidi override.
EVIL = ("Mallory\x1b]0;owned\x07 \x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\ "
        "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\x1b[1;1H\x1b[31mred\x1b[0m\rover \x9b2J\x9d0;t\x9c\x7f\u202edrow")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(text: str) -> bool:
    return not CONTROL.search(text) and "]52;" not in text and "]0;" not in text and "]8;" not in text


def test_for_terminal_removes_sequences_and_controls_but_keeps_text():
    assert for_terminal(EVIL) == "Mallory click redover drow"
    assert for_terminal("Müller\tBerlin\n東京") == "Müller\tBerlin\n東京"
    assert for_terminal("unterminated \x1b]0;title\nnext line") == "unterminated \nnext line"


def _snapshot(folder, error: str | None = None):
    from idbridge.snapshot.store import SnapshotWriter

    writer = SnapshotWriter(folder)
    writer.mark("entra.users", "not_collected", error=error)
    return writer.finish({"engagement": "e", "collected_at": "2026-01-01T00:00:00+00:00"})


def test_idbridge_diff_prints_no_escape_from_tenant_names(tmp_path, monkeypatch, capsys):
    from idbridge.history import diff as history_diff

    def evil_diff(before, after, params=None):
        frame = pd.DataFrame([{"user": EVIL, "accounts": "prod", "via": f"group:{EVIL}"}])
        empty = pd.DataFrame()
        return history_diff.SnapshotDiff("2026-01-01", "2026-01-02", frame, empty, frame, empty, empty, empty,
                                         empty, empty, not_compared={"findings_new": f"no table: {EVIL}"})

    monkeypatch.setattr(history_diff, "diff_snapshots", evil_diff)
    a, b = _snapshot(tmp_path / "a"), _snapshot(tmp_path / "b")
    with pytest.raises(SystemExit) as exit_info:
        main(["diff", str(a), str(b)])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "Mallory click redover drow" in out and clean(out), repr(out)


def test_validate_and_collect_print_no_escape_from_the_clouds(tmp_path, monkeypatch, capsys):
    from idbridge.checks import evaluate
    from idbridge.collect import run as collect_run

    params = tmp_path / "p.yaml"
    params.write_text(f"engagement: e\nrun_root: {tmp_path / 'runs'}\ngraph:\n"
                      "  tenant_id: 3c8e5b1a-7d2f-4e96-a0b4-5f19c27d8e63\n", encoding="utf-8")
    snapshot = _snapshot(tmp_path / "snap", error=f"403 Authorization_RequestDenied: {EVIL}")
    monkeypatch.setattr(evaluate, "evaluate_snapshot",
                        lambda snapshot, params: evaluate.failed_evaluation(f"group {EVIL} unreadable", "high"))
    with pytest.raises(SystemExit):
        main(["validate", "-p", str(params), "--snapshot", str(snapshot), "--out", str(tmp_path / "v")])
    captured = capsys.readouterr()
    assert "group Mallory click redover drow unreadable" in captured.out
    assert clean(captured.out) and clean(captured.err), repr(captured.out[:400])

    monkeypatch.setattr(collect_run, "collect", lambda params, out, **kwargs: _snapshot(out, error=EVIL))
    with pytest.raises(SystemExit) as exit_info:
        main(["collect", "-p", str(params), "--out", str(tmp_path / "collected")])
    assert exit_info.value.code == 3
    captured = capsys.readouterr()
    assert "Mallory click redover drow" in captured.out
    assert clean(captured.out) and clean(captured.err), repr(captured.out)


def test_errors_print_no_escape(tmp_path, capsys):
    """An error names the file, and a file name may hold escapes too (a scheduler passing a tenant's name on)."""
    missing = tmp_path / "p\x1b]0;owned\x07\x1b[2K.yaml"
    with pytest.raises(SystemExit) as exit_info:
        main(["collect", "-p", str(missing)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "file not found" in err and clean(err), repr(err)
