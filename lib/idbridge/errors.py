"""Errors a user can act on.

Every bad input (parameters, scenario, metadata XML, desired state, reviewer workbook) is raised as an
InputError that names the file, where in it, and what is wrong; the CLI turns it into exit code 2.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2
EXIT_NOT_COLLECTED = 3


class IdbridgeError(Exception):
    """Base class for errors idbridge reports to its user in words rather than a traceback."""

    exit_code = 1


class Busy(IdbridgeError):
    """Another run of the engagement holds what this one needs (its collection lock): nothing was collected."""

    exit_code = EXIT_NOT_COLLECTED


class InputError(IdbridgeError):
    """A file the user gave us is wrong. `problems` holds one line per problem found."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, file: str, problems: list[str] | str):
        self.file = str(file)
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__(self.render())

    def render(self) -> str:
        if len(self.problems) == 1:
            return f"{self.file}: {self.problems[0]}"
        lines = [f"{self.file}: {len(self.problems)} problems"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)
