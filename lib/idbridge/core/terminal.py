"""Text from a tenant, shown on a terminal: without anything the terminal would act on.

A display name, an error message from Graph or AWS, a group or account name is data an attacker may choose. A
terminal acts on control characters: ESC sequences (OSC 0/2 set the window title, OSC 8 makes hyperlinks, OSC 52
writes the clipboard, CSI moves the cursor and can rewrite what was printed), a carriage return overwrites a line,
BEL and the C1 controls (0x80-0x9f, e.g. 0x9b: CSI in one byte) likewise. Every CLI line that holds such data
goes through `for_terminal` (cli.py's `say`), which removes whole escape sequences, then every other control
character except newline and tab, and the bidirectional overrides that make text read in another order than it
is written.
"""

from __future__ import annotations

import logging
import re

_SEQUENCES = re.compile(
    r"(?:\x1b\]|\x9d)[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"          # OSC ... BEL or ST (or up to a newline)
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c\n]*(?:\x1b\\|\x9c)?"  # DCS, SOS, PM, APC ... ST
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"                             # CSI parameters, intermediates, final
    r"|\x1b[ -/]*[0-~]?"                                              # any other escape (nF, Fp, Fe, Fs)
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def for_terminal(text: object) -> str:
    """`text` as str, fit to print: escape sequences and control characters (except \\n and \\t) removed."""
    return _CONTROLS.sub("", _SEQUENCES.sub("", str(text)))


class TerminalFormatter(logging.Formatter):
    """A log formatter for a handler that writes to a terminal: each record as `for_terminal` leaves it."""

    def format(self, record: logging.LogRecord) -> str:
        return for_terminal(super().format(record))
