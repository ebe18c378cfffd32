"""The access review and sign-in reports on the demo snapshot: each figure carries data, each table what the
notebook promises, filters narrow them."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from idbridge.checks.evaluate import ACCESS_AREAS, evaluate
from idbridge.checks.settings import settings_for
from idbridge.model import signins
from idbridge.model.access.build import build_access
from idbridge.report import access as report
from idbridge.report import decisions
from idbridge.report import signins as signin_report


@pytest.fixture(scope="module")
def demo(demo_snapshot):
    settings = settings_for(demo_snapshot.params, demo_snapshot.manifest["collected_at"])
    access = build_access(demo_snapshot, settings)
    results = evaluate(demo_snapshot, demo_snapshot.params, ACCESS_AREAS)
    return demo_snapshot, settings, access, results


def test_executive_summary_counts(demo):
    _, _, access, results = demo
    summary = report.executive_summary(access, results).set_index("what")["count"]
    assert summary["People with AWS access"] > 100
    assert summary["Admins"] >= summary["Production admins"] > 0
    assert summary["Guests with access"] == 2
    assert summary["Disabled or deleted in Entra, still holding access"] == 2
    assert summary["Findings: high"] == int((results.findings_frame()["severity"] == "high").sum())
    top = report.top_risks(results)
    assert top["severity"].iloc[0] == "high" and top["risk"].is_unique
    headline = report.headline(access)
    assert headline == (f"{summary['Admins']} of {summary['People with AWS access']} people with AWS access are "
                        f"admins somewhere; {summary['Production admins']} in production.")
    assert len(report.first_actions(results))


def test_heatmaps_are_capped_and_coloured_by_privilege(demo):
    _, _, access, _ = demo
    people = report.heatmap_figure(access, "user")
    heat = people.data[0]
    assert isinstance(heat, go.Heatmap) and len(heat.y) == report.HEATMAP_ROWS
    assert "the 60 most privileged of" in people.layout.title.text
    assert heat.z[0].max() == 4, "the most privileged first"
    groups = report.heatmap_figure(access, "group")
    assert "AWS-Prod-Admins" in groups.data[0].y and "most privileged" not in groups.layout.title.text
    one = report.heatmap_figure(access, "user", user="sanne.devries@northwind-analytics.com")
    assert list(one.data[0].y) == ["sanne.devries@northwind-analytics.com"] and "filtered to user" in \
        one.layout.title.text
    assert report.heatmap_figure(access, "user", user="nobody@example.com").startswith("No effective access")


def test_sankey_follows_every_hop(demo):
    _, _, access, _ = demo
    riskiest = report.sankey_figure(access)
    assert "sanne.devries@northwind-analytics.com" in riskiest.layout.title.text
    labels = set(riskiest.data[0].node.customdata)  # the full labels; the node shows them without the kind
    assert "insights-prod" in riskiest.data[0].node.label and "AdministratorAccess (admin)" in \
        riskiest.data[0].node.label
    assert {"IdC user sanne.devries@northwind-analytics.com", "account insights-prod",
            "set AdministratorAccess (admin)", "Entra group AWS-Developers"} <= labels
    nested = report.sankey_figure(access, group="AWS-Data-ReadOnly")
    assert any(label.endswith("(nested)") for label in nested.data[0].node.customdata)
    assert "rgba(134,142,150,0.45)" in nested.data[0].link.color, "paths that do not work in AWS are grey"
    capped = report.sankey_figure(access, account="data-prod", max_people=10)
    assert "the 10 most privileged of" in capped.layout.title.text


def test_permission_sets_access_table_and_findings(demo):
    snapshot, _, access, results = demo
    sets = report.permission_set_risk(snapshot, access, 8).set_index("permission set")
    assert sets.loc["SupportUser", "people"] == 0, "a set assigned nowhere is listed too"
    assert sets.loc["DataEngineer", "session over the maximum"] == "yes"
    assert sets.index[0] in ("AdministratorAccess", "DeveloperSandbox")
    table = report.access_table(access, group="AWS-Data-ReadOnly")
    assert set(table["works in AWS"]) == {"yes", "no"} and table["path_id"].is_unique
    # Every path is a row: nothing cut (the report's table pages through them).
    assert len(report.access_table(access)) == len(access) > 200
    findings = report.access_findings(results, access, user="sanne.devries@northwind-analytics.com")
    subjects = set(findings["subject"]) - {""}
    assert "user:sanne.devries@northwind-analytics.com" in subjects
    assert not any(s.startswith("user:") and "sanne" not in s for s in subjects)


def test_review_outputs_are_written(demo, tmp_path):
    snapshot, _, access, results = demo
    from idbridge.report.review_packs import write_review_outputs

    files = write_review_outputs(access, results, snapshot, tmp_path, "group_owner")
    assert all((tmp_path / f).exists() for f in files["file"])
    assert any(f.startswith("review/review-") for f in files["file"]) 
    assert not list(tmp_path.rglob("*findings*")), "the findings are the run's one artifact, not written again"
    assert (tmp_path / "review" / "access.csv").exists()
    packs = files[files["file"].str.startswith("review/review-")]
    assert packs["what"].str.contains("UNSIGNED (no review.signing_key in the parameters)", regex=False).all()


def test_signin_figures_and_tables(demo):
    snapshot, settings, access, _ = demo
    act = signins.activity(snapshot, settings)
    timeline = signin_report.timeline_figure(act)
    assert {bar.name for bar in timeline.data} >= {signins.BOTH, signins.ENTRA_FAILED, signins.REFUSED}
    assert sum(sum(bar.y) for bar in timeline.data) == len(act.correlation)
    results = signin_report.results_figure(act)
    counts = dict(zip(results.data[0].y, map(int, results.data[0].text)))
    assert sum(counts.values()) == len(act.entra) + len(act.aws)
    # AWS's few refusals are a bar of their own on a log axis, their count written on it: visible beside 500+.
    assert counts["AWS: refused"] == int((~act.aws["ok"]).sum()) > 0 and results.layout.xaxis.type == "log"
    table = signin_report.correlation_table(act)
    assert len(table) == len(act.correlation), "every sign-in is a row: none hidden"
    assert "." not in "".join(map(str, table["seconds apart"])), "whole seconds"
    assert table["what happened"].iloc[0] != signins.BOTH, "problems first"
    mateus = table[table["user"] == "mateus.ferreira@northwind-analytics.com"]
    assert (mateus["what happened"] == signins.REFUSED).any()
    failures = signin_report.failures_table(act)
    assert failures["what happened"].str.contains("AADSTS50126: wrong user name or password").any()
    overview = signin_report.overview(act).set_index("what")["count"]
    assert overview["Entra: sign-ins to the AWS app"] == str(len(act.entra))

    scoped = signin_report.scope(access, group="AWS-Prod-Admins")
    assert signin_report.scope(access) is None
    people = signin_report.people(snapshot, settings, access, act)
    shown = signin_report.people_table(people, scoped)
    assert 0 < len(shown) < len(people)
    assert len(signin_report.correlation_table(act, scoped)) < len(table)
    stale = signin_report.stale_table(people, settings.checks.stale_after_days)
    assert "charlotte.pemberton-hale@northwind-analytics.com" in set(stale["person"])
    everyone = signin_report.people_table(people)
    assert all(isinstance(d, int) or d == "no sign-in seen" for d in everyone["days since last sign-in"])
    assert not everyone["last failure"].eq("none").any()
    verdict = signin_report.verdict(act, people, settings.checks.stale_after_days)
    assert verdict.status == "fail" and any("AWS refused" in line for line in verdict.lines)
    assert "data-status='fail'" in verdict._repr_html_()
    assert set(signin_report.sources(snapshot)["status"]) == {"complete"}


def test_an_empty_plan_says_so():
    from idbridge.plan import Plan

    plan = Plan("review-removals")
    assert decisions.plan_table(plan).startswith("**No removals**")
    assert decisions.apply_summary(plan, None) == "Nothing to apply."


def test_the_risk_list_leaves_out_what_the_banner_already_says(demo):
    """One list of risks: the checks of the banner's "top three things to do" are not repeated below it."""
    from types import SimpleNamespace

    from idbridge.report.page import top_actions

    _, _, _, results = demo
    banner = {a["title"] for a in top_actions(results)}
    everything = report.top_risks(results)
    rest = report.top_risks(results, SimpleNamespace(results=results))
    assert banner <= set(everything["risk"]), "without the run's evaluation nothing is left out"
    assert not banner & set(rest["risk"]) and len(rest) == len(everything) - len(banner)


