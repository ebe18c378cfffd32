"""Generate docs/checks.md from the registered check units (the units are the source of truth)."""

from __future__ import annotations

from idbridge.checks import load_all
from idbridge.core.vocabulary import AREAS


def render_catalogue() -> str:
    registry = load_all()
    lines = ["# Check catalogue", "",
             "Generated from the check units in `lib/idbridge/checks/rules/` by `idbridge checks doc`; do not edit by hand.",
             ""]
    for area, title in AREAS.items():
        checks = [c.meta for c in sorted(registry.values(), key=lambda c: c.meta.id) if c.meta.area == area]
        if not checks:
            continue
        lines += [f"## {title}", ""]
        for meta in checks:
            lines += [f"### `{meta.id}` — {meta.title}", "",
                      f"Severity **{meta.severity}** · subject: {meta.subject_kind} · reads: "
                      + ", ".join(f"`{t}`" for t in meta.tables), "",
                      f"**What it means.** {meta.meaning}", "", f"**How to fix.** {meta.fix}", "",
                      f"**A pass means:** {meta.passed}", ""]
            if meta.references:
                lines += ["References: " + " · ".join(meta.references), ""]
    return "\n".join(lines).rstrip() + "\n"
