"""index.html of a run: the verdict in words first, then the reports, the findings and what was collected.

Everything shown comes from run.json and the run's one findings artifact (findings.json); every value from the
tenant or the run is escaped.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from idbridge.core.files import write_text_atomic
from idbridge.core.vocabulary import SEVERITIES
from idbridge.report.safe import html_text, local_href

log = logging.getLogger(__name__)

STATUS_CLASS = {"pass": "pass", "fail": "fail", "not_checked": "notchecked"}

_INDEX_CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#212529}
table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #dee2e6;padding:4px 8px;text-align:left}
th{background:#f1f3f5}.muted{color:#868e96}
.verdict{padding:12px 16px;border-radius:6px;margin:12px 0;border-left:8px solid}
.verdict h2{margin:0 0 4px}.verdict.pass{background:#ebfbee;border-color:#2b8a3e}
.verdict.fail{background:#fff5f5;border-color:#c92a2a}.verdict.notchecked{background:#fff9db;border-color:#e67700}
.critical{color:#8b0000;font-weight:600}.high{color:#d9480f;font-weight:600}.medium{color:#e67700}"""


from idbridge.report.stylesheet import BADGE_CSS as _SHARED_CSS  # noqa: E402  (severity/outcome badges)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html_text(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _link(href: str | None, text: str) -> str:
    """A link to a file of the run folder; any other href is shown as its text only."""
    target = local_href(href)
    return f"<a href='{target}'>{html_text(text)}</a>" if target else html_text(text)


