"""Collection progress with several sources at once: a live block redrawn in place on a terminal, plain lines
(source, rows, seconds) anywhere else, and nothing a terminal would act on from a cloud's message in either."""

from __future__ import annotations

import io
import logging
import re
import sys
import threading

from idbridge.core.progress import SourceProgress, finished_line

ESCAPE = re.compile(r"\x1b")
CSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def screen(text: str) -> list[str]:
    """What a terminal shows after `text`: lines, honouring the cursor-up and erase-below the live block uses."""
    lines: list[str] = []
    row = 0
    for token in re.split(r"(\x1b\[[0-9;]*[A-Za-z]|\r|\n)", text):
        if not token:
            continue
        if token == "\n":
            row += 1
        elif token == "\r":
            pass
        elif token.startswith("\x1b["):
            n, command = token[2:-1], token[-1]
            if command == "A":
                row -= int(n or 1)
            elif command == "J":
                del lines[row:]
        else:
            while len(lines) <= row:
                lines.append("")
            lines[row] = token
    return lines[:row]


def test_finished_lines_say_source_rows_and_seconds_or_why_not():
    assert finished_line("entra.users", "complete", 1204, 3.21) == "collected entra.users: 1,204 rows in 3.2 s"
    assert finished_line("entra.tenant", "complete", 1, 0.25) == "collected entra.tenant: 1 row in 0.2 s"
    assert finished_line("entra.sign_ins", "partial", 900, 61, "429 TooManyRequests: slow\ndown") == \
        "partially collected entra.sign_ins: 900 rows in 61.0 s; 429 TooManyRequests: slow down"
    assert finished_line("aws.cloudtrail", "not_collected", 0, 0.4, "AccessDenied: not allowed\x1b]0;owned\x07") == \
        "not collected aws.cloudtrail: AccessDenied: not allowed"


def test_plain_stream_gets_one_line_per_finished_source_and_no_escape():
    out, clock = io.StringIO(), Clock()
    progress = SourceProgress(out, clock=clock, ticker=False)
    assert progress.live is False
    progress.begin(["entra.users", "entra.groups", "aws.cloudtrail"])
    progress.start("entra.users")
    progress.start("entra.groups")
    progress.advance("entra.users", 1000)
    progress.advance("entra.groups", 7)
    progress.advance("entra.users", 204)
    assert out.getvalue() == ""  # nothing while sources run: a log gets lines, not redraws
    clock.now += 1.5
    progress.finish("entra.groups", "complete", rows=7, seconds=1.5)
    progress.finish("aws.cloudtrail", "not_collected", error="AccessDenied: User is not authorized")
    clock.now += 1.7
    progress.finish("entra.users", "complete", rows=1204)  # seconds from the clock when not given
    progress.close()
    assert out.getvalue().splitlines() == [
        "collected entra.groups: 7 rows in 1.5 s",
        "not collected aws.cloudtrail: AccessDenied: User is not authorized",
        "collected entra.users: 1,204 rows in 3.2 s",
    ]
    assert not ESCAPE.search(out.getvalue())


def test_plain_stream_says_which_sources_are_still_running_now_and_then():
    out, clock = io.StringIO(), Clock()
    progress = SourceProgress(out, clock=clock, ticker=False, heartbeat_s=60)
    progress.begin(["entra.sign_ins", "aws.cloudtrail"])
    progress.start("entra.sign_ins")
    progress.advance("entra.sign_ins", 12000)
    clock.now += 30
    progress.tick()
    assert out.getvalue() == ""  # not due yet
    clock.now += 31
    progress.tick()
    progress.tick()  # at most one per heartbeat
    assert out.getvalue() == "still collecting: entra.sign_ins (12,000 so far, 61 s)\n"
    progress.close()


