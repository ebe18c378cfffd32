"""The validation notebook's tables and figures."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

from idbridge.checks.evaluate import Evaluation
from idbridge.checks.runner import CheckResults
from idbridge.core.vocabulary import AREAS, SEVERITY_COLOURS, SEVERITY_ORDER
from idbridge.report.safe import Text, plotly_labels, plotly_text
from idbridge.snapshot.store import NotCollected, Snapshot

STATUS_WORDS = {"pass": "pass", "fail": "fail", "not_checked": "not checked", "not_applicable": "not applicable",
                "error": "check failed", "accepted": "accepted"}


def verdict_banner(evaluation: Evaluation):
    """The verdict first, in colour and words: PASS only when every check ran on complete data and passed."""
    from idbridge.report.banner import verdict_banner as banner

    return banner(evaluation.verdict)


def summary(results: CheckResults) -> pd.DataFrame:
    """Per area: how many checks passed, failed, were not checked or not applicable, and findings by severity."""
    outcomes = results.outcomes_frame()
    findings = results.findings_frame()
    rows = []
    for area, title in AREAS.items():
        part = outcomes[outcomes["area"] == area]
        if part.empty:
            continue
        found = findings[findings["area"] == area] if not findings.empty else findings
        row = {"area": title, "checks": len(part), "passed": int((part["status"] == "pass").sum()),
               "failed": int((part["status"] == "fail").sum()),
               "accepted": int((part["status"] == "accepted").sum()),  # found only accepted findings
               "not checked": int(part["status"].isin(["not_checked", "error"]).sum()),
               "not applicable": int((part["status"] == "not_applicable").sum()),
               "findings": len(found)}
        for severity in SEVERITY_ORDER:
            row[severity] = int((found["severity"] == severity).sum()) if not found.empty else 0
        rows.append(row)
    return pd.DataFrame(rows)


def first_actions(results: CheckResults, limit: int = 8) -> pd.DataFrame:
    """What to do first: one line per check that failed, worst first, with how many subjects and the fix."""
    findings = results.findings_frame()
    findings = findings[findings["accepted"].eq("")]  # accepted findings wait for their exception to expire
    if findings.empty:
        return pd.DataFrame(columns=["severity", "check", "subjects", "example", "fix"])
    grouped = (findings.groupby("check_id", sort=False)
               .agg(severity=("severity", "first"), title=("title", "first"), subjects=("subject", "count"),
                    example=("subject", "first"), fix=("fix", "first"))
               .reset_index())
    grouped["rank"] = grouped["severity"].map(SEVERITY_ORDER)
    grouped = grouped.sort_values(["rank", "subjects"], ascending=[False, False]).head(limit)
    grouped["check"] = grouped["check_id"] + " — " + grouped["title"]
    return grouped[["severity", "check", "subjects", "example", "fix"]].reset_index(drop=True)


def area_table(results: CheckResults, area: str) -> pd.DataFrame:
    """Every check of the area with its status, then its findings; a check not run says why."""
    outcomes = results.outcomes_frame()
    outcomes = outcomes[outcomes["area"] == area]
    findings = results.findings_frame()
    rows = []
    for outcome in outcomes.itertuples():
        status = STATUS_WORDS[outcome.status]
        if outcome.status in ("not_checked", "error", "not_applicable"):
            rows.append({"check": outcome.check_id, "status": status, "severity": "", "subject": "",
                         "detail": outcome.reason})
            continue
        hits = findings[findings["check_id"] == outcome.check_id] if not findings.empty else findings
        if hits.empty:  # a pass: say what it established, never the failure's title
            rows.append({"check": outcome.check_id, "status": status, "severity": "", "subject": "",
                         "detail": outcome.passed or outcome.title})
        for hit in hits.itertuples():
            # An accepted finding's status is its acceptance: "accepted: <reason>, until <date>" (findings frame).
            rows.append({"check": outcome.check_id, "status": hit.accepted or status, "severity": hit.severity,
                         "subject": hit.subject, "detail": hit.detail or hit.title})
    return pd.DataFrame(rows, columns=["check", "status", "severity", "subject", "detail"])


def findings_by_area_figure(results: CheckResults) -> go.Figure:
    findings = results.findings_frame()
    figure = go.Figure()
    if findings.empty:
        figure.add_annotation(text="No findings", showarrow=False)
    for severity in SEVERITY_ORDER:
        part = findings[findings["severity"] == severity] if not findings.empty else findings
        if part.empty:
            continue
        counts = part.groupby("area").size()
        figure.add_bar(name=severity, x=plotly_labels(AREAS.get(a, a) for a in counts.index), y=counts.values,
                       marker_color=SEVERITY_COLOURS[severity])
    figure.update_layout(barmode="stack", title="Findings by area and severity", yaxis_title="findings",
                         height=380, margin=dict(t=50, b=40))
    return figure


def certificate_figure(snapshot: Snapshot, now: datetime, horizons: list[int]) -> go.Figure | str:
    """Validity of each signing certificate of the app against today and the expiry horizons."""
    try:
        keys = snapshot.table("entra_app_key_credentials")
        sp = snapshot.table("entra_service_principal")
    except NotCollected as exc:
        return Text("Not checked: {why}", why=exc)
    keys = keys[keys["usage"] == "Verify"] if "Verify" in set(keys["usage"]) else keys
    active = str(sp["preferredTokenSigningKeyThumbprint"].iloc[0]).upper() if len(sp) else ""
    figure = go.Figure()
    for row in keys.itertuples():
        is_active = str(row.thumbprint).upper() == active
        label = plotly_text(f"{row.displayName} …{str(row.thumbprint)[-6:]}")
        figure.add_trace(go.Scatter(
            x=[row.startDateTime, row.endDateTime], y=[label] * 2,
            mode="lines+markers", line=dict(width=10, color="#1971c2" if is_active else "#adb5bd"),
            name="active" if is_active else "not active", showlegend=False))
    now_text = now.isoformat()
    figure.add_vline(x=now_text, line_dash="dash", line_color="black")
    for days in horizons:
        figure.add_vline(x=(now + pd.Timedelta(days=days)).isoformat(), line_dash="dot", line_color="#f59f00")
    figure.update_layout(title="Signing certificates (blue: active; dashed: now; dotted: expiry horizons)",
                         height=120 + 60 * max(1, len(keys)), margin=dict(t=50, b=40))
    return figure


def provisioning_errors_figure(snapshot: Snapshot) -> go.Figure | str:
    try:
        logs = snapshot.table("entra_provisioning_logs")
    except NotCollected as exc:
        return Text("Not checked: {why}", why=exc)
    failures = logs[logs["status"] == "failure"]
    if failures.empty:
        return Text("No provisioning failures in the window.")
    counts = failures.groupby("errorCode").size().sort_values()
    figure = go.Figure(go.Bar(x=counts.values, y=plotly_labels(counts.index), orientation="h",
                              marker_color="#d9480f"))
    figure.update_layout(title="Provisioning failures by error code (window)", xaxis_title="log entries",
                         height=150 + 40 * len(counts), margin=dict(t=50, b=40, l=320))
    return figure
