"""What a check may know besides the collected tables: the evaluation time and the engagement's thresholds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from idbridge.core.parameters import ChecksParams, Parameters


@dataclass(frozen=True)
class CheckSettings:
    now: datetime                      # the snapshot's collection time: checks judge ages against it, not "today"
    checks: ChecksParams = field(default_factory=ChecksParams)
    app_display_name: str = "AWS IAM Identity Center"

    @property
    def app_subject(self) -> str:
        return f"app:{self.app_display_name}"


def settings_for(params: Parameters, collected_at: str | datetime | None = None) -> CheckSettings:
    if isinstance(collected_at, str):
        collected_at = datetime.fromisoformat(collected_at.replace("Z", "+00:00"))
    now = collected_at or datetime.now(timezone.utc)
    return CheckSettings(now=now, checks=params.checks, app_display_name=params.app.display_name)
