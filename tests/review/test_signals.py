"""Last sign-ins and recommendations in the packs (review/signals.py): Remove for no AWS sign-in within the
inactivity period (as Entra access reviews recommend Deny), for a disabled or deleted person and an orphaned
assignment; Review for admin in production, a path that does not work, sign-ins not collected; Keep when used
recently. A source not collected is said, never read as "never"."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook

from idbridge.review import layout, write_review_packs
from idbridge.review.signals import SignIns, last_sign_in_cells, recommend, sign_ins

from support.review_tables import META, make_access, pid

NOW = pd.Timestamp("2026-06-01T12:00:00Z")


def seen(**aws_days) -> SignIns:
    """Sign-ins `aws_days` days before NOW per user name (u-<name>), a 30-day window."""
    when = {f"u-{user}": NOW - pd.Timedelta(days=days) for user, days in aws_days.items()}
    return SignIns(NOW, any_app=dict(when), aws=when, window_days=30)


def row(user: str, account: str, **changes) -> dict:
    access = make_access()
    found = access[access["path_id"].eq(pid(access, user, account))].iloc[0].to_dict()
    return {**found, **changes}


def test_recommendations_and_their_reasons():
    signins = seen(bob=3, carol=94, alice=0)
    assert recommend(row("bob", "222222222222"), signins) == "Keep: used 3 days ago"
    assert recommend(row("carol", "222222222222"), signins) == "Remove: not signed in to AWS for 94 days"
    assert recommend(row("alice", "111111111111"), signins) == "Review: admin in production (used today)"
    # no sign-in in a window as long as the period: Remove; in a shorter window, only Review
    assert recommend(row("bob", "222222222222"), seen()) == "Remove: no AWS sign-in in the last 30 days"
    short = SignIns(NOW, window_days=30, inactive_after_days=45)
    assert recommend(row("bob", "222222222222"), short) == (
        "Review: no AWS sign-in in the 30 days collected (Remove is recommended after 45)")
    # what Entra cannot see comes first
    assert recommend(row("bob", "222222222222", entra_state="disabled"), signins) == (
        "Remove: the person's Entra account is disabled")
    assert recommend(row("bob", "222222222222", entra_state="deleted"), signins) == (
        "Remove: the person was deleted in Entra")
    assert recommend(row("dave", "111111111111"), signins).startswith("Review: does not work in AWS (nested group)")
    orphan = make_access().query("path_kind == 'orphaned'").iloc[0].to_dict()
    assert recommend(orphan, signins) == "Remove: the assignment's principal no longer exists"
    # sign-ins not collected: never Keep, never Remove for inactivity
    missing = SignIns(NOW, aws_missing="not collected: AccessDenied")
    assert recommend(row("bob", "222222222222"), missing) == "Review: AWS sign-ins not collected"
    assert recommend(row("alice", "111111111111"), missing) == "Review: admin in production (AWS sign-ins not collected)"


def test_last_sign_in_cells_say_what_is_known():
    signins = seen(bob=3)
    assert last_sign_in_cells(row("bob", "222222222222"), signins) == ("2026-05-29 (3 days ago)",
                                                                      "2026-05-29 (3 days ago)")
    assert last_sign_in_cells(row("carol", "222222222222"), signins) == ("never", "none in the last 30 days")
    assert last_sign_in_cells(row("platform.admin", "333333333333"), signins)[0] == "no Entra user"
    missing = SignIns(NOW, any_app_missing="not collected: no licence", aws_missing="not collected: AccessDenied")
    assert last_sign_in_cells(row("bob", "222222222222"), missing) == ("not collected: no licence",
                                                                      "not collected: AccessDenied")
    assert last_sign_in_cells(row("bob", "222222222222"), None) == ("not looked up", "not looked up")


def test_packs_show_sign_ins_and_recommendations(tmp_path, access):
    paths = write_review_packs(access, None, tmp_path, "account_owner", None, META, signins=seen(bob=3, carol=94))
    sheet = load_workbook(next(p for p in paths if "data-team" in p.name))["Access"]
    rows = {r[layout.KEY_COL - 1]: dict(zip(layout.HEADERS, r)) for r in sheet.iter_rows(min_row=2, values_only=True)}
    bob = rows[pid(access, "bob", "222222222222")]
    assert (bob["Last AWS sign-in"], bob["Recommendation"]) == ("2026-05-29 (3 days ago)", "Keep: used 3 days ago")
    carol = rows[pid(access, "carol", "111111111111")]
    assert carol["Recommendation"] == "Remove: not signed in to AWS for 94 days"


@pytest.mark.integration
def test_sign_ins_of_the_demo_snapshot(demo_snapshot):
    from idbridge.checks.settings import settings_for
    from idbridge.model.access.build import build_access

    settings = settings_for(demo_snapshot.params, demo_snapshot.manifest.get("collected_at"))
    access = build_access(demo_snapshot, settings)
    signins = sign_ins(demo_snapshot, settings)
    assert not signins.aws_missing and signins.aws and signins.any_app
    assert signins.window_days == demo_snapshot.params.collection.window_days
    effective = access[access["effective"].astype(bool)].to_dict("records")
    advice = [recommend(r, signins) for r in effective]
    verbs = {a.split(":")[0] for a in advice}
    assert verbs <= {"Keep", "Remove", "Review"} and "Keep" in verbs, advice
    # every Keep and every inactivity Remove matches the person's last AWS sign-in as the pack shows it
    for r, said in zip(effective, advice):
        shown = last_sign_in_cells(r, signins)[1]
        if said.startswith("Keep: used"):
            assert shown.endswith(said.removeprefix("Keep: used ") + ")"), (said, shown)
        if said.startswith("Remove: no AWS sign-in"):
            assert shown.startswith("none in the last"), (said, shown)
