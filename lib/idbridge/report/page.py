"""What every report shares: the header (who, what, when, scope), the verdict banner with its counts, score and
top three things to do, and findings as expandable entries sorted by severity then subject.

Every value from the tenant or the run goes through `html_text`. The score is defined in docs/reports.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from idbridge.core.vocabulary import SEVERITY_ORDER
from idbridge.report.safe import html_text

# Weight of a check in the score, by its severity: a critical check passing counts ten times a low one.
SCORE_WEIGHTS: dict[str, int] = {"critical": 10, "high": 6, "medium": 3, "low": 1, "info": 1}
OUTCOME_WORDS = {"pass": "PASS", "fail": "FAIL", "not_checked": "NOT CHECKED"}
OUTCOME_CLASS = {"pass": "pass", "fail": "fail", "not_checked": "notchecked"}


# --------------------------------------------------------------------------------------------------- score


def score(outcomes: Iterable[Any]) -> float | None:
    """Checks passed ÷ checks run, each weighted by its severity (SCORE_WEIGHTS), as a percentage rounded to
    one decimal. A check that did not run (not checked, not applicable, check error) is in neither sum. None
    when no check ran: nothing was measured, so there is no score to give."""
    run = passed = 0.0
    for outcome in outcomes:
        status = getattr(outcome, "status", None) or outcome["status"]
        severity = getattr(outcome, "severity", None) or outcome["severity"]
        if status not in ("pass", "fail"):
            continue
        weight = SCORE_WEIGHTS.get(severity, 1)
        run += weight
        if status == "pass":
            passed += weight
    return None if run == 0 else round(100.0 * passed / run, 1)


# --------------------------------------------------------------------------------------------------- header


@dataclass
class Context:
    """What the header shows. Empty strings are shown as "not known", never left out."""
    engagement: str = ""
    organisation: str = ""
    tenant: str = ""
    instance: str = ""
    collected_at: str = ""
    version: str = ""
    scope: str = "everything collected"
    filtered: bool = False


def _organisation(snapshot) -> str:
    try:
        tenant = snapshot.table("entra_tenant")
    except Exception as exc:  # not collected, or no snapshot: the header says why, never guesses
        return f"not collected ({type(exc).__name__})"
    names = [str(n) for n in tenant.get("displayName", []) if n]
    return names[0] if names else "not collected"


def scope_words(filters: dict[str, str] | None) -> tuple[str, bool]:
    chosen = {k: v for k, v in (filters or {}).items() if v}
    if not chosen:
        return "everything collected (no filter)", False
    named = "; ".join(f"{k} = {v}" for k, v in chosen.items())
    return (f"filtered — {named}: tables, figures and summary counts below count only what the filter selects "
            "(the verdict is the run's)"), True


def context(params=None, snapshot=None, filters: dict[str, str] | None = None) -> Context:
    from idbridge import __version__

    manifest = getattr(snapshot, "manifest", None) or {}
    graph = getattr(params, "graph", None)
    aws = getattr(params, "aws", None)
    scope, filtered = scope_words(filters)
    return Context(
        engagement=str(getattr(params, "engagement", "") or manifest.get("engagement", "")),
        organisation=_organisation(snapshot) if snapshot is not None else "",
        tenant=str(manifest.get("tenant_id") or getattr(graph, "tenant_id", "") or ""),
        instance=str(manifest.get("instance_arn") or getattr(aws, "instance_arn", "") or ""),
        collected_at=str(manifest.get("collected_at", "")),
        version=__version__, scope=scope, filtered=filtered)


HEADER_FIELDS = ("Organisation", "Tenant", "Identity Center instance", "Engagement", "Collected", "idbridge",
                 "Scope")


def header_html(ctx: Context) -> str:
    values = [ctx.organisation or "no snapshot in this report", ctx.tenant or "not set",
              ctx.instance or "not set (discovered at collection)", ctx.engagement or "not set",
              ctx.collected_at or "no snapshot in this report", ctx.version, ctx.scope]
    cells = "".join(f"<div><dt>{html_text(k)}</dt><dd data-field='{html_text(k)}'>{html_text(v)}</dd></div>"
                    for k, v in zip(HEADER_FIELDS, values))
    return (f"<header class='idbridge-header{' filtered' if ctx.filtered else ''}'><dl>{cells}</dl></header>")


# --------------------------------------------------------------------------------------------------- banner


def severity_badge(severity: str) -> str:
    s = html_text(severity or "")
    return f"<span class='sev sev-{s}'>{s}</span>" if s else ""


def outcome_badge(status: str) -> str:
    words = {"pass": "pass", "fail": "fail", "not_checked": "not checked", "not_applicable": "not applicable",
             "error": "check failed"}
    return f"<span class='outcome outcome-{html_text(status)}'>{html_text(words.get(status, status))}</span>"


def top_actions(results, limit: int = 3) -> list[dict]:
    """The `limit` things to do first: one per failed check, worst severity first, then most subjects."""
    by_check: dict[str, dict] = {}
    for f in results.findings:
        entry = by_check.setdefault(f.check_id, {"check_id": f.check_id, "title": f.title, "severity": f.severity,
                                                  "fix": f.fix, "subjects": 0})
        entry["subjects"] += 1
    ranked = sorted(by_check.values(), key=lambda e: (-SEVERITY_ORDER.get(e["severity"], 0), -e["subjects"],
                                                     e["check_id"]))
    return ranked[:limit]


def report_for_check(area: str) -> str:
    from idbridge.core.vocabulary import ACCESS_AREAS

    return "20_access_review" if area in ACCESS_AREAS else "10_validate_integration"


def check_anchor(check_id: str) -> str:
    return "check-" + "".join(c if c.isalnum() else "-" for c in check_id)


def banner_html(evaluation, *, link_checks: bool = True) -> str:
    from idbridge.report.banner import grouped_reasons

    verdict = evaluation.verdict
    counts = verdict.counts
    status = verdict.status
    value = score(evaluation.results.outcomes)
    numbers = [("passed", counts.get("pass", 0)), ("failed", counts.get("fail", 0)),
               ("not checked", counts.get("not_checked", 0) + counts.get("error", 0)),
               ("not applicable", counts.get("not_applicable", 0))]
    tiles = "".join(f"<div class='tile' data-count='{html_text(k)}'><b>{v}</b><span>{html_text(k)}</span></div>"
                    for k, v in numbers)
    tiles += ("<div class='tile' data-count='score'><b>" + (f"{value:g}%" if value is not None else "—")
              + "</b><span>score <a href='#about-the-score' title='checks passed ÷ checks run, weighted by "
              "severity'>?</a></span></div>")
    actions = top_actions(evaluation.results)
    todo = ""
    if actions:
        items = "".join(
            f"<li>{severity_badge(a['severity'])} <b>{html_text(a['title'])}</b> "
            f"({a['subjects']} subject{'s' if a['subjects'] != 1 else ''}): {html_text(a['fix'])}</li>"
            for a in actions)
        todo = f"<div class='todo'><h3>Top three things to do</h3><ol>{items}</ol></div>"
    reasons = "".join(f"<li>{html_text(r)}</li>" for r in grouped_reasons(verdict.reasons))
    return (f"<section class='idbridge-verdict verdict-{OUTCOME_CLASS.get(status, 'notchecked')}' "
            f"data-status='{html_text(status)}'>"
            f"<div class='word'>{html_text(verdict.word)}</div>"
            f"<div class='headline'>{html_text(verdict.headline)}</div>"
            f"<div class='tiles'>{tiles}</div>"
            + (f"<ul class='reasons'>{reasons}</ul>" if reasons else "") + todo
            + "<p class='score-note' id='about-the-score'>Score: checks passed ÷ checks run, each weighted by its "
              "severity (critical 10, high 6, medium 3, low 1, info 1); checks not run are in neither. "
              "The counts are the run's, over every check.</p></section>")


# --------------------------------------------------------------------------------------------------- findings


def _evidence(evidence: Any) -> str:
    if not evidence:
        return "<span class='muted'>none recorded</span>"
    if isinstance(evidence, dict):
        rows = "".join(f"<tr><th>{html_text(k)}</th><td>{html_text(_plain(v))}</td></tr>"
                       for k, v in evidence.items())
        return f"<table class='evidence'>{rows}</table>"
    return html_text(_plain(evidence))


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    return str(value)


def _links(references: Iterable[str]) -> str:
    items = []
    for ref in references or ():
        text = html_text(ref)
        # Documentation links are the check's own (code, not tenant data); only http(s) ones become links.
        if str(ref).startswith(("https://", "http://")):
            items.append(f"<li><a href='{text}' rel='noreferrer'>{text}</a></li>")
        else:
            items.append(f"<li>{text}</li>")
    return f"<ul>{''.join(items)}</ul>" if items else "<p class='muted'>none</p>"


def _controls(controls: Any) -> str:
    """The controls a check maps to (NIST, CIS, ISO), one per line with its framework and published title;
    nothing at all for a finding that carries none (a findings.json older than control mapping)."""
    if not controls:
        return ""
    from idbridge.checks.controls import Control, ordered

    mapped = [c for c in controls if isinstance(c, Control)]
    if not mapped:  # anything else (text from an older artifact) is shown as it is
        return f"<h4>Controls</h4><p class='controls'>{html_text(_plain(controls))}</p>"
    items = "".join(f"<li><b>{html_text(c.label)}</b> {html_text(c.title)}</li>" for c in ordered(mapped))
    return ("<h4>Controls this check gives evidence for</h4>"
            f"<ul class='controls'>{items}</ul>")


def _check_counts(row: dict) -> str:
    """"3 of 4 ran: 1 passed, 2 failed; 1 not checked": a control row's checks in words."""
    ran = f"{row['checks_run']} of {row['checks']} ran"
    said = [f"{row[k]} {w}" for k, w in (("passed", "passed"), ("failed", "failed"), ("accepted", "accepted"))
            if row.get(k)]
    rest = [f"{row[k]} {w}" for k, w in (("not_checked", "not checked"), ("not_applicable", "not applicable"))
            if row[k]]
    return ran + (": " + ", ".join(said) if said else "") + ("; " + ", ".join(rest) if rest else "")


