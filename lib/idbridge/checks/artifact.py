"""The findings artifact of a run: one evaluation, written once, read by every report, the index, exports and
`idbridge diff`.

    findings.json   the evaluation: verdict, every check's outcome, every finding, the sources it rests on
    findings.csv    the findings, one row each (for spreadsheets; text that looks like a formula is quoted:
                    core/csvsafe.py)
    checks.csv      every check with its outcome and, when it did not run, why

Severity, the same everywhere: `severity` of a finding is its own (what fail_on and the order use);
`check_severity` is the check's catalogue severity (docs/checks.md, checks.csv `severity`) and `severity_reason`
says, in the catalogue's words, why a finding differs from it. `controls` are the controls the check maps to
(checks/controls.py): in JSON objects {framework, id, title}, in CSV "NIST 800-53 AC-2; ISO 27001 A.5.18".

Accepted exceptions (checks/accepted.py): a finding one covers has `accepted` {exception, reason, accepted_by,
expires} in JSON, and the columns accepted ("accepted: <reason>, until <date>"), exception, accepted_by and
accepted_until in findings.csv; checks.csv has `accepted` (how many of the check's findings are), and its status
is `accepted` when all are. findings.json's `exceptions` lists every exception of the run and how it fared
(applied, expired, unmatched).

Format 4 added accepted to findings and outcomes and the exceptions section; a format 2 or 3 artifact is read
with none. Format 3 added check_severity, severity_reason and controls to findings, and other_severities and controls to
outcomes. A format 2 artifact (an earlier run) is still read: its findings take the severity their check's
outcome recorded as check_severity, and controls come from the current catalogue by check id.

A notebook run in JupyterLab on its own evaluates and writes the artifact on first use; a notebook of
`idbridge run` reads the one the run wrote (`evaluation_for`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path

from idbridge.checks.accepted import ExceptionStatus, as_records
from idbridge.checks.base import REGISTRY, Finding
from idbridge.checks.controls import from_record, labels
from idbridge.checks.evaluate import Evaluation, Verdict, checks_fingerprint, evaluate_snapshot
from idbridge.checks.runner import CheckOutcome, CheckResults
from idbridge.core.csvsafe import write_csv
from idbridge.core.files import write_text_atomic

log = logging.getLogger(__name__)

FORMAT = 4
READABLE = (2, 3, 4)  # formats read_evaluation accepts (2: before severities and controls were recorded per finding;
#                       3: before accepted exceptions)
FINDINGS_JSON = "findings.json"


def to_document(evaluation: Evaluation) -> dict:
    from idbridge import __version__

    return {"format": FORMAT, "idbridge_version": __version__, "collected_at": evaluation.collected_at,
            "checks_fingerprint": evaluation.checks_fingerprint, "evaluated_at": evaluation.evaluated_at,
            "fail_on": evaluation.fail_on,
            "verdict": evaluation.verdict.as_dict(), "sources": evaluation.sources,
            "outcomes": [asdict(o) for o in evaluation.results.outcomes],
            "findings": [asdict(f) for f in evaluation.results.findings],
            "exceptions": as_records(evaluation.exceptions)}


def from_document(document: dict) -> Evaluation:
    if document.get("format") == 2:
        document = _from_format_2(document)
    outcomes = [CheckOutcome(**{**o, "controls": tuple(from_record(c) for c in o.get("controls") or ())})
                for o in document["outcomes"]]
    findings = [Finding(**{**f, "references": tuple(f.get("references") or ()),
                           "controls": tuple(from_record(c) for c in f.get("controls") or ())})
                for f in document["findings"]]
    return Evaluation(CheckResults(outcomes, findings), document.get("sources", {}), document["fail_on"],
                      Verdict.from_dict(document["verdict"]), document.get("collected_at", ""),
                      document.get("checks_fingerprint", ""), document.get("evaluated_at", ""),
                      [ExceptionStatus.from_dict(e) for e in document.get("exceptions") or ()])


def _from_format_2(document: dict) -> dict:
    """A format 2 document in format 3's shape: the check severity each outcome recorded; controls and the reason
    for a graded severity from the catalogue (they belong to the check, not to the run), for checks it still has."""
    from idbridge.checks import load_all

    load_all()

    def mapped(check_id: str) -> list[dict]:
        check = REGISTRY.get(check_id)
        return [asdict(c) for c in check.meta.controls] if check else []

    def reason(finding: dict, catalogue: str) -> str:
        check = REGISTRY.get(finding["check_id"])
        graded = dict(check.meta.graded) if check and check.meta.severity == catalogue else {}
        return graded.get(finding["severity"], "") if finding["severity"] != catalogue else ""

    severity = {o["check_id"]: o.get("severity", "") for o in document["outcomes"]}
    return {**document, "format": FORMAT,
            "outcomes": [{**o, "controls": mapped(o["check_id"])} for o in document["outcomes"]],
            "findings": [{**f, "check_severity": severity.get(f["check_id"], ""),
                          "severity_reason": reason(f, severity.get(f["check_id"], "")),
                          "controls": mapped(f["check_id"])} for f in document["findings"]]}


def write_evaluation(evaluation: Evaluation, out_dir: str | Path) -> dict[str, Path]:
    """findings.json, findings.csv and checks.csv into out_dir, each written atomically."""
    out_dir = Path(out_dir)
    paths = {"json": out_dir / FINDINGS_JSON, "csv": out_dir / "findings.csv", "checks": out_dir / "checks.csv"}
    frame = evaluation.results.findings_frame()
    frame["evidence"] = frame["evidence"].map(lambda e: json.dumps(e, default=str))
    frame["references"] = frame["references"].map(" ".join)
    frame["controls"] = frame["controls"].map(labels)
    write_csv(paths["csv"], frame)  # spreadsheet-safe: tenant names there may look like formulas
    checks = evaluation.results.outcomes_frame()
    checks["controls"] = checks["controls"].map(labels)
    write_csv(paths["checks"], checks)
    # The JSON last: its presence says the evaluation was written whole.
    write_text_atomic(paths["json"], json.dumps(to_document(evaluation), indent=1, default=str))
    return paths


def read_evaluation(path: str | Path) -> Evaluation:
    """The evaluation in a findings.json (or a run folder holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / FINDINGS_JSON
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or document.get("format") not in READABLE:
        raise ValueError(f"{path}: not a findings artifact this idbridge reads (format "
                         f"{' or '.join(map(str, READABLE))})")
    return from_document(document)


def evaluation_for(snapshot, params, run_dir: str | Path | None, *, write: bool = True) -> Evaluation:
    """The run's evaluation of this snapshot: read from run_dir/findings.json when that was written for this
    snapshot under the same parameters, else evaluated now and (with `write`) written there, so that the next
    notebook of the run reads it."""
    path = Path(run_dir) / FINDINGS_JSON if run_dir else None
    collected_at = str(snapshot.manifest.get("collected_at", ""))
    if path is not None and path.exists():
        try:
            found = read_evaluation(path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("%s unreadable (%s): evaluating again", path, exc)
        else:
            if found.collected_at == collected_at and found.checks_fingerprint == checks_fingerprint(params):
                return found
            log.info("%s is of another snapshot or other parameters: evaluating again", path)
    evaluation = evaluate_snapshot(snapshot, params)
    if path is not None and write:
        write_evaluation(evaluation, path.parent)
    return evaluation
