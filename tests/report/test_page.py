"""The shared parts of every report: score, header, banner, expandable findings, tables, failure panel."""

from __future__ import annotations

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from idbridge.checks.base import Finding
from idbridge.checks.evaluate import Evaluation, Verdict
from idbridge.checks.runner import CheckOutcome, CheckResults
from idbridge.kit.render import for_readers
from idbridge.report import page
from idbridge.report.safe import readable, table_html


def outcome(check_id, severity, status):
    return CheckOutcome(check_id, check_id, "access", severity, status, 1 if status == "fail" else 0)


def finding(check_id, severity, subject, fix="Do the whole fix, every word of it " * 5):
    return Finding(check_id, f"title {check_id}", severity, "access", subject, f"detail {subject}",
                   {"account": "prod", "groups": ["a", "b"]}, "what it means", fix, ("https://docs.example/x",))


def test_score_is_passed_over_run_weighted_by_severity():
    assert page.score([outcome("a", "critical", "pass"), outcome("b", "high", "fail")]) == 62.5
    assert page.score([outcome("a", "low", "pass"), outcome("b", "low", "pass")]) == 100.0
    # Checks that did not run are in neither sum: they cannot raise or lower the score.
    ran = [outcome("a", "medium", "pass"), outcome("b", "medium", "fail")]
    assert page.score(ran + [outcome("c", "critical", "not_checked"), outcome("d", "high", "not_applicable"),
                             outcome("e", "high", "error")]) == page.score(ran) == 50.0
    assert page.score([outcome("c", "critical", "not_checked")]) is None


def test_a_critical_failure_costs_more_than_a_low_one():
    critical_fails = page.score([outcome("a", "critical", "fail"), outcome("b", "low", "pass")])
    low_fails = page.score([outcome("a", "critical", "pass"), outcome("b", "low", "fail")])
    assert critical_fails < 50 < low_fails


def _evaluation(findings, outcomes):
    counts = {"pass": sum(o.status == "pass" for o in outcomes), "fail": sum(o.status == "fail" for o in outcomes),
              "not_checked": 0, "not_applicable": 0, "error": 0, "checks": len(outcomes)}
    verdict = Verdict("fail", 1, "FAIL: something", ("check x.y: not collected: boom",), counts)
    return Evaluation(CheckResults(outcomes, findings), {}, "high", verdict)


def test_the_banner_shows_counts_score_and_the_top_three_with_whole_fixes():
    findings = [finding("c.low", "low", "z"), finding("c.high", "high", "b"), finding("c.high", "high", "a"),
                finding("c.crit", "critical", "q"), finding("c.med", "medium", "m")]
    outcomes = [outcome(c, s, "fail") for c, s in [("c.low", "low"), ("c.high", "high"), ("c.crit", "critical"),
                                                    ("c.med", "medium")]] + [outcome("c.ok", "high", "pass")]
    html = page.banner_html(_evaluation(findings, outcomes))
    assert "data-status='fail'" in html and ">FAIL<" in html
    assert "<b>1</b><span>passed" in html and "<b>4</b><span>failed" in html
    assert f"<b>{page.score(outcomes):g}%</b>" in html
    todo = html[html.index("Top three"):]
    titles = [t for t in ("title c.crit", "title c.high", "title c.med", "title c.low") if t in todo]
    assert titles == ["title c.crit", "title c.high", "title c.med"], "worst three, worst first"
    assert ("Do the whole fix, every word of it " * 5).strip() in html and "…" not in html


def test_findings_expand_sorted_by_severity_then_subject_with_a_place_for_controls():
    findings = [finding("c.low", "low", "a"), finding("c.high", "high", "zeta"), finding("c.high", "high", "alpha"),
                finding("c.crit", "critical", "m")]
    html = page.findings_html(CheckResults([], findings))
    assert html.count("<details") == 3
    assert html.index("id='check-c-crit'") < html.index("id='check-c-high'") < html.index("id='check-c-low'")
    high = html[html.index("id='check-c-high'"):html.index("id='check-c-low'")]
    assert high.index("<td>alpha</td>") < high.index("<td>zeta</td>")
    for part in ("What it means", "How to fix", "Evidence", "Documentation", "href='https://docs.example/x'"):
        assert part in high
    assert "class='controls-slot'></div>" in high, "no controls field yet: the slot shows nothing"


def test_findings_show_controls_when_checks_carry_them():
    class WithControls:
        def __init__(self, base):
            self.__dict__.update(base.__dict__)
            self.controls = ("NIST SP 800-53 AC-2", "ISO/IEC 27001 A.5.18")
    html = page.findings_html(CheckResults([], [WithControls(finding("c.high", "high", "x"))]))
    assert "Controls" in html and "NIST SP 800-53 AC-2" in html