def framework_summary_html(evaluation_or_results) -> str:
    """Per framework, one table of the controls the checks map to: which passed, failed, were not checked.
    A control's status is that of its checks only (report/controls.py), never an assessment of the control."""
    import pandas as pd

    from idbridge.checks.controls import BY_NAME
    from idbridge.report.controls import framework_summary
    from idbridge.report.safe import table_html

    frame = framework_summary(evaluation_or_results)
    if frame.empty:
        return "<p class='idbridge-empty'>No check of this report maps to a control.</p>"
    if not frame["checks_run"].any():
        # No mapped check ran (a collection that failed): one sentence, not a table of rows that all say so.
        counts = frame.groupby("framework", sort=False).size()
        named = "; ".join(f"{name}: {n} control{'s' if n != 1 else ''}" for name, n in counts.items())
        return (f"<p class='idbridge-empty'>Not checked: no check mapped to a control ran (the reasons are "
                f"above), so no control has evidence from this run — {html_text(named)}.</p>")
    words = {"pass": "pass", "fail": "fail", "accepted": "accepted", "not_checked": "not checked",
             "not_applicable": "not applicable"}
    lines = []
    for name, part in frame.groupby("framework", sort=False):
        counts = part["status"].value_counts()
        said = ", ".join(f"{int(counts.get(k, 0))} {w}" for k, w in words.items() if counts.get(k, 0))
        framework = BY_NAME.get(name)
        link = (f" (<a href='{html_text(framework.url)}' rel='noreferrer'>source</a>)"
                if framework and framework.url.startswith("https://") else "")
        lines.append(f"<li data-framework='{html_text(name)}'><b>{html_text(name)}</b>{link}: {len(part)} "
                     f"control{'s' if len(part) != 1 else ''} — {html_text(said)}</li>")
    # One table for every framework (a column says which), so that it sorts, filters and prints as one.
    shown = pd.DataFrame({
        "framework": [BY_NAME[n].short if n in BY_NAME else n for n in frame["framework"]],
        "control": frame["control"] + " " + frame["title"], "status": frame["status"].map(words),
        "checks": [_check_counts(r) for r in frame.to_dict("records")], "findings": frame["findings"],
        "mapped checks": frame["check_ids"].str.replace("; ", ", ")})
    return ("<div class='idbridge-controls'><ul class='frameworks'>" + "".join(lines) + "</ul>"
            + table_html(shown) + "<p class='muted'>A control passes here when every check mapped to it ran and "
            "passed: evidence for the control, not an assessment of it.</p></div>")


