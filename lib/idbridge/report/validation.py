"""The validation notebook's tables and figures."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

from idbridge.checks.evaluate import Evaluation
from idbridge.checks.runner import CheckResults
from idbridge.model.provisioning_errors import error_words
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
    """Per area: how many checks passed, failed, were not checked or not applicable (counts of checks), then how
    many findings the failed checks raised, by severity (counts of findings: one check finds many subjects)."""
    outcomes = results.outcomes_frame()
    findings = results.findings_frame()
    rows = []
    for area, title in AREAS.items():
        part = outcomes[outcomes["area"] == area]
        if part.empty:
            continue
        found = findings[findings["area"] == area] if not findings.empty else findings
        row = {"area": title, "checks": len(part), "checks passed": int((part["status"] == "pass").sum()),
               "checks failed": int((part["status"] == "fail").sum()),
               "checks accepted": int((part["status"] == "accepted").sum()),  # found only accepted findings
               "checks not checked": int(part["status"].isin(["not_checked", "error"]).sum()),
               "checks not applicable": int((part["status"] == "not_applicable").sum()),
               "findings": len(found)}
        for severity in SEVERITY_ORDER:
            row[f"{severity} findings"] = int((found["severity"] == severity).sum()) if not found.empty else 0
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
    """Validity of each signing certificate of the app, one labelled bar each (active or not, thumbprint's end,
    valid until, days left), against today and the expiry horizons, each line named on the chart."""
    try:
        keys = snapshot.table("entra_app_key_credentials")
        sp = snapshot.table("entra_service_principal")
    except NotCollected as exc:
        return Text("Not checked: {why}", why=exc)
    keys = keys[keys["usage"] == "Verify"] if "Verify" in set(keys["usage"]) else keys
    if keys.empty:
        return Text("The app has no signing certificate.")
    active = str(sp["preferredTokenSigningKeyThumbprint"].iloc[0]).upper() if len(sp) else ""
    figure = go.Figure()
    today = pd.Timestamp(now).tz_convert("UTC") if pd.Timestamp(now).tzinfo else pd.Timestamp(now, tz="UTC")
    for row in keys.itertuples():
        is_active = str(row.thumbprint).upper() == active
        start = pd.to_datetime(row.startDateTime, utc=True, errors="coerce")
        end = pd.to_datetime(row.endDateTime, utc=True, errors="coerce")
        days = int((end - today).days) if pd.notna(end) else None
        left = ("expired" if days is not None and days < 0 else
                f"{days} days left" if days is not None else "no end date")
        name = f"{'ACTIVE' if is_active else 'not active'}: {row.displayName or 'certificate'} " \
               f"(thumbprint ending {str(row.thumbprint)[-6:]})"
        until = end.date().isoformat() if pd.notna(end) else "?"
        figure.add_trace(go.Scatter(
            x=[start, end], y=[plotly_text(name)] * 2, mode="lines+markers+text",
            text=["", plotly_text(f"  until {until} ({left})")], textposition="middle right",
            line=dict(width=14, color="#1971c2" if is_active else "#adb5bd"),
            hovertemplate="%{x|%Y-%m-%d}<extra></extra>", showlegend=False))
    figure.add_vline(x=today.isoformat(), line_dash="dash", line_color="black")
    figure.add_annotation(x=today.isoformat(), y=1.0, yref="paper", text="today", showarrow=False,
                          yanchor="bottom", font=dict(size=11))
    for days in horizons:
        at = (today + pd.Timedelta(days=days)).isoformat()
        figure.add_vline(x=at, line_dash="dot", line_color="#f59f00")
        figure.add_annotation(x=at, y=1.0, yref="paper", text=f"{days} d", showarrow=False, yanchor="bottom",
                              font=dict(size=11, color="#e67700"))
    figure.update_layout(title="Signing certificates: validity against today (dashed) and the expiry warning "
                               "horizons (dotted)",
                         height=160 + 50 * len(keys), margin=dict(t=80, b=40, l=20, r=160),
                         yaxis=dict(automargin=True), xaxis=dict(type="date"))
    return figure


def provisioning_errors(snapshot: Snapshot) -> pd.DataFrame | str:
    """Provisioning failures of the window, in words: what went wrong, how often, for how many objects, and the
    error code Entra logged (for a search in Microsoft's documentation)."""
    from idbridge.checks.rules.provisioning import error_detail

    try:
        logs = snapshot.table("entra_provisioning_logs")
    except NotCollected as exc:
        return Text("Not checked: {why}", why=exc)
    failures = logs[logs["status"] == "failure"]
    if failures.empty:
        return Text("No provisioning failures in the window.")
    codes = failures["errorCode"].astype(object).where(failures["errorCode"].notna(), "")
    details = failures["errorReason"].map(error_detail) if "errorReason" in failures else pd.Series("", failures.index)
    words = [error_words(c, d) for c, d in zip(codes, details)]
    frame = pd.DataFrame({"what went wrong": words, "error code": codes.astype(str),
                          "object": failures["sourceDisplayName"].astype(object).fillna("").astype(str)})
    grouped = (frame.groupby(["what went wrong", "error code"], sort=False)
               .agg(failures=("object", "size"), objects=("object", "nunique"),
                    examples=("object", lambda s: ", ".join(sorted({v for v in s if v})[:5])))
               .reset_index().sort_values("failures", ascending=False))
    return grouped.reset_index(drop=True)


def provisioning_errors_figure(snapshot: Snapshot) -> go.Figure | str:
    table = provisioning_errors(snapshot)
    if isinstance(table, str):
        return table
    counts = table.groupby("what went wrong", sort=False)["failures"].sum().sort_values()
    labels = ["<br>".join(plotly_labels(_wrap(w).split("\n"))) for w in counts.index]
    figure = go.Figure(go.Bar(x=counts.values, y=labels, orientation="h", marker_color="#d9480f"))
    figure.update_layout(title="Provisioning failures in the window, by what went wrong", xaxis_title="log entries",
                         height=170 + 60 * len(counts), margin=dict(t=50, b=40), yaxis=dict(automargin=True))
    return figure


def _wrap(text: str, width: int = 48) -> str:
    """A long label on several lines (plotly breaks lines at <br>, added after escaping)."""
    lines, line = [], ""
    for word in str(text).split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)