def test_the_header_names_every_field_and_a_filter_says_so():
    class Params:
        engagement = "contoso"
        graph = type("G", (), {"tenant_id": "tid"})()
        aws = type("A", (), {"instance_arn": "arn:aws:sso:::instance/ssoins-1"})()
    html = page.header_html(page.context(Params(), None, {"account": "prod <b>", "group": ""}))
    for field in page.HEADER_FIELDS:
        assert f"data-field='{field}'" in html
    assert "contoso" in html and "tid" in html and "ssoins-1" in html
    assert "account = prod &lt;b&gt;" in html and "count only what the filter selects" in html


def test_tables_read_as_words_with_nothing_missing_shown_as_nan_or_none():
    frame = pd.DataFrame({"check_id": ["a.b", None], "lastSignInDays": [3.0, float("nan")],
                          "severity": ["high", "low"], "groups": [["x", "y"], []]})
    html = table_html(frame)
    assert "<th>Check ID</th>" in html and "<th>Last sign in days</th>" in html
    assert "NaN" not in html and "None" not in html and "3.0" not in html and "<td>3</td>" in html
    assert "class='sev sev-high'>high<" in html and "<td>x, y</td>" in html
    assert "<th></th>" not in html and ">0<" not in html, "no index column"
    assert readable("accountId") == "Account ID" and readable("permission set") == "Permission set"


def _failed_notebook():
    return new_notebook(cells=[
        new_markdown_cell("# Title"), new_code_cell("x", outputs=[new_output("stream", name="stderr", text="warn")]),
        new_markdown_cell("## Access paths"),
        new_code_cell("boom()", outputs=[new_output("error", ename="NotCollected", evalue="entra.users: DNS",
                                                    traceback=["Traceback (most recent call last)", "..."])]),
        new_markdown_cell("## Later section"), new_code_cell("later()")])


def test_a_failure_is_one_panel_not_a_traceback_and_nothing_after_it():
    nb = _failed_notebook()
    banner = new_markdown_cell("<span>An Exception was encountered</span>")
    banner.metadata["tags"] = ["papermill-error-cell-tag"]
    nb.cells.insert(0, banner)
    shown = for_readers(nb, "20_access_review")
    text = nbformat.writes(shown)
    assert "Traceback" not in text and "An Exception was encountered" not in text and "warn" not in text
    assert "Later section" not in text
    panel = shown.cells[-1].outputs[0]["data"]["text/html"]
    for part in ("What failed", "Access paths", "Why", "NotCollected: entra.users: DNS", "What to do",
                 "notebooks/20_access_review.ipynb"):
        assert part in panel
    assert "Traceback" in nbformat.writes(nb), "the audit record keeps it"


def test_each_finding_shows_its_controls_and_the_report_sums_them_up_per_framework():
    from dataclasses import replace

    from idbridge.checks.controls import cis_aws, iso, nist

    mapped = nist("AC-6(5)", "AC-2") + iso("8.2") + cis_aws("1.16")
    found = replace(finding("c.high", "high", "a"), controls=mapped)
    html = page.findings_html(CheckResults([], [found]))
    slot = html[html.index("controls-slot"):]
    # Ordered as the frameworks number them, each with its published title.
    assert slot.index("NIST 800-53 AC-2</b> Account Management") < slot.index("NIST 800-53 AC-6(5)</b>")
    assert "ISO 27001 A.8.2</b> Privileged access rights" in slot and "CIS AWS 3.0.0 1.16" in slot

    outcomes = [replace(outcome("c.high", "high", "fail"), controls=mapped),
                replace(outcome("c.ok", "low", "pass"), controls=nist("AC-2") + iso("5.18")),
                replace(outcome("c.nc", "low", "not_checked"), controls=nist("AU-6") + iso("8.16"))]
    summary = page.framework_summary_html(CheckResults(outcomes, [found]))
    import re

    frameworks = re.findall(r"<li data-framework='([^']+)'>", summary)
    assert frameworks == ["NIST SP 800-53 Rev. 5", "ISO/IEC 27001:2022 Annex A",
                          "CIS AWS Foundations Benchmark v3.0.0"]
    # AC-2 fails (one of its two checks failed), AC-6(5) fails, AU-6 was not checked; ISO A.5.18 passes.
    assert "3 controls — 2 fail, 1 not checked</li>" in summary and "3 controls — 1 pass, 1 fail, 1 not checked" \
        in summary
    table = summary[summary.index("<table"):]
    assert table.count("<tr>") == 1 + 7  # one table: every control of every framework, a column says which
    assert "<td>NIST 800-53</td><td>AC-2 Account Management</td>" in table and "2 of 2 ran: 1 passed, 1 failed" \
        in table
    assert page.framework_summary_html(CheckResults([], [])).startswith("<p class='idbridge-empty'>")
    none_ran = page.framework_summary_html(CheckResults(outcomes[2:], []))
    assert none_ran.startswith("<p class='idbridge-empty'>Not checked: no check mapped to a control ran") and \
        "NIST SP 800-53 Rev. 5: 1 control;" in none_ran and "<table" not in none_ran