def _evaluation(run_dir: Path):
    from idbridge.checks.artifact import read_evaluation

    path = run_dir / "findings.json"
    if not path.exists():
        return None
    try:
        return read_evaluation(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.error("%s unreadable: %s", path, exc)
        return None


def verdict_words(record: dict, evaluation=None) -> str:
    """The verdict as a sentence for a person: what needs action, at which severity, and what was not checked;
    never more than was checked. `evaluation`: the run's findings.json (counts by severity come from it)."""
    code = record.get("exit_code")
    verdict = record.get("verdict") or {}
    counts = verdict.get("counts") or {}
    fail_on = str(record.get("fail_on", ""))
    if code == 2:
        return "The run stopped on bad input: the parameters or a file given to it must be fixed (see below)."
    parts = []
    if evaluation is not None:
        ranked = [s for s in SEVERITIES if fail_on in SEVERITIES and SEVERITIES.index(s) <= SEVERITIES.index(fail_on)]
        # Findings an accepted exception covers do not count toward the verdict: not "need action" either.
        open_findings = [f for f in evaluation.results.findings if not getattr(f, "accepted", None)]
        urgent = {s: sum(1 for f in open_findings if f.severity == s) for s in ranked}
        named = [f"{n} {s}-severity finding{'s' if n != 1 else ''}" for s, n in urgent.items() if n]
        total = sum(urgent.values())
        if named:
            parts.append(f"{' and '.join(named) if len(named) <= 2 else ', '.join(named)} "
                         f"need{'s' if total == 1 else ''} action.")
        others = len(open_findings) - total
        if others:
            parts.append(f"{others} lower-severity finding{'s' if others != 1 else ''} to review.")
        accepted = len(evaluation.results.findings) - len(open_findings)
        if accepted:
            parts.append(f"{accepted} finding{'s' if accepted != 1 else ''} accepted as exceptions (listed below).")
    not_run = counts.get("not_checked", 0) + counts.get("error", 0)
    if not_run:
        parts.append(f"{not_run} of {counts.get('checks', 0)} checks could not run, so this result is incomplete.")
    if code == 3 and not not_run:
        parts.append("Something could not be checked: the result is incomplete (see why below).")
    if not parts:
        if code == 0 and counts.get("checks"):
            return (f"All {counts.get('pass', 0)} checks that apply ran and passed: nothing needs action.")
        return "No check was evaluated in this run."
    return " ".join(parts)


def _verdict_section(record: dict, evaluation=None) -> str:
    verdict = record.get("verdict") or {}
    status = verdict.get("status", "not_checked")
    word = verdict.get("word", "NOT CHECKED")
    reasons = "".join(f"<li>{html_text(r)}</li>" for r in record["reasons"])
    return (f"<div class='verdict {STATUS_CLASS.get(status, 'notchecked')}'><h2>{html_text(word)}</h2>"
            f"<p class='words'><b>{html_text(verdict_words(record, evaluation))}</b></p>"
            f"<p>{html_text(record.get('headline', ''))}</p>"
            + (f"<ul>{reasons}</ul>" if reasons else "")
            + f"<p class='muted'>For automation: exit code {html_text(record['exit_code'])}.</p></div>")


def _check_link(reports: dict[str, str], check_id: str, area: str, text: str) -> str:
    """The check's title linked to the report section that explains it (its expandable finding)."""
    from idbridge.report.page import check_anchor, report_for_check

    href = reports.get(report_for_check(area))
    return _link(f"{href}#{check_anchor(check_id)}", text) if href else html_text(text)


def _findings_section(evaluation, reports: dict[str, str] | None = None) -> str:
    reports = reports or {}
    if evaluation is None:
        return "<p class='muted'>No checks were evaluated in this run.</p>"
    counts = evaluation.verdict.counts
    outcomes = _table(["checks", "passed", "failed", "only accepted findings", "not checked", "not applicable",
                       "check errors"],
                      [[str(counts.get(k, 0)) for k in ("checks", "pass", "fail", "accepted", "not_checked",
                                                         "not_applicable", "error")]])
    findings = evaluation.results.findings
    by_severity = {s: sum(1 for f in findings if f.severity == s) for s in SEVERITIES}
    summary = _table([*SEVERITIES, "total"], [[str(by_severity[s]) for s in SEVERITIES] + [str(len(findings))]])
    by_check: dict[str, dict] = {}
    for f in findings:
        entry = by_check.setdefault(f.check_id, {"severity": f.severity, "title": f.title, "n": 0, "accepted": 0})
        entry["n"] += 1
        entry["accepted"] += bool(f.accepted)
    rows = sorted(by_check.items(), key=lambda kv: (SEVERITIES.index(kv[1]["severity"]), -kv[1]["n"], kv[0]))
    areas = {o.check_id: o.area for o in evaluation.results.outcomes}
    detail = _table(["severity", "check", "subjects", "of them accepted"],
                    [[f"<span class='sev sev-{html_text(e['severity'])}'>{html_text(e['severity'])}</span>",
                      _check_link(reports, cid, areas.get(cid, ""), f"{cid} — {e['title']}"), str(e["n"]),
                      str(e["accepted"] or "")]
                     for cid, e in rows])
    not_run = [o for o in evaluation.results.outcomes if o.status in ("not_checked", "error")]
    # One reason said once, with the checks it stopped (a DNS error once stopped 22 checks, one row each).
    by_reason: dict[str, list[str]] = {}
    for o in not_run:
        by_reason.setdefault(o.reason, []).append(o.check_id)
    missing = ("<h3>Not checked</h3>" + _table(["why", "checks"], [
        [html_text(why), f"{len(ids)}: " + html_text(", ".join(ids))] for why, ids in by_reason.items()])
               ) if not_run else ""
    every = _table(["check", "area", "severity", "outcome", "findings", "why not run"],
                   [[_check_link(reports, o.check_id, o.area, f"{o.check_id} — {o.title}") if o.findings
                     else html_text(f"{o.check_id} — {o.title}"), html_text(o.area),
                     f"<span class='sev sev-{html_text(o.severity)}'>{html_text(o.severity)}</span>",
                     f"<span class='outcome outcome-{html_text(o.status)}'>"
                     f"{html_text(o.status.replace('_', ' '))}</span>", str(o.findings),
                     html_text(o.reason if o.status in ('not_checked', 'error', 'not_applicable') else "")]
                    for o in sorted(evaluation.results.outcomes, key=lambda o: (o.area, o.check_id))])
    return (outcomes + summary + detail + missing
            + f"<details><summary>Every check and its outcome ({len(evaluation.results.outcomes)})</summary>"
            + every + "</details>"
            + "<p class='muted'>The same for a spreadsheet or a script: " + _link("findings.csv", "findings.csv")
            + " · " + _link("checks.csv", "checks.csv") + " · " + _link("findings.json", "findings.json") + "</p>" + _exceptions_section(evaluation))


def _exceptions_section(evaluation) -> str:
    """Every accepted exception of the run and how it fared, then each accepted finding as "accepted: <reason>,
    until <date>": accepted findings are shown, never hidden (checks/accepted.py)."""
    if not evaluation.exceptions:
        return ""
    fate = {"applied": "applied", "expired": "<b>expired</b>: no longer applied", "unmatched": "<b>matched no "
            "finding</b>"}
    table = _table(["exception", "check", "subject", "accepted by", "until", "status", "findings accepted"],
                   [[html_text(e.id), html_text(e.check), html_text(e.subject), html_text(e.accepted_by),
                     html_text(e.expires), fate.get(e.status, html_text(e.status)), str(e.accepted)]
                    for e in evaluation.exceptions])
    accepted = [f for f in evaluation.results.findings if f.accepted]
    from idbridge.checks.accepted import label

    listed = _table(["check", "subject", "severity", "accepted"],
                    [[html_text(f.check_id), html_text(f.subject), html_text(f.severity), html_text(label(f.accepted))]
                     for f in accepted]) if accepted else ""
    return ("<h3>Accepted exceptions</h3><p class='muted'>Findings an exception covers do not count toward the "
            "verdict or the exit code until it expires; they are listed here and in every report.</p>"
            + table + listed)


def _sources_section(run_dir: Path) -> str:
    manifest = run_dir / "snapshot" / "manifest.json"
    if not manifest.exists():
        return "<p class='muted'>No snapshot in this run.</p>"
    try:
        body = json.loads(manifest.read_text(encoding="utf-8"))
        body["sources"].items()
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.error("%s unreadable: %s", manifest, exc)
        return f"<p class='muted'>{html_text(str(manifest))} unreadable: {html_text(str(exc))}</p>"
    rows = [[html_text(name), html_text(rec["status"].replace("_", " ")), str(sum(rec["rows"].values())),
             html_text(rec.get("error") or "")] for name, rec in body["sources"].items()]
    window = body.get("window", {})
    return (f"<p>Collected {html_text(body.get('collected_at', ''))}; window "
            f"{html_text(window.get('start', ''))} – {html_text(window.get('end', ''))}."
            " The snapshot is kept in <code>snapshot/</code>: the next run compares itself with it.</p>"
            + _table(["source", "status", "rows", "why"], rows))


def write_index(run_dir: Path, record: dict) -> Path:
    """index.html of a run: verdict, reports, findings, and what was collected."""
    said: set[str] = set()
    reports = []
    for n in record["notebooks"]:
        if n["ok"]:
            status = "<span class='outcome outcome-ok'>ok</span>"
        elif n["error"] in said:  # one error said once
            status = "<span class='outcome outcome-failed'>failed</span>: the same error as above"
        else:
            said.add(n["error"])
            status = f"<span class='outcome outcome-failed'>failed</span>: {html_text(n['error'] or '')}"
        reports.append([_link(n["report"], n["title"]), status, f"{n['seconds']:.1f} s",
                        _link(n["notebook"], "output notebook (.ipynb, for Jupyter)")])
    hrefs = {Path(n["report"]).stem: n["report"] for n in record["notebooks"] if n.get("report")}
    evaluation = _evaluation(run_dir)
    skipped = "".join(f"<li>{html_text(s)}</li>" for s in record.get("skipped", []))
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>idbridge run — {html_text(record['engagement'])}</title><style>{_INDEX_CSS}{_SHARED_CSS}</style>"
        "</head><body>"
        f"<h1>idbridge run — {html_text(record['engagement'])}{' (sandbox)' if record.get('sandbox') else ''}</h1>"
        f"<p>{html_text(record['started'])} → {html_text(record['finished'])} · run "
        f"<code>{html_text(Path(record['run_dir']).name)}</code></p>"
        + _verdict_section(record, evaluation)
        + "<h2>Reports</h2>" + (_table(["report (opens in the browser)", "status", "time", "audit record"], reports) if reports
                                else "<p class='muted'>No report was produced.</p>")
        + (f"<p class='muted'>Not run:</p><ul class='muted'>{skipped}</ul>" if skipped else "")
        + "".join(f"<p>{_link(href, text)}</p>" for href, text in record.get("links", []))
        + f"<h2>Findings</h2><p class='muted'>fail_on = {html_text(record['fail_on'])}</p>"
        + _findings_section(evaluation, hrefs)
        + "<h2>What was collected</h2>" + _sources_section(run_dir)
        + "<p class='muted'>" + _link("run.json", "run.json") + " · " + _link("run.log", "run.log") + " · "
        + _link("parameters.yaml", "parameters.yaml") + "</p></body></html>")
    return write_text_atomic(run_dir / "index.html", page)
