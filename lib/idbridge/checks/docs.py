"""Generate docs/checks.md from the registered check units (the units are the source of truth)."""

from __future__ import annotations

from idbridge.checks import load_all
from idbridge.checks.controls import FRAMEWORKS, ordered
from idbridge.core.vocabulary import AREAS

INTRO = """\
**Severity.** Each check has one catalogue severity: the severity of its findings. A few checks grade their
findings (an expired certificate is worse than one expiring in 50 days); their entry lists every other severity a
finding can take and when, and a check cannot give a finding any severity its entry does not list. In
`findings.csv` / `findings.json`, `severity` is the finding's own (what `fail_on` and the reports' order use),
`check_severity` the catalogue severity below, and `severity_reason` says why they differ, in the words of the
entry. `checks.csv` shows the catalogue severity and `other_severities`.

**Controls.** Each check names the controls it gives evidence for: NIST SP 800-53 Rev. 5 and ISO/IEC 27001:2022
Annex A for every check, the CIS AWS Foundations and CIS Microsoft 365 Foundations Benchmarks where one of their
recommendations fits (recommendations about IAM users are not mapped: Identity Center users are not IAM users).
A mapping says what a check's result is evidence for, not that the control is met: a control is more than the
checks mapped to it. The table at the end lists, per framework, each control and the checks mapped to it."""


def _md(text: str) -> str:
    """Text as Markdown shows it literally (CIS titles hold "*:*"; a table cell cannot hold "|")."""
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_").replace("|", "\\|")


def _controls_line(meta) -> str:
    by_framework: dict[str, list[str]] = {}
    for control in ordered(meta.controls):
        by_framework.setdefault(control.framework, []).append(f"{control.id} {_md(control.title)}")
    return "Controls: " + " · ".join(f"{name}: {', '.join(items)}" for name, items in by_framework.items())


def _severity_line(meta) -> str:
    line = f"Severity **{meta.severity}**"
    for severity, when in meta.graded:
        line += f"; **{severity}** when {when}"
    return line


def _framework_tables(registry) -> list[str]:
    lines = ["## Controls by framework", "",
             "Which checks give evidence for each control. A control passes no audit on these checks alone.", ""]
    for framework in FRAMEWORKS.values():
        checks_of: dict[str, list[str]] = {}
        for check in registry.values():
            for control in check.meta.controls:
                if control.framework == framework.name:
                    checks_of.setdefault(control.id, []).append(check.meta.id)
        if not checks_of:
            continue
        lines += [f"### {framework.name}", "", f"Source: {framework.url}", "", "| control | title | checks |",
                  "|---|---|---|"]
        for control_id, title in framework.controls:
            if control_id in checks_of:
                checks = ", ".join(f"`{c}`" for c in sorted(checks_of[control_id]))
                lines.append(f"| {control_id} | {_md(title)} | {checks} |")
        lines.append("")
    return lines


def render_catalogue() -> str:
    registry = load_all()
    lines = ["# Check catalogue", "",
             "Generated from the check units in `lib/idbridge/checks/rules/` by `idbridge checks doc`; do not edit by hand.",
             "", INTRO, ""]
    for area, title in AREAS.items():
        checks = [c.meta for c in sorted(registry.values(), key=lambda c: c.meta.id) if c.meta.area == area]
        if not checks:
            continue
        lines += [f"## {title}", ""]
        for meta in checks:
            lines += [f"### `{meta.id}` — {meta.title}", "",
                      f"{_severity_line(meta)} · subject: {meta.subject_kind} · reads: "
                      + ", ".join(f"`{t}`" for t in meta.tables), "",
                      f"**What it means.** {meta.meaning}", "", f"**How to fix.** {meta.fix}", "",
                      f"**A pass means:** {meta.passed}", "", _controls_line(meta), ""]
            if meta.references:
                lines += ["References: " + " · ".join(meta.references), ""]
    lines += _framework_tables(registry)
    return "\n".join(lines).rstrip() + "\n"
