"""The cross-cloud access review: reviewer packs out, decisions back, a removal plan.

    access table + findings --workbook.write_review_packs--> one .xlsx per reviewer, access/findings CSV + JSON
    returned .xlsx --decisions.read_decisions--> verified decisions (Keep / Remove / not reviewed)
    decisions --removals.plan_removals--> Plan("review-removals"), applied by runbooks.plan.apply_plan

layout: the pack's sheets, columns and _meta keys (shared by writer and reader); signing: the packs' HMAC
signatures under the engagement's key; limits: what a returned file may be (size, zip parts, rows, cell length);
export: access / findings as CSV + JSON; path_index and snapshot_ids: lookups removals needs from the access table
and the snapshot.
"""

from idbridge.review.decisions import read_decisions, review_status
from idbridge.review.removals import plan_removals
from idbridge.review.workbook import snapshot_meta, write_review_packs

__all__ = ["plan_removals", "read_decisions", "review_status", "snapshot_meta", "write_review_packs"]