def findings_html(results, *, empty: str = "No findings.") -> str:
    """Every failed check as an expandable entry (worst severity first, then check), its findings inside sorted
    by subject: subject, detail, evidence; then what it means, how to fix (whole), the documentation and the
    controls. Each entry has an anchor (check-<id>) the index links to."""
    groups: dict[str, list] = {}
    for f in results.findings:
        groups.setdefault(f.check_id, []).append(f)
    if not groups:
        return f"<p class='idbridge-empty'>{html_text(empty)}</p>"
    ordered = sorted(groups.items(), key=lambda kv: (-SEVERITY_ORDER.get(kv[1][0].severity, 0),
                                                     min(str(f.subject) for f in kv[1]), kv[0]))
    out = []
    for check_id, found in ordered:
        first = found[0]
        found = sorted(found, key=lambda f: str(f.subject))
        rows = "".join(f"<tr><td>{html_text(f.subject)}</td><td>{html_text(f.detail)}</td>"
                       f"<td>{_evidence(f.evidence)}</td></tr>" for f in found)
        controls = getattr(first, "controls", None)
        out.append(
            f"<details class='finding sev-{html_text(first.severity)}' id='{check_anchor(check_id)}'>"
            f"<summary>{severity_badge(first.severity)} <b>{html_text(first.title)}</b> "
            f"<span class='muted'>{html_text(check_id)} · {len(found)} subject{'s' if len(found) != 1 else ''}: "
            f"{html_text(', '.join(str(f.subject) for f in found[:3]))}{' …and more' if len(found) > 3 else ''}"
            f"</span></summary>"
            f"<div class='body'><h4>What it means</h4><p>{html_text(first.meaning)}</p>"
            f"<h4>How to fix</h4><p>{html_text(first.fix)}</p>"
            f"<h4>Findings</h4><table class='findings'><thead><tr><th>Subject</th><th>Detail</th>"
            f"<th>Evidence</th></tr></thead><tbody>{rows}</tbody></table>"
            f"<h4>Documentation</h4>{_links(first.references)}"
            f"<div class='controls-slot'>{_controls(controls)}</div></div></details>")
    return "<div class='idbridge-findings'>" + "".join(out) + "</div>"


# --------------------------------------------------------------------------------------------------- display


class _Html:
    def __init__(self, html: str):
        self.html = html

    def _repr_html_(self) -> str:
        return self.html


def header(params=None, snapshot=None, run_dir=None, *, filters: dict[str, str] | None = None,
           evaluation=None, verdict: bool = True):
    """The report's header, then (when the run evaluated checks) its verdict banner: the first thing a reader
    sees. `evaluation` defaults to the run's (findings.json of run_dir, for this snapshot)."""
    html = header_html(context(params, snapshot, filters))
    if verdict and evaluation is None and snapshot is not None and params is not None:
        from idbridge.checks.artifact import evaluation_for

        evaluation = evaluation_for(snapshot, params, run_dir)
    if verdict and evaluation is not None:
        html += banner_html(evaluation)
    return _Html(html)


def findings(results, empty: str = "No findings.") -> _Html:
    return _Html(findings_html(results, empty=empty))


def controls_summary(evaluation_or_results) -> _Html:
    return _Html(framework_summary_html(evaluation_or_results))