def test_heatmap_cells_of_tag_dependent_access_are_marked_with_the_condition():
    from support import bridge_tables as bt

    from idbridge.model import abac

    team = {"Sid": "PlatformTeam", "Effect": "Allow", "Action": "ec2:*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/Team": "platform"}}}
    # carol's department is markup: it reaches the hover text as text
    access, tables = bt.with_abac(team, {"Sid": "OwnDept", "Effect": "Allow", "Action": "s3:*", "Resource": "*",
                                         "Condition": {"StringEquals": {"aws:PrincipalTag/Department": "Eng"}}},
                                  people={"carol": {"department": "<b>Eng</b>"}})
    conditional = abac.conditional_access(access, tables)
    people = report.heatmap_figure(access, "user", conditional=conditional)
    heat = people.data[0]
    cells = {(y, x): (mark, hover) for y, marks, hovers in zip(heat.y, heat.text, heat.customdata)
             for x, mark, hover in zip(heat.x, marks, hovers)}
    mark, hover = cells[("carol@contoso.com", "dev")]
    assert mark == report.CONDITIONAL_MARK and "depends on session tags (ABAC)" in people.layout.title.text
    assert hover.startswith("write<br>Developer depends on session tags — this person: satisfies 1 of 2 tag conditions")
    assert "Department=&lt;b&gt;Eng&lt;/b&gt;: not satisfied: the Allow does not apply" in hover.replace("<br>", " ")
    assert "<b>" not in hover
    assert cells[("alice@contoso.com", "dev")][0] == "", "ReadOnly tests no tag"
    groups = report.heatmap_figure(access, "group", conditional=conditional).data[0]
    group_hover = dict(zip(groups.y, groups.customdata))["AWS-Devs"][0]
    assert "their tags keep part of it from 2 of its 2 people" in group_hover  # bob: Team=data; carol: Department
    assert 'Allow PlatformTeam when aws:PrincipalTag/Team StringEquals "platform"' in group_hover

    # aws.abac not collected: the conditions are still marked, the hover says why the person's side is unknown
    _, blind = bt.with_abac(team, not_collected={"idc_abac_status": "AccessDenied"})
    heat = report.heatmap_figure(access, "user", conditional=abac.conditional_access(access, blind)).data[0]
    carol = dict(zip(heat.y, heat.customdata))["carol@contoso.com"][0].replace("<br>", " ")
    assert "this person: not known whether the tags satisfy them (not collected: idc_abac_status: " \
           "AccessDenied)" in carol
    figure = report.heatmap_figure(access, "user", conditional=abac.conditional_access(access, bt.with_abac(
        team, not_collected={"idc_permission_sets": "AccessDenied"})[1]))
    assert "Access depending on session tags (ABAC): not collected: idc_permission_sets: AccessDenied" in \
        figure.layout.title.text and not any(m for row in figure.data[0].text for m in row)
