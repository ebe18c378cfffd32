"""Every function that shows tenant data in a report, fed hostile names: what it returns is shown as text.

The data is a collection of scenarios/hostile.yaml (names that are script, markup, plotly markup and formulas), and
hand-made values where a report shows something no scenario carries (a diff, a runbook's notes, a reviewer's cell).
"Shown" is what a notebook cell would put in the report: a DataFrame's or Styler's HTML, a Text's HTML, the
strings of a plotly figure (plotly renders its own subset of HTML in them), the run's index page.
"""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import nbformat
import pandas as pd
import plotly.graph_objects as go
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from idbridge.checks.evaluate import ACCESS_AREAS, evaluate_snapshot
from idbridge.checks.settings import settings_for
from idbridge.model import signins
from idbridge.model.access.build import build_access
from idbridge.report import access as access_report
from idbridge.report import decisions as decisions_report
from idbridge.report import safe
from idbridge.report import signins as signin_report
from idbridge.report import validation
from support.sandbox import collected_snapshot

SCRIPT = "<script>document.title='x'</script>"
PLOTLY_LINK = '<a href="https://evil.example">Click to approve</a><br><b>AWS-Prod-Admins</b>'
IDC_USER = "<svg/onload=document.title='svg-idc-user'>"
PAYLOADS = [SCRIPT, PLOTLY_LINK, IDC_USER, "<img src=x onerror=document.title='img'>",
            "\"><svg onload=document.title='svg'>"]
