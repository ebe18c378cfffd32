"""The cross-cloud access review: reviewer packs out, decisions back, a removal plan.

    access table + findings --workbook.write_review_packs--> one .xlsx per reviewer, access/findings CSV + JSON
    returned .xlsx --decisions.read_decisions--> verified decisions (Keep / Remove / not reviewed), and the
        contradictions among them (decisions.contradictions: one membership kept by one owner, removed by another)
    decisions --removals.plan_removals--> Plan("review-removals"), applied by runbooks.plan.apply_plan

layout: the pack's sheets, columns and _meta keys (shared by writer and reader); signing: the packs' HMAC
signatures under the engagement's key; limits: what a returned file may be (size, zip parts, rows, cell length);
export: access / findings as CSV + JSON; path_index and snapshot_ids: lookups removals needs from the access table
and the snapshot; signals: the people's last sign-ins and each row's recommendation (as Entra access reviews give
one); returned: a folder of returned packs checked before a run uses it (review.returned_dir).
"""

from idbridge.review.decisions import contradictions, read_decisions, review_status
from idbridge.review.removals import plan_removals
from idbridge.review.signals import sign_ins
from idbridge.review.workbook import snapshot_meta, write_review_packs

__all__ = ["contradictions", "plan_removals", "read_decisions", "review_status", "sign_ins", "snapshot_meta",
           "write_review_packs"]
