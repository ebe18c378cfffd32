"""The fleet index: one page over every engagement's latest run, for whoever looks after all of them.

RUNS_DIR holds <engagement>/<run>/ folders (a run_root). For each engagement the page shows its latest run — the
verdict, the score when the run has one, findings by severity, what changed since its previous run (findings new
and resolved, by check and subject as `idbridge diff` counts them, and the verdict before), and a link to the run's
index.html — worst verdict first. A run counts when it left a verdict: run.json (`idbridge run`) or findings.json
(`idbridge validate`, or a run whose reports were not rendered yet). A run that left neither (killed, or still
running) is named under its engagement, never silently taken for the latest. Everything read comes from files
another process wrote: an unreadable one is shown as such, it never stops the page. The page is one HTML file,
styles inline, no script, every value escaped.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from idbridge.checks.artifact import read_evaluation
from idbridge.core.files import write_text_atomic
from idbridge.core.vocabulary import SEVERITIES
from idbridge.errors import InputError
from idbridge.report.safe import html_text, local_href

FLEET_PAGE = "fleet.html"
STAMP = re.compile(r"^(\d{8}T\d{6}Z)(?:-(\d+))?$")
WORDS = {"pass": "PASS", "fail": "FAIL", "not_checked": "NOT CHECKED"}
ORDER = {"not_checked": 0, "fail": 1, "pass": 2}  # what needs someone first


@dataclass
class RunSummary:
    folder: Path
    status: str = "not_checked"          # pass | fail | not_checked
    headline: str = ""
    when: str = ""                       # collection time, else the run's start, else its folder's name
    score: str | None = None
    by_severity: dict[str, int] | None = None   # None: no findings artifact could be read
    findings: set[tuple[str, str]] = field(default_factory=set)
    rendered: bool = False               # index.html exists
    problems: list[str] = field(default_factory=list)


@dataclass
class EngagementRow:
    engagement: str
    latest: RunSummary
    previous: RunSummary | None
    unfinished: list[str]                # run folders newer than the latest that left no verdict


def _json(path: Path, problems: list[str]) -> dict | None:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        problems.append(f"{path.name} unreadable: {type(exc).__name__}: {exc}")
        return None
    if not isinstance(body, dict):
        problems.append(f"{path.name} unreadable: not a JSON object")
        return None
    return body


def _score(*documents: dict | None) -> str | None:
    for document in documents:
        for holder in (document or {}, (document or {}).get("verdict") or {}):
            if isinstance(holder, dict) and holder.get("score") is not None:
                return str(holder["score"])
    return None


def summarise(folder: Path) -> RunSummary | None:
    """One run's summary, or None when the folder holds no verdict (no run.json, no findings.json)."""
    if not (folder / "run.json").exists() and not (folder / "findings.json").exists():
        return None
    summary = RunSummary(folder, rendered=(folder / "index.html").exists())
    record = _json(folder / "run.json", summary.problems)
    verdict = (record or {}).get("verdict")
    if isinstance(verdict, dict) and verdict.get("status") in WORDS:
        summary.status, summary.headline = verdict["status"], str(verdict.get("headline", ""))
    elif record is not None:
        summary.headline = str(record.get("headline", "no check was evaluated"))
    findings_doc = None
    if (folder / "findings.json").exists():
        try:
            evaluation = read_evaluation(folder / "findings.json")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            summary.problems.append(f"findings.json unreadable: {type(exc).__name__}: {exc}")
        else:
            found = evaluation.results.findings
            summary.by_severity = {s: sum(1 for f in found if f.severity == s) for s in SEVERITIES}
            summary.findings = {(f.check_id, f.subject) for f in found}
            summary.when = evaluation.collected_at
            if not (isinstance(verdict, dict) and verdict.get("status") in WORDS):  # run.json's verdict comes first
                summary.status, summary.headline = evaluation.verdict.status, evaluation.verdict.headline
            findings_doc = _json(folder / "findings.json", [])
    if record is None and summary.by_severity is None:
        summary.headline = "no readable verdict"
    if record is not None and record.get("exit_code") in (2, 3) and summary.status == "pass":
        summary.status = "not_checked"  # a run that ended badly never shows as a pass
    summary.when = summary.when or str((record or {}).get("started") or folder.name)
    summary.score = _score(record, findings_doc)
    return summary