def test_terminal_shows_one_line_per_running_source_redrawn_in_place():
    term, clock = FakeTerminal(), Clock()
    progress = SourceProgress(term, clock=clock, ticker=False, width=100, refresh_s=0)
    assert progress.live is True
    progress.begin(["entra.users", "entra.groups", "aws.accounts", "aws.cloudtrail"])
    progress.start("entra.users")
    progress.start("aws.accounts")
    clock.now += 2
    progress.advance("entra.users", 500)
    progress.advance("aws.accounts", 3)
    shown = screen(term.getvalue())
    assert len(shown) == 3, shown  # one line per running source and the counts, nothing piled up
    assert re.fullmatch(r"  entra\.users +500 so far +2\.0 s", shown[0]), shown
    assert re.fullmatch(r"  aws\.accounts +3 so far +2\.0 s", shown[1]), shown
    assert shown[2] == "collecting: 0 of 4 sources done, 2 running, 2 waiting"

    clock.now += 1.2
    progress.finish("entra.users", "complete", rows=1204, seconds=3.2)
    progress.start("entra.groups")
    progress.advance("entra.users", 5)  # late, from a worker thread: its line does not come back
    shown = screen(term.getvalue())
    # The finished source leaves its line above; the block below holds what still runs.
    assert shown[0] == "collected entra.users: 1,204 rows in 3.2 s"
    assert [line.split()[0] for line in shown[1:3]] == ["aws.accounts", "entra.groups"]
    assert shown[3] == "collecting: 1 of 4 sources done, 2 running, 1 waiting"

    progress.finish("aws.cloudtrail", "not_collected", error="AccessDenied: no")
    progress.finish("aws.accounts", "complete", rows=3)
    progress.finish("entra.groups", "partial", rows=5, seconds=1, error="503: unavailable")
    progress.close()
    assert screen(term.getvalue()) == [  # the block is gone at the end; the finished lines stay
        "collected entra.users: 1,204 rows in 3.2 s",
        "not collected aws.cloudtrail: AccessDenied: no",
        "collected aws.accounts: 3 rows in 3.2 s",  # seconds from the clock: started at 100, now 103.2
        "partially collected entra.groups: 5 rows in 1.0 s; 503: unavailable",
    ]
    # Only the cursor movements of the redraw: no colours, titles or anything else.
    assert set(CSI.findall(term.getvalue())) <= {"\x1b[1A", "\x1b[2A", "\x1b[3A", "\x1b[4A", "\x1b[J"}


def test_terminal_lines_fit_the_width_and_advances_are_throttled():
    term, clock = FakeTerminal(), Clock()
    progress = SourceProgress(term, clock=clock, ticker=False, width=40, refresh_s=1)
    progress.begin(["entra.a_source_with_a_rather_long_name"])
    progress.start("entra.a_source_with_a_rather_long_name")
    before = term.getvalue()
    progress.advance("entra.a_source_with_a_rather_long_name", 1)  # within refresh_s: no redraw
    assert term.getvalue() == before
    clock.now += 1
    progress.advance("entra.a_source_with_a_rather_long_name", 1)
    assert term.getvalue() != before
    assert all(len(line) < 40 for line in screen(term.getvalue()))  # a wrapped line would break the redraw
    progress.close()


def test_terminal_prints_log_records_above_the_block_and_restores_stderr(monkeypatch):
    term, clock = FakeTerminal(), Clock()
    monkeypatch.setattr(sys, "stderr", term)
    handler = logging.StreamHandler(term)
    logger = logging.getLogger("idbridge.test_progress")
    logger.addHandler(handler)
    try:
        progress = SourceProgress(clock=clock, ticker=False, width=100)
        progress.begin(["entra.users", "entra.groups"])
        progress.start("entra.users")
        logger.warning("Graph answered 429; retrying in 2 s")
        print("a warning written straight to stderr", file=sys.stderr)
        progress.finish("entra.users", "complete", rows=1, seconds=1)
        progress.close()
        assert sys.stderr is term and handler.stream is term
    finally:
        logger.removeHandler(handler)
    assert screen(term.getvalue()) == [
        "Graph answered 429; retrying in 2 s",
        "a warning written straight to stderr",
        "collected entra.users: 1 row in 1.0 s",
    ]


def test_advances_from_many_threads_are_all_counted():
    term = FakeTerminal()
    progress = SourceProgress(term, ticker=False, width=100, refresh_s=0)
    progress.begin(["aws.account_assignments"])
    progress.start("aws.account_assignments")
    threads = [threading.Thread(target=lambda: [progress.advance("aws.account_assignments", 1)
                                                for _ in range(500)]) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert progress.running["aws.account_assignments"].items == 4000
    progress.close()


def test_the_ticker_thread_stops_on_close():
    progress = SourceProgress(io.StringIO(), heartbeat_s=0.01)
    progress.begin(["entra.users"])
    assert progress._thread is not None and progress._thread.is_alive()
    thread = progress._thread
    progress.close()
    assert not thread.is_alive()


def test_dumb_terminal_gets_plain_lines(monkeypatch):
    monkeypatch.setenv("TERM", "dumb")
    assert SourceProgress(FakeTerminal(), ticker=False).live is False
