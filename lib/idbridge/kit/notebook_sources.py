"""The kit's notebooks as cell lists: `idbridge dev make-notebooks` writes them to notebooks/, without outputs.

Notebooks stay thin (narrative + one library call per cell); keeping their source here makes reviews of a change
read like code. tests/test_packaging.py checks that the committed notebooks are what this module writes.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


PARAMETERS = '''# Parameters (papermill replaces this cell's values). Paths only: never a secret value.
params_file = "../parameters/sandbox.yaml"
run_dir = "../runs/latest"'''

SNAPSHOT_PARAMETERS = PARAMETERS + '''
snapshot_dir = ""  # an existing snapshot to read; empty: collect into run_dir/snapshot first'''


RUNBOOK_PARAMETERS = PARAMETERS + '''
desired_state_file = "../parameters/desired-state.demo.yaml"  # apply / allow_removals are set in this file'''

RUNBOOK_SETUP = ("from idbridge.kit.notebook import setup\n"
                 "from idbridge.runbooks import results\n"
                 "from idbridge.runbooks.context import open_runbook\n"
                 "from idbridge.report.page import header\n"
                 "{imports}\n\n"
                 "params = setup(params_file)\n"
                 "rb = open_runbook(params, desired_state_file, run_dir)\n"
                 "header(params, verdict=False)")

PLAN_TEXT = ("## Plan\n\nWhat would change, each with its value before and after. Nothing is written in this "
             "section; a wrong desired-state file stops here with the file, line and key.")
APPLY_TEXT = ("## Apply\n\nWrites only when the desired state says `apply: true`, and removals only with "
              "`allow_removals: true`. Every write is appended to `changes.jsonl` in the run folder (secrets "
              "never). A failed write stops the notebook: fix the cause and run it again — it plans only what is "
              "still missing.")


def notebook(cells: list) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"c{index:02d}"
    return nb


def parameters_cell(source: str = PARAMETERS):
    cell = new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    return cell


PREFLIGHT = notebook([
    new_markdown_cell(
        "# Preflight: can idbridge reach both sides?\n\n"
        "One cheap read on each side of the bridge, with the identity and endpoints of the parameters file: the "
        "Entra tenant through Microsoft Graph, and AWS IAM Identity Center and Organizations through the AWS APIs. "
        "Run it before a collection: a probe that fails names the permission or endpoint to fix."),
    parameters_cell(),
    new_code_cell("from idbridge.kit.notebook import setup\n"
                  "from idbridge.kit.preflight import require_all_ok, run_preflight\n"
                  "from idbridge.report.page import header\n\n"
                  "params = setup(params_file)\n"
                  "header(params, verdict=False)"),
    new_markdown_cell("## Probes\n\n`ok` means the read answered; the detail says what was seen."),
    new_code_cell("preflight = await run_preflight(params)\npreflight"),
    new_markdown_cell("## Verdict\n\nEvery probe must answer before anything is collected: a failed probe stops "
                      "the run here (exit 3), naming the probe and what to check."),
    new_code_cell("print(require_all_ok(preflight))"),
])


VALIDATE = notebook([
    new_markdown_cell(
        "# Validate the Entra ID ↔ IAM Identity Center integration\n\n"
        "Does the bridge work, and what is about to break? This report checks the SAML trust, the provisioning "
        "job, Entra against Identity Center, and the SCIM pitfalls that fail users before they are provisioned. "
        "Everything is read from one snapshot; nothing is changed in either cloud. A check whose data could not "
        "be collected is shown as **not checked**, with the reason — never as a pass."),
    parameters_cell(SNAPSHOT_PARAMETERS),
    new_code_cell("from idbridge.kit.notebook import setup\n"
                  "from idbridge.report import validation as report\n"
                  "from idbridge.report.sources import open_snapshot, sources_table\n"
                  "from idbridge.checks.settings import settings_for\n"
                  "from idbridge.checks.artifact import evaluation_for\n"
                  "from idbridge.checks.evaluate import VALIDATION_AREAS\n"
                  "from idbridge.report.page import controls_summary, findings, header\n\n"
                  "params = setup(params_file)"),
    new_code_cell("snapshot = open_snapshot(params, snapshot_dir, run_dir)\n"
                  "settings = settings_for(params, snapshot.manifest['collected_at'])\n"
                  "evaluation = evaluation_for(snapshot, params, run_dir)\n"
                  "results = evaluation.for_areas(VALIDATION_AREAS)\n"
                  "header(params, snapshot, run_dir, evaluation=evaluation)"),
    new_markdown_cell("## Summary\n\nPer area, first **checks** (each check counted once: passed, failed, could "
                      "not be checked, did not apply), then **findings** (what the failed checks found, one per "
                      "subject: a check that fails for 12 users makes 12 findings), by severity."),
    new_code_cell("report.summary(results)"),
    new_markdown_cell("### What to do first"),
    new_code_cell("report.first_actions(results)"),
    new_code_cell("report.findings_by_area_figure(results)"),
    new_markdown_cell("## Findings\n\nEvery check of this report that found something, worst first; open one for "
                      "its subjects and evidence, what it means, how to fix it and the documentation."),
    new_code_cell("findings(results)"),
    new_markdown_cell("## SAML trust\n\nThe app's SAML settings against Identity Center's, and the signing "
                      "certificate AWS must hold a copy of."),
    new_code_cell("report.area_table(results, 'saml')"),
    new_code_cell("report.certificate_figure(snapshot, settings.now, params.checks.certificate_horizons_days)"),
    new_markdown_cell("## Provisioning health\n\nThe SCIM provisioning job and its recent cycles."),
    new_code_cell("report.area_table(results, 'provisioning')"),
    new_code_cell("report.provisioning_errors_figure(snapshot)"),
    new_code_cell("report.provisioning_errors(snapshot)"),
    new_markdown_cell("## Reconciliation: Entra ↔ Identity Center\n\nWho should be in Identity Center and is "
                      "not, who is there and should not be, and what differs."),
    new_code_cell("report.area_table(results, 'reconcile')"),
    new_markdown_cell("## SCIM pitfalls, before they fail\n\nUsers and groups that Identity Center will refuse "
                      "or that provisioning will never reach."),
    new_code_cell("report.area_table(results, 'scim')"),
    new_markdown_cell("## AWS configuration"),
    new_code_cell("report.area_table(results, 'aws')"),
    new_markdown_cell("## Controls\n\nThe controls auditors work from (NIST SP 800-53, ISO/IEC 27001 Annex A, CIS "
                      "Benchmarks) and what the run's checks — validation and access alike — say about each: a "
                      "control *fails* when a check mapped to it found something, is *not checked* when one "
                      "could not run, and *passes* only when every mapped check ran and passed. Each finding above "
                      "lists its own controls."),
    new_code_cell("controls_summary(evaluation)"),
    new_markdown_cell("## Attribute-based access (ABAC)\n\nEntra attributes → claims or Identity Center "
                      "attributes → session tags → aws:PrincipalTag conditions (`docs/abac.md`)."),
    new_code_cell("report.area_table(results, 'abac')"),
    new_markdown_cell("## What was collected\n\nEvery source of the snapshot; a source not collected makes "
                      "the checks that need it *not checked*."),
    new_code_cell("sources_table(snapshot)"),
])


REVIEW_PARAMETERS = SNAPSHOT_PARAMETERS + '''
filter_account = ""  # show only access to this account (id or name); empty: all
filter_group = ""  # ... through this group (Entra or Identity Center, name or id)
filter_user = ""  # ... of this user (UPN or Identity Center user name)'''


ACCESS_REVIEW = notebook([
    new_markdown_cell(
        "# Cross-cloud access review\n\n"
        "Who can reach which AWS account with which permission set, through which Entra groups, and what of it is "
        "risky. Every path from a person to an account × permission set is one row of the access table, named hop "
        "by hop: Entra user → group (→ nested group) → Identity Center principal → account → permission set. "
        "Everything is read from one snapshot; nothing is changed in either cloud. The filters narrow the figures "
        "and tables; the reviewer packs written at the end always cover all access."),
    parameters_cell(REVIEW_PARAMETERS + '''
review_scope = "account_owner"  # one reviewer pack per "account_owner" or per "group_owner"'''),
    new_code_cell("from idbridge.kit.notebook import setup\n"
                  "from idbridge.report import access as report\n"
                  "from idbridge.report import abac as abac_report\n"
                  "from idbridge.report import review_packs\n"
                  "from idbridge.report.sources import open_access, open_snapshot\n"
                  "from idbridge.report.page import findings, header\n"
                  "from idbridge.checks.settings import settings_for\n"
                  "from idbridge.checks.artifact import evaluation_for\n"
                  "from idbridge.checks.evaluate import ACCESS_AREAS\n\n"
                  "params = setup(params_file)\n"
                  "review_scope = report.check_scope(review_scope)"),
    new_code_cell("snapshot = open_snapshot(params, snapshot_dir, run_dir)\n"
                  "settings = settings_for(params, snapshot.manifest['collected_at'])\n"
                  "evaluation = evaluation_for(snapshot, params, run_dir)\n"
                  "results = evaluation.for_areas(ACCESS_AREAS)\n"
                  "header(params, snapshot, run_dir, evaluation=evaluation,\n"
                  "       filters={'account': filter_account, 'group': filter_group, 'user': filter_user})"),
    new_code_cell("access = open_access(snapshot, settings, run_dir)\n"
                  "conditional = abac_report.conditional(snapshot, access)"),
    new_markdown_cell("## Executive summary\n\n\"Access\" is an *effective* path: AWS grants it today, whatever "
                      "Entra says. Admin means a permission set that can do anything in the account or give itself "
                      "that power."),
    new_code_cell("report.headline(access)"),
    new_code_cell("report.executive_summary(access, results)"),
    new_markdown_cell("### Other risks\n\nEvery other access check that found something, worst first — after the "
                      "top three things to do in the banner above, which are not repeated here."),
    new_code_cell("report.top_risks(results, evaluation)"),
    new_markdown_cell("## Who can reach what\n\nThe highest privilege held on each account, through effective "
                      "paths: first per Identity Center group, then per person (the most privileged people first; "
                      "the title says when some are left out). ◆ marks access that depends on session tags (ABAC): "
                      "hover over the cell for the conditions and whether the person's tags satisfy them."),
    new_code_cell("report.heatmap_figure(access, 'group', filter_account, filter_group, filter_user,\n"
                  "                      conditional=conditional)"),
    new_code_cell("report.heatmap_figure(access, 'user', filter_account, filter_group, filter_user,\n"
                  "                      conditional=conditional)"),
    new_markdown_cell("## Access paths\n\nEvery hop of the filtered access; without a filter, of the person holding "
                      "the riskiest path. Grey links are paths Entra suggests and AWS does not grant (nested groups, "
                      "users not provisioned)."),
    new_code_cell("report.sankey_figure(access, filter_account, filter_group, filter_user)"),
    new_markdown_cell("## Permission sets by risk\n\nWhat each set grants and why it was classed so, its "
                      "permissions boundary and session length, and how many people and accounts hold it."),
    new_code_cell("report.permission_set_risk(snapshot, access, params.checks.max_session_hours)"),
    new_markdown_cell("## Who is admin in production today\n\nEvery person holding an admin-level permission set on "
                      "a production account, and how the membership is held: *standing*, *permanent (PIM)* or "
                      "*active (PIM)* until the activation ends (PIM for Groups; `docs/review.md`)."),
    new_code_cell("from idbridge.report import pim as pim_report\n"
                  "pim_report.admins_in_production(access)"),
    new_markdown_cell("### Who could become admin in production today (eligible through PIM)\n\nPeople eligible "
                      "for a PIM-managed group that holds such access, who do not hold it now: they get it by "
                      "activating. Eligible access is not access: it counts in no total of this report."),
    new_code_cell("pim_report.could_become_admins_in_production(snapshot, settings)"),
    new_markdown_cell("## Access\n\nThe filtered access, riskiest first, including paths that do not work in AWS "
                      "(every row: page, sort and search them here; the same table is `review/access.csv`). *Path ID* is the "
                      "key the reviewers' decisions refer to."),
    new_code_cell("report.access_table(access, filter_account, filter_group, filter_user)"),
    new_markdown_cell("## Conditional access (ABAC)\n\nPaths whose permission set tests session tags: this "
                      "person's tags, each condition and whether their tags satisfy it (`docs/abac.md`). The "
                      "reviewer packs say the same in their *Conditional (ABAC)* column."),
    new_code_cell("abac_report.conditional_access(snapshot, access)"),
    new_markdown_cell("## Access findings\n\nEvery access check with its findings (with a filter: those about the "
                      "filtered people, groups and permission sets). A check that could not run says why."),
    new_code_cell("report.access_findings(results, access, filter_account, filter_group, filter_user)"),
    new_markdown_cell("### Findings in detail\n\nEvery access check that found something (all access, whatever the "
                      "filter), worst first; open one for its subjects and evidence, what it means, how to fix it "
                      "and the documentation."),
    new_code_cell("findings(results)"),
    new_markdown_cell("## Reviewer packs\n\nOne Excel workbook per reviewer, in `review/` of the run folder: "
                      "reviewers mark each row Keep or Remove and send it back; `22_review_decisions` reads them. "
                      "Each pack opens on its instructions (who asks, by when — `review.deadline`, "
                      "`review.requested_by` — and a progress counter); each row shows when the person last signed "
                      "in, a recommendation with its reason, and every other access the same removal would end. "
                      "Each pack is signed with the key `review.signing_key` names, so a decision counts only in "
                      "the pack it was sent in. The access table and the findings are there as CSV and JSON too."),
    new_code_cell("written = review_packs.write_review_outputs(access, results, snapshot, run_dir, review_scope,\n"
                  "                                            params=params, params_file=params_file,\n"
                  "                                            settings=settings)\n"
                  "review_packs.linked(written)"),
])


SIGNIN_ACTIVITY = notebook([
    new_markdown_cell(
        "# Sign-in activity: Entra and AWS side by side\n\n"
        "Each sign-in to AWS through the bridge leaves a trace on both sides: an Entra sign-in to the AWS app "
        "(with MFA and the Conditional Access result) and a CloudTrail `UserAuthentication` event in AWS — or an "
        "`ExternalIdPDirectoryLogin` failure when AWS refuses the SAML response. This report matches the two by "
        "person and time (±5 minutes, and IP address when both record one), explains the failures, and shows when "
        "each person holding access last signed in. A source that was not collected says so in every cell it "
        "feeds: it never reads as \"never signed in\"."),
    parameters_cell(REVIEW_PARAMETERS),
    new_code_cell("from idbridge.kit.notebook import setup\n"
                  "from idbridge.model import signins\n"
                  "from idbridge.report import signins as report\n"
                  "from idbridge.report.sources import open_access, open_snapshot\n"
                  "from idbridge.report.page import header\n"
                  "from idbridge.checks.settings import settings_for\n\n"
                  "params = setup(params_file)"),
    new_code_cell("snapshot = open_snapshot(params, snapshot_dir, run_dir)\n"
                  "settings = settings_for(params, snapshot.manifest['collected_at'])\n"
                  "header(params, snapshot, run_dir,\n"
                  "       filters={'account': filter_account, 'group': filter_group, 'user': filter_user})"),
    new_code_cell("access = open_access(snapshot, settings, run_dir)\n"
                  "scoped = report.scope(access, filter_account, filter_group, filter_user)"),
    new_code_cell("activity = signins.activity(snapshot, settings)\n"
                  "people = report.people(snapshot, settings, access, activity)"),
    new_markdown_cell("## Verdict of this report\n\nWhat the sign-ins say, in a few lines: refusals on either "
                      "side, and people holding access who do not sign in. (The banner above is the whole run's.)"),
    new_code_cell("report.verdict(activity, people, params.checks.stale_after_days, scoped)"),
    new_markdown_cell("## Overview\n\nSign-ins in the collection window on each side, and how they matched. "
                      "Without a filter this includes people with no AWS access: their failures matter too."),
    new_code_cell("report.overview(activity, scoped)"),
    new_code_cell("report.timeline_figure(activity, scoped)"),
    new_code_cell("report.results_figure(activity, scoped)"),
    new_markdown_cell("## Entra vs AWS: the same sign-ins matched\n\nOne row per sign-in, newest first, the rows "
                      "where something went wrong on either side before those that went well. *Matched by* says "
                      "how the two sides were paired; an AWS user name that is nobody's (a SAML NameID that is no "
                      "Identity Center user name) is paired on time and IP alone."),
    new_code_cell("report.correlation_table(activity, scoped)"),
    new_markdown_cell("## Failures explained\n\nEntra's AADSTS codes and AWS's refusals in words, most frequent "
                      "first."),
    new_code_cell("report.failures_table(activity, scoped)"),
    new_markdown_cell("## Per person\n\nFor everyone holding AWS access: the last Entra sign-in to any app "
                      "(signInActivity, kept for as long as the user exists), the last sign-in to the AWS app in "
                      "Entra and in AWS (the collection window), and failures."),
    new_code_cell("report.people_table(people, scoped)"),
    new_markdown_cell("## Last use per access\n\nCloudTrail's `UserAuthentication` records the sign-in to the AWS "
                      "access portal, not which account or permission set was used next: the date shown for each "
                      "access is its person's last AWS sign-in, whichever account they then chose. (Each account's "
                      "own CloudTrail `AssumeRoleWithSAML` / federation events would tell; they are not collected.)"),
    new_code_cell("report.last_use_table(access, people, scoped)"),
    new_markdown_cell("## Stale users\n\nPeople holding access with no sign-in seen on either side for longer "
                      "than `checks.stale_after_days`, or none at all."),
    new_code_cell("report.stale_table(people, params.checks.stale_after_days, scoped)"),
    new_markdown_cell("## What was collected"),
    new_code_cell("report.sources(snapshot)"),
])


REVIEW_DECISIONS = notebook([
    new_markdown_cell(
        "# Review decisions: returned workbooks → removal plan\n\n"
        "Reads the reviewer packs that came back (written by `20_access_review`), verifies each against what was "
        "sent, shows how far the review got, and plans the narrowest change that ends each access marked "
        "**Remove**. A workbook that does not verify (wrong round, a signature that does not match — packs are "
        "signed with `review.signing_key` —, edited keys, rows added, copied from another pack or deleted, a "
        "formula, a decision other than Keep / Remove, a file too large) stops this notebook with the file, cell and problem — a headless run then exits "
        "2 (bad input) — and nothing is planned. Read the packs with the snapshot they were written from."),
    parameters_cell(SNAPSHOT_PARAMETERS + '''
decisions_dir = ""  # the returned workbooks (.xlsx); empty: run_dir/review, where 20_access_review wrote them
# (`idbridge run` sets it from review.returned_dir, and snapshot_dir to the snapshot the packs were written from)
desired_state_file = ""  # apply / allow_removals are read from this file, as the runbooks do; empty: plan only
# (`idbridge run` sets it to desired-state.<engagement>.yaml beside the parameters, when there is one)'''),
    new_code_cell("from idbridge.kit.notebook import setup\n"
                  "from idbridge.report import decisions as report\n"
                  "from idbridge.report.sources import open_access, open_snapshot\n"
                  "from idbridge.checks.settings import settings_for\n"
                  "from idbridge.review import snapshot_meta\n"
                  "from idbridge.report.page import header\n\n"
                  "params = setup(params_file)"),
    new_code_cell("snapshot = open_snapshot(params, snapshot_dir, run_dir)\n"
                  "settings = settings_for(params, snapshot.manifest['collected_at'])\n"
                  "header(params, snapshot, run_dir)"),
    new_code_cell("access = open_access(snapshot, settings, run_dir)\n"
                  "folder = report.decisions_folder(decisions_dir, run_dir)"),
    new_markdown_cell("## Returned workbooks\n\nEvery workbook is checked before any decision is used; all "
                      "problems of all files are listed together."),
    new_code_cell("decisions = report.read_returned(folder, access, snapshot_meta(snapshot), params, params_file)"),
    new_markdown_cell("## Review status\n\nPer workbook: rows, Keep, Remove, not reviewed; the last line counts "
                      "access no returned workbook covers."),
    new_code_cell("report.status_table(decisions, access)"),
    new_markdown_cell("## Contradictory decisions\n\nA Remove on a group row takes the person out of the group, "
                      "which ends every access they have through it — possibly in accounts another owner reviews. "
                      "When one of those accesses was marked Keep, the two decisions contradict each other: settle "
                      "them with the reviewers before applying the plan."),
    new_code_cell("report.contradictions_table(decisions, access)"),
    new_markdown_cell("## Removal plan\n\nOne change per write. A change that ends more access than was marked "
                      "Remove says so, and flags any of it a reviewer marked Keep. Also written to "
                      "`review-removals.csv` and `.json` in the run folder."),
    new_code_cell("plan = report.removal_plan(decisions, access, snapshot, run_dir)\n"
                  "report.plan_table(plan)"),
    new_markdown_cell("## Apply\n\nThrough the runbooks' one plan/apply path: writes only when the desired-state "
                      "file says `apply: true`, and removals only with `allow_removals: true`. Each removal first "
                      "reads the tenant again: an access already gone counts as done; one whose group now grants "
                      "something the reviewers never saw is refused, naming what is new. Every write is appended to "
                      "`changes.jsonl` in the run folder with who decided it. A failed write stops the notebook: "
                      "run it again — what was removed is then already gone, the rest is applied."),
    new_code_cell("outcomes = await report.apply_decisions(plan, params, desired_state_file, run_dir)\n"
                  "report.apply_summary(plan, outcomes)"),
    new_code_cell("report.outcomes_table(outcomes)"),
    new_code_cell("report.raise_on_failure(outcomes)"),
])


CHANGES = notebook([
    new_markdown_cell(
        "# What changed since the previous run\n\n"
        "Every run keeps its snapshot; this report compares this run's with the newest earlier run of the same "
        "engagement: who gained or lost access to which AWS account and permission set, who became an "
        "administrator, which account assignments appeared or went, and which findings are new or resolved. "
        "Both snapshots are evaluated with this run's parameters, so a changed threshold does not pass for a "
        "change in the tenant. The same comparison prints as text with `idbridge diff SNAPSHOT_A SNAPSHOT_B`."),
    parameters_cell(SNAPSHOT_PARAMETERS + '''
previous_snapshot_dir = ""  # the snapshot to compare with; empty: the newest earlier run of the engagement
history_dir = ""  # the folder of the engagement's runs; empty: <run_root>/<engagement>'''),
    new_code_cell("from idbridge.kit.notebook import setup\n"
                  "from idbridge.history import report\n"
                  "from idbridge.history.runs import engagement_dir\n"
                  "from idbridge.report.sources import open_snapshot\n"
                  "from idbridge.report.page import header\n\n"
                  "params = setup(params_file)\n"
                  "history_dir = history_dir or engagement_dir(params, run_dir)"),
    new_code_cell("current = open_snapshot(params, snapshot_dir, run_dir)\n"
                  "display(header(params, current, run_dir))\n"
                  "before = report.previous(run_dir, history_dir, previous_snapshot_dir)\n"
                  "changes = report.compare(before, current, params)\n"
                  "report.headline(changes, before)"),
    # One output for every section: on a first run there is nothing to compare, and the report is the header and
    # the one sentence above, not nine headings each repeating it.
    new_code_cell("report.changes(changes)"),
    new_code_cell("report.findings_over_time_figure(history_dir, run_dir, changes)"),
])


def apply_cells(call: str) -> list:
    return [new_markdown_cell(APPLY_TEXT),
            new_code_cell(f"outcomes = {call}\nresults.summary(outcomes)"),
            new_code_cell("results.outcomes_table(outcomes)"),
            new_code_cell("results.raise_on_failure(outcomes)")]


SETUP_SAML = notebook([
    new_markdown_cell(
        "# Set up SAML single sign-on (Entra ID → IAM Identity Center)\n\n"
        "Creates (or finds) the Enterprise application from the gallery template *AWS IAM Identity Center*, puts it "
        "in SAML mode, sets the Identifier, one reply URL per Identity Center Region and the sign-on URL from the "
        "AWS service-provider metadata you downloaded, sets the NameID claim, creates and activates a signing "
        "certificate, and writes Entra's federation metadata into the run folder for the upload to AWS.\n\n"
        "Two steps only the AWS console can do follow as checkpoints, with exact instructions and a verification "
        "you can re-run."),
    parameters_cell(RUNBOOK_PARAMETERS),
    new_code_cell(RUNBOOK_SETUP.format(imports="from idbridge.runbooks import checkpoints, saml")),
    new_markdown_cell(PLAN_TEXT),
    new_code_cell("plan = await saml.plan(rb)\nresults.notes(plan)"),
    new_code_cell("results.plan_table(plan)"),
    *apply_cells("await saml.apply(rb, plan)"),
    new_markdown_cell("## Federation metadata for AWS\n\nDownloaded from Entra and checked against the active "
                      "certificate."),
    new_code_cell("await saml.federation_metadata(rb)"),
    new_markdown_cell("## In the AWS console\n\nDo these, then run the cells again: each verifies itself where AWS "
                      "leaves a trace (CloudTrail). A checkpoint still waiting is not an error."),
    new_code_cell("await checkpoints.identity_source(rb)"),
    new_code_cell("checkpoints.automatic_provisioning(rb)"),
])


SETUP_PROVISIONING = notebook([
    new_markdown_cell(
        "# Set up SCIM provisioning (Entra ID → IAM Identity Center)\n\n"
        "Assigns the groups of the desired state to the app, creates the provisioning job from the template the "
        "app offers, tests the SCIM endpoint and token (read through their secret references, never shown), saves "
        "them with the scope *assigned users and groups*, provisions the test user on demand and checks the "
        "result, then starts the job and waits for its first cycle."),
    parameters_cell(RUNBOOK_PARAMETERS),
    new_code_cell(RUNBOOK_SETUP.format(
        imports="from idbridge.runbooks import checkpoints, provisioning, provisioning_wait")),
    new_markdown_cell("## Before: the console steps\n\nProvisioning needs the SCIM endpoint and token from "
                      "Identity Center; sign-in needs the identity source changed."),
    new_code_cell("await checkpoints.identity_source(rb)"),
    new_code_cell("checkpoints.automatic_provisioning(rb)"),
    new_markdown_cell(PLAN_TEXT + " The SCIM credentials are tested first (Test Connection writes nothing)."),
    new_code_cell("plan = await provisioning.plan(rb)\nresults.notes(plan)"),
    new_code_cell("results.plan_table(plan)"),
    *apply_cells("await provisioning.apply(rb, plan)"),
    new_markdown_cell("## The first cycle\n\nOn a real tenant the initial cycle takes from 20 minutes to hours: "
                      "the wait ends after `provisioning.wait_minutes` and says so."),
    new_code_cell("await provisioning_wait.wait_for_first_cycle(rb)"),
    new_code_cell("checkpoints.scim_users(rb)"),
])


SETUP_AWS_ACCESS = notebook([
    new_markdown_cell(
        "# Set up AWS access: permission sets and account assignments\n\n"
        "Permission sets (managed and customer-managed policies, an inline policy from a file, a permissions "
        "boundary, the session duration) and group → account assignments, with targets by account id, OU or "
        "tag. A changed permission set is provisioned again to the accounts it is in; assignment requests are "
        "sent at most 15 at a time (AWS's limit for CreateAccountAssignment).\n\n"
        "The groups must be in Identity Center: run `02_setup_provisioning` first."),
    parameters_cell(RUNBOOK_PARAMETERS),
    new_code_cell(RUNBOOK_SETUP.format(imports="from idbridge.runbooks import aws_access, aws_apply")),
    new_markdown_cell(PLAN_TEXT + " Every group, account, OU, tag and managed policy the file names is checked "
                                  "first."),
    new_code_cell("plan = await aws_access.plan(rb)\nresults.notes(plan)"),
    new_code_cell("results.plan_table(plan)"),
    *apply_cells("aws_apply.apply(rb, plan)"),
])


NOTEBOOKS: dict[str, object] = {
    "00_preflight": PREFLIGHT, "01_setup_saml": SETUP_SAML, "02_setup_provisioning": SETUP_PROVISIONING,
    "03_setup_aws_access": SETUP_AWS_ACCESS, "10_validate_integration": VALIDATE, "20_access_review": ACCESS_REVIEW,
    "21_signin_activity": SIGNIN_ACTIVITY, "22_review_decisions": REVIEW_DECISIONS, "30_changes": CHANGES,
}


def write_notebooks(folder: Path) -> list[Path]:
    """Write every notebook into `folder` (notebooks/ of the repo: paths.NOTEBOOKS_DIR); returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, nb in NOTEBOOKS.items():
        nbformat.write(nb, folder / f"{name}.ipynb")
        written.append(folder / f"{name}.ipynb")
    return written