def _order(folder: Path) -> tuple:
    """Run folders are named by their UTC time (<time>, <time>-2 for a second run in the same second); others
    (an --out of someone's choosing) by their modification time."""
    match = STAMP.match(folder.name)
    if match:
        return (match.group(1), int(match.group(2) or 1), folder.name)
    stamp = datetime.fromtimestamp(folder.stat().st_mtime, timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return (stamp, 0, folder.name)


def engagement_rows(runs_dir: str | Path) -> list[EngagementRow]:
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise InputError(runs_dir, "is not a folder of engagements' runs (<run_root>, holding <engagement>/<run>/)")
    rows = []
    for engagement in sorted(p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        folders = sorted((p for p in engagement.iterdir() if p.is_dir() and not p.name.startswith(".")
                          and p.name != "snapshots"), key=_order)
        summaries, unfinished = [], []
        for folder in folders:
            summary = summarise(folder)
            if summary is None:
                unfinished.append(folder.name)
            else:
                summaries.append(summary)
                unfinished = []  # only those newer than the latest run with a verdict matter
        if summaries:
            rows.append(EngagementRow(engagement.name, summaries[-1], summaries[-2] if len(summaries) > 1 else None,
                                      unfinished))
        elif unfinished:
            rows.append(EngagementRow(engagement.name, RunSummary(engagement / unfinished[-1],
                                      headline="no run of this engagement left a verdict", when=unfinished[-1]),
                                      None, unfinished[:-1]))
    rows.sort(key=lambda r: (ORDER[r.latest.status], r.engagement))
    return rows


def _change(row: EngagementRow) -> str:
    latest, previous = row.latest, row.previous
    if previous is None:
        return "first run"
    parts = []
    if previous.status != latest.status:
        parts.append(f"was {WORDS[previous.status]}")
    if latest.by_severity is not None and previous.by_severity is not None:
        new, resolved = len(latest.findings - previous.findings), len(previous.findings - latest.findings)
        parts.append(f"{new} new, {resolved} resolved" if new or resolved else "no finding changed")
    else:
        parts.append("findings not compared (a run has no readable findings)")
    return "; ".join(parts) + f" (since {previous.when})"


def _href(target: Path, page_dir: Path) -> str | None:
    return local_href(Path(os.path.relpath(target, page_dir)).as_posix())


_CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1200px;color:#212529}
table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #dee2e6;padding:4px 8px;text-align:left;
vertical-align:top}th{background:#f1f3f5}.muted{color:#868e96}.num{text-align:right}
.pass{background:#ebfbee}.fail{background:#fff5f5}.notchecked{background:#fff9db}
.critical{color:#8b0000;font-weight:600}.high{color:#d9480f;font-weight:600}.medium{color:#e67700}"""


def render_fleet(rows: list[EngagementRow], runs_dir: Path, page_dir: Path) -> str:
    counts = {s: sum(1 for r in rows if r.latest.status == s) for s in WORDS}
    summary = ", ".join(f"{counts[s]} {WORDS[s]}" for s in ("fail", "not_checked", "pass") if counts[s])
    head = ["engagement", "verdict", "score", *SEVERITIES, "since the previous run", "latest run"]
    body = []
    for row in rows:
        run = row.latest
        css = {"pass": "pass", "fail": "fail"}.get(run.status, "notchecked")
        index = run.folder / "index.html"
        link_target = index if run.rendered else run.folder
        href = _href(link_target, page_dir)
        text = html_text(run.folder.name) + ("" if run.rendered else " (no reports)")
        link = f"<a href='{href}'>{text}</a>" if href else text
        notes = [html_text(run.headline)] + [html_text(p) for p in run.problems]
        if row.unfinished:
            notes.append(html_text("newer run(s) without a verdict (still running, or stopped): "
                                   + ", ".join(row.unfinished)))
        if run.by_severity is None:
            severities = ["<td class='muted num'>—</td>"] * len(SEVERITIES)
        else:
            severities = [f"<td class='num {s}'>{run.by_severity[s]}</td>" if run.by_severity[s]
                          else "<td class='num muted'>0</td>" for s in SEVERITIES]
        body.append(
            f"<tr class='{css}'><td><b>{html_text(row.engagement)}</b></td>"
            f"<td><b>{WORDS[run.status]}</b><br><span class='muted'>{'<br>'.join(n for n in notes if n)}</span></td>"
            f"<td class='num'>{html_text(run.score) if run.score is not None else '<span class=muted>—</span>'}</td>"
            + "".join(severities)
            + f"<td>{html_text(_change(row))}</td><td>{link}<br><span class='muted'>{html_text(run.when)}</span></td>"
            + "</tr>")
    table = ("<table><tr>" + "".join(f"<th>{html_text(h)}</th>" for h in head) + "</tr>" + "".join(body)
             + "</table>") if rows else "<p class='muted'>No engagement has a run here yet.</p>"
    written = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>idbridge fleet</title>"
            f"<style>{_CSS}</style></head><body><h1>idbridge fleet</h1>"
            f"<p>{len(rows)} engagement(s) in <code>{html_text(str(runs_dir))}</code>"
            + (f": {summary}" if summary else "") + f" · written {html_text(written)}</p>"
            "<p class='muted'>Each engagement's latest run, worst verdict first. PASS: every check ran on completely "
            "collected data and found nothing at or above fail_on; FAIL: a check found something; NOT CHECKED: "
            "something could not be checked (the run's page says what and why). Findings count by severity; "
            "changes compare the findings (check and subject) with the engagement's previous run.</p>"
            + table + "</body></html>")


def write_fleet_index(runs_dir: str | Path, out: str | Path | None = None) -> tuple[Path, list[EngagementRow]]:
    runs_dir = Path(runs_dir).resolve()
    rows = engagement_rows(runs_dir)
    page = Path(out).resolve() if out else runs_dir / FLEET_PAGE
    return write_text_atomic(page, render_fleet(rows, runs_dir, page.parent)), rows
