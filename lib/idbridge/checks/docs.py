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


# Failure modes people report that no configuration audit can see: (what breaks, why it is out of reach).
NOT_SEEN: tuple[tuple[str, str], ...] = (
    ("Client clock skew breaking SAML (the assertion's NotBefore / NotOnOrAfter window)",
     "the clocks involved are the user's device and the services', at the moment of sign-in; neither Entra's nor "
     "AWS's configuration records them, and a refused assertion shows only as a failed sign-in "
     "(`saml.sign_in_refused` lists those, not their cause)"),
    ("CLI and SDK token caches outliving a removal (`aws sso login` keeps tokens and role credentials under "
     "~/.aws/sso/cache and ~/.aws/cli/cache)",
     "the caches are files on people's machines; the audit reads the tenants, so it sees that access was removed, "
     "not who still holds credentials issued before (`access.revocation_not_prepared` asks whether the way to "
     "revoke them is ready)"),
    ("Browser and access-portal caching (a portal page or an account list shown from before a change, a session "
     "cookie still valid)",
     "what a browser shows is never stored in Entra or Identity Center; the portal session length is a guided "
     "checkpoint (`aws.portal_session_long`), the rest happens on the user's side"),
    ("IdP-initiated versus SP-initiated sign-in quirks (My Apps tile, start URL, relay state, deep links)",
     "both paths use the same configuration the SAML checks read; which one a person takes and how their browser "
     "carries the RelayState is only visible while they sign in"),
    ("DNS, proxies and TLS inspection in the path (a blocked or rewritten awsapps.com, signin.aws or "
     "login.microsoftonline.com request)",
     "the network between users and the services belongs to neither tenant; the audit reaches both clouds from "
     "where it runs, not from where people work"),
)


def _not_seen() -> list[str]:
    lines = ["## What this catalogue does not see", "",
             "These checks audit configuration and the logs the tenants keep. Some failures people report happen "
             "outside both, at sign-in time or on their own machines and networks; no check here can report them, "
             "and a clean report does not rule them out.", "",
             "| failure mode | why it is out of reach |", "|---|---|"]
    cell = lambda text: text.replace("|", "\\|")  # noqa: E731  (code spans must keep their underscores)
    lines += [f"| {cell(what)} | {cell(why)} |" for what, why in NOT_SEEN]
    return lines + [""]


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
    lines += _not_seen()
    lines += _framework_tables(registry)
    return "\n".join(lines).rstrip() + "\n"