# An element a payload would have become: HTML that runs or links, or plotly's markup (links, bold, line breaks).
ELEMENT = re.compile(r"<\s*/?\s*(script|img|svg|a|b|i|br|em|sup|sub|span|iframe)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    snapshot = collected_snapshot("hostile", tmp_path_factory.mktemp("hostile"))
    settings = settings_for(snapshot.params, snapshot.manifest["collected_at"])
    access = build_access(snapshot, settings)
    evaluation = evaluate_snapshot(snapshot, snapshot.params)
    return SimpleNamespace(snapshot=snapshot, settings=settings, access=access, evaluation=evaluation,
                           results=evaluation.results, act=signins.activity(snapshot, settings))


def _strings(node, key=""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _strings(v, k)
    elif isinstance(node, (list, tuple)):
        for v in node:
            yield from _strings(v, key)
    elif isinstance(node, str) and key != "hovertemplate":  # the code's own template (<extra></extra>)
        yield node


def shown(value) -> str:
    """What the report holds for a cell that returns `value` (a figure: every string plotly may render)."""
    if isinstance(value, go.Figure):
        return "\n".join(_strings(value.to_plotly_json()))
    if isinstance(value, pd.DataFrame):
        return value._repr_html_()
    if hasattr(value, "to_html") and hasattr(value, "data"):  # a Styler
        return value.to_html()
    if hasattr(value, "_repr_html_"):
        return value._repr_html_()
    if hasattr(value, "data"):  # IPython.display.HTML
        return value.data
    raise AssertionError(f"not something a report shows: {type(value)}")


def assert_inert(value, *, holds: tuple[str, ...] = ()) -> str:
    """No element from data in what `value` shows; and each of `holds` (raw payloads) is there, escaped."""
    markup = shown(value)
    own = ("<div class='idbridge-text tex2jax_ignore'>", "<strong>", "</strong>", "<code>", "</code>", "<p>",
           "</p>", "<ul>", "</ul>", "<li>", "</li>", "<br>")
    stripped = markup
    # Figures: only the line break, which the report adds itself to wrap long labels after escaping them.
    for tag in (own if not isinstance(value, go.Figure) else ("<br>",)):
        stripped = stripped.replace(tag, "")
    found = ELEMENT.search(stripped)
    assert not found, f"{found.group(0)!r} in {stripped[max(0, found.start() - 200):found.end() + 200]}"
    text = html.unescape(markup)  # pandas escapes & < > only, and cuts long cells: the start is enough
    for payload in holds:
        assert payload[:40] in text, f"{payload!r} is not shown"
    return markup


# --------------------------------------------------------------------------------------------- access review


def test_access_review_tables(hostile):
    results = hostile.evaluation.for_areas(ACCESS_AREAS)
    assert_inert(access_report.executive_summary(hostile.access, results))
    assert_inert(access_report.top_risks(results), holds=(PLOTLY_LINK,))
    assert_inert(access_report.first_actions(results))
    assert_inert(access_report.permission_set_risk(hostile.snapshot, hostile.access, 8))
    assert_inert(access_report.access_table(hostile.access), holds=(SCRIPT, PLOTLY_LINK, IDC_USER))
    assert_inert(access_report.access_findings(results, hostile.access, group=PLOTLY_LINK), holds=(PLOTLY_LINK,))


def test_access_review_figures(hostile):
    assert_inert(access_report.heatmap_figure(hostile.access, "group"), holds=(PLOTLY_LINK, SCRIPT))
    assert_inert(access_report.heatmap_figure(hostile.access, "user"), holds=(IDC_USER, SCRIPT))
    filtered = access_report.heatmap_figure(hostile.access, "group", group=PLOTLY_LINK)
    assert PLOTLY_LINK in str(filtered.layout.title.text).replace("&lt;", "<").replace("&gt;", ">")
    assert_inert(filtered, holds=(PLOTLY_LINK,))
    assert_inert(access_report.sankey_figure(hostile.access), holds=(IDC_USER, SCRIPT, PLOTLY_LINK))
    assert_inert(access_report.sankey_figure(hostile.access, group=SCRIPT), holds=(SCRIPT,))


def test_sentences_quote_filters_and_names_as_text(hostile):
    nobody = access_report.heatmap_figure(hostile.access, "user", user=PAYLOADS[3])
    assert isinstance(nobody, safe.Text)
    assert_inert(nobody, holds=(PAYLOADS[3],))
    assert_inert(access_report.sankey_figure(hostile.access, account=PAYLOADS[4]), holds=(PAYLOADS[4],))
    assert_inert(access_report.access_table(hostile.access, group=SCRIPT + "!"), holds=(SCRIPT,))


# --------------------------------------------------------------------------------------------- sign-ins


def test_signin_tables_and_figures(hostile):
    act, access = hostile.act, hostile.access
    people = signin_report.people(hostile.snapshot, hostile.settings, access, act)
    assert_inert(signin_report.overview(act))
    assert_inert(signin_report.timeline_figure(act))
    assert_inert(signin_report.results_figure(act))
    assert_inert(signin_report.correlation_table(act), holds=("<img src=x onerror=document.title='nameid'>",))
    assert_inert(signin_report.failures_table(act), holds=("<img src=x onerror=document.title='nameid'>",))
    assert_inert(signin_report.people_table(people), holds=(IDC_USER,))
    assert_inert(signin_report.last_use_table(access, people))
    assert_inert(signin_report.stale_table(people, 1))
    assert_inert(signin_report.sources(hostile.snapshot))


def test_signin_sentences_quote_why_as_text():
    act = SimpleNamespace(entra=f"not collected: {SCRIPT}", aws=f"denied {PLOTLY_LINK}", window="30 days",
                          correlation=pd.DataFrame(columns=["person", "category"]))
    assert_inert(signin_report.timeline_figure(act), holds=(SCRIPT, PLOTLY_LINK))
    assert_inert(signin_report.correlation_table(act), holds=(SCRIPT,))


# --------------------------------------------------------------------------------------------- validation


def test_validation_tables_and_figures(hostile):
    results, snapshot = hostile.results, hostile.snapshot
    assert_inert(validation.verdict_banner(hostile.evaluation))
    assert_inert(validation.summary(results))
    assert_inert(validation.first_actions(results))
    for area in ("saml", "provisioning", "reconcile", "scim", "aws"):
        assert_inert(validation.area_table(results, area))
    assert_inert(validation.area_table(results, "reconcile"), holds=(PLOTLY_LINK, SCRIPT))
    assert_inert(validation.findings_by_area_figure(results))
    certificate = validation.certificate_figure(snapshot, hostile.settings.now, [30, 60])
    assert_inert(certificate, holds=('CN=<b>FC</b><br><a href="https://evil.example">renew now</a>',))
    assert_inert(validation.provisioning_errors_figure(snapshot))
    assert_inert(validation.provisioning_errors(snapshot))


def test_the_verdict_banner_escapes_reasons():
    from idbridge.checks.evaluate import Verdict

    verdict = Verdict("fail", 1, f"FAIL: {SCRIPT}", (f"check a.b: {PLOTLY_LINK}", PAYLOADS[3]))
    banner = validation.verdict_banner(SimpleNamespace(verdict=verdict))
    assert_inert(banner, holds=(SCRIPT, PLOTLY_LINK, PAYLOADS[3]))


# --------------------------------------------------------------------------------------------- review decisions


def test_a_hostile_returned_workbook_is_listed_as_text(tmp_path, monkeypatch):
    from openpyxl import load_workbook

    from idbridge.errors import InputError
    from idbridge.review import write_review_packs
    from support.review_tables import META, make_access, make_findings

    access = make_access()
    folder = tmp_path / "returned"
    packs = write_review_packs(access, make_findings(), folder, "account_owner", None, META)
    book = load_workbook(packs[0])
    book["Access"]["O2"] = SCRIPT
    book.save(packs[0])
    book = load_workbook(packs[1])
    book["Access"]["O1"] = PLOTLY_LINK
    book.save(folder / "review-<img src=x onerror=alert(1)>.xlsx")
    packs[1].unlink()
    displayed = []
    monkeypatch.setattr(decisions_report, "show", displayed.append)
    from types import SimpleNamespace

    # Unsigned packs (no key in this test) are read only when the parameters allow it: then the cells are checked.
    params = SimpleNamespace(review=SimpleNamespace(signing_key=None, allow_unsigned=True))
    with pytest.raises(InputError):
        decisions_report.read_returned(folder, access, META, params)
    (text,) = displayed
    assert_inert(text, holds=(SCRIPT, PLOTLY_LINK, "review-<img src=x onerror=alert(1)>.xlsx"))


def test_plan_sentences():
    from idbridge.plan import Change, Plan

    plan = Plan("review-removals", [Change("delete", "entra.group_member", f"{SCRIPT} / member x", PLOTLY_LINK)])
    assert_inert(decisions_report.plan_table(plan), holds=(SCRIPT, PLOTLY_LINK))
    assert_inert(decisions_report.apply_summary(plan, None))
    from idbridge.plan import Outcome
    refused = [Outcome(plan.changes[0], "refused", f"the group now also grants {SCRIPT}")]
    assert_inert(decisions_report.apply_summary(plan, refused), holds=(SCRIPT,))


# --------------------------------------------------------------------------------------------- changes


def _frame():
    return pd.DataFrame({"person": [IDC_USER], "account": [SCRIPT], "via": [PLOTLY_LINK], "n": [None]})


def test_the_changes_report_escapes_the_diff_tables(tmp_path, monkeypatch):
    from idbridge.history import report as changes
    from idbridge.history.diff import SnapshotDiff

    empty = pd.DataFrame()
    diff = SnapshotDiff(f"2026-01-01 {SCRIPT}", "2026-02-01", _frame(), empty, _frame(), empty, _frame(), empty,
                        _frame(), empty, not_compared={"access_lost": f"not collected: {PLOTLY_LINK}"})
    before = SimpleNamespace(directory=tmp_path / PAYLOADS[3] / "snapshot")
    assert_inert(changes.headline(diff, before), holds=(PAYLOADS[3], SCRIPT))
    for name in ("access_gained", "new_admins", "assignments_added", "findings_new"):
        assert_inert(changes.section(diff, name), holds=(SCRIPT, PLOTLY_LINK, IDC_USER))
    assert_inert(changes.section(diff, "access_lost"), holds=(PLOTLY_LINK,))
    assert_inert(changes.section(diff, "admins_gone"))
    assert_inert(changes.summary(diff))
    runs = pd.DataFrame({"run": [SCRIPT, PLOTLY_LINK], "severity": ["high", "high"], "findings": [1, 2]})
    monkeypatch.setattr(changes, "findings_over_time", lambda *_: runs)
    assert_inert(changes.findings_over_time_figure(tmp_path), holds=(SCRIPT, PLOTLY_LINK))


# --------------------------------------------------------------------------------------------- runbooks


def test_runbook_notes_checkpoints_and_metadata(tmp_path):
    from idbridge.plan import Change, Outcome
    from idbridge.runbooks import results
    from idbridge.runbooks.checkpoints import CheckpointResult
    from idbridge.runbooks.saml_metadata import FederationMetadata

    change = Change("create", "entra.app", SCRIPT, PLOTLY_LINK)
    step = SimpleNamespace(plan=SimpleNamespace(changes=[change]), notes=[f"found the app {SCRIPT!r}", PLOTLY_LINK])
    assert_inert(results.notes(step), holds=(SCRIPT, PLOTLY_LINK))
    assert_inert(results.summary([Outcome(change, "planned", PAYLOADS[3])]))
    assert_inert(results.outcomes_table([Outcome(change, "failed", PAYLOADS[3])]), holds=(PAYLOADS[3],))
    checkpoint = CheckpointResult("scim_users", "users {created} by SCIM", (f"the test user {IDC_USER} first",),
                                  "waiting", f"test user was created by {PLOTLY_LINK}")
    assert_inert(checkpoint, holds=(IDC_USER, PLOTLY_LINK))
    metadata = SimpleNamespace(entity_id=f"https://sts.windows.net/{SCRIPT}/",
                               signing_certificate=SimpleNamespace(describe=lambda: PLOTLY_LINK))
    assert_inert(FederationMetadata(tmp_path / "<b>x</b>.xml", metadata, f"https://x/{PAYLOADS[3]}"),
                 holds=(SCRIPT, PLOTLY_LINK, PAYLOADS[3], "<b>x</b>.xml"))


# --------------------------------------------------------------------------------------------- index and render


def test_the_run_index_escapes_every_value_and_links_only_into_the_run(tmp_path):
    from idbridge.kit.index import write_index

    record = {"engagement": SCRIPT, "run_dir": str(tmp_path / "<b>run</b>"), "sandbox": True,
              "started": PAYLOADS[3], "finished": "2026", "exit_code": 1, "exit_meaning": PAYLOADS[4],
              "headline": PLOTLY_LINK, "verdict": {"status": "fail", "word": SCRIPT}, "reasons": [PLOTLY_LINK],
              "fail_on": SCRIPT, "skipped": [IDC_USER],
              "links": [["javascript:alert(1)", SCRIPT], ["https://evil.example", "Click"], ["setup/index.html", "ok"]],
              "notebooks": [{"name": "20", "title": PLOTLY_LINK, "ok": False, "error": SCRIPT, "seconds": 1.0,
                             "notebook": "notebooks/20.ipynb", "report": "reports/20.html"}]}
    page = write_index(tmp_path, record).read_text(encoding="utf-8")
    links = re.findall(r"<a href='([^']*)'", page)
    assert links == ["reports/20.html", "notebooks/20.ipynb", "setup/index.html", "run.json", "run.log",
                     "parameters.yaml"]
    bare = re.sub(r"<a href='[^']*'>|</a>", "", page)
    assert not re.search(r"<\s*(script|img|svg|a)\b", bare, re.IGNORECASE)
    for payload in (SCRIPT, PLOTLY_LINK, IDC_USER, PAYLOADS[3]):
        assert safe.html_text(payload) in page


def test_a_rendered_report_shows_outputs_errors_and_streams_as_text(tmp_path):
    from idbridge.kit.render import render_report

    text = safe.Text("**{n} problems**: {what}", n=1, what=SCRIPT)
    outputs = [new_output("display_data", data={"text/html": text._repr_html_(), "text/plain": str(text)}),
               new_output("display_data", data={"text/html": _frame()._repr_html_()}),
               new_output("stream", name="stdout", text=f"{PLOTLY_LINK}\n"),
               new_output("error", ename="InputError", evalue=SCRIPT,
                          traceback=[f"\x1b[31mInputError\x1b[0m: {SCRIPT} {PAYLOADS[3]}"])]
    nb = new_notebook(cells=[new_code_cell("x", outputs=outputs)])
    page = render_report(nb, tmp_path / "r.html", title=SCRIPT).read_text(encoding="utf-8")
    for payload in (*PAYLOADS, "<img src=x"):
        assert payload not in page
    assert page.count(safe.html_text(SCRIPT)) + page.count(SCRIPT.replace("<", "&lt;").replace(">", "&gt;")) >= 4
    assert nbformat.validate(nb) is None
