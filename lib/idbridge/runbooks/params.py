"""The switches every setup runbook reads from the desired-state file: whether to write, and whether removals may
happen. They live beside the desired state (not in the engagement parameters) so that the file a reviewer signs
off is the file that says "apply"."""

from __future__ import annotations

from pydantic import Field

from idbridge.core.vocabulary import StrictModel


class RunbookParams(StrictModel):
    apply: bool = Field(False, description="write to Entra and AWS; false (the default) only plans")
    allow_removals: bool = Field(False, description="let a plan's deletions happen (they are shown either way)")
