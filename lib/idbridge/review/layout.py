"""The review pack's layout, shared by the writer and the reader: sheet names, columns, the _meta keys and the
key checksum. A returned workbook is read against exactly this layout, so changing it means a new FORMAT."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMAT = "4"  # 3: who / what first, path_id last and hidden, sign-ins, recommendation, "also ends"; requested_by
# 4: "Conditional (ABAC)" after Comment
INSTRUCTIONS, ACCESS, FINDINGS, META = "Instructions", "Access", "Findings", "_meta"
ELIGIBLE = "Eligible (PIM)"  # read-only: access people could activate through PIM for Groups, never read back
DECISIONS = ("Keep", "Remove")
SCOPES = ("account_owner", "group_owner")
NO_GROUP = "no-entra-group"  # group_owner scope: the pack of paths with no Entra group

# (header, width). Who reaches what first (person, account, permission set, through which group), then what a
# reviewer weighs, then Decision and Comment (columns O and P: the only cells read back), whether the access
# depends on session tags (ABAC: model/abac.py ConditionalAccess), details, and path_id last (the key, hidden:
# the reviewer never needs it).
COLUMNS: tuple[tuple[str, int], ...] = (
    ("Person", 30), ("Account", 22), ("Permission set", 22), ("Through group", 30), ("Privilege", 10),
    ("Production", 11), ("Works in AWS", 12), ("Risks", 46), ("Last sign-in (any app)", 20),
    ("Last AWS sign-in", 20), ("Recommendation", 34), ("Removing this also ends", 48), ("Person state", 12),
    ("Account id", 14), ("Decision", 11), ("Comment", 36), ("Conditional (ABAC)", 46), ("Name", 22), ("OU", 26), ("How", 40), ("path_id", 18),
)
HEADERS = tuple(header for header, _ in COLUMNS)
KEY_COL = HEADERS.index("path_id") + 1
DECISION_COL = HEADERS.index("Decision") + 1
COMMENT_COL = HEADERS.index("Comment") + 1
# Cells compared with the access table on return: a swapped or partly sorted row no longer matches its key.
CHECKED = {"Person": "user", "Account id": "account_id", "Permission set": "permission_set_name"}
# The columns conditional formatting reads (row colours), by header.
PRIVILEGE_COL, PRODUCTION_COL, WORKS_COL, STATE_COL, RECOMMENDATION_COL, ALSO_COL = (
    HEADERS.index(h) + 1 for h in ("Privilege", "Production", "Works in AWS", "Person state", "Recommendation",
                                   "Removing this also ends"))

# _meta: key / value pairs in columns A:B, the workbook's keys in column D and their signatures in column E (row 1:
# headers). signature and key_id: review/signing.py.
META_KEYS = ("format", "engagement", "snapshot_id", "collected_at", "scope", "scope_key", "reviewer", "rows",
             "keys_sha256", "written_at", "deadline", "requested_by", "signature", "key_id")
META_KEYS_COL = 4
META_TAGS_COL = 5


EXCEL_CELL_CHARS = 32_767  # the most a cell of Excel holds


def cell_text(text: str) -> str:
    """Text as a cell holds it and gives it back: characters XML cannot carry (control characters, which tenant
    names may hold) as U+FFFD, line ends as line feeds (XML reads a carriage return as one), at most
    EXCEL_CELL_CHARS characters."""
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text).replace("\r\n", "\n").replace("\r", "\n")
    return text if len(text) <= EXCEL_CELL_CHARS else text[:EXCEL_CELL_CHARS - 1] + "…"


def keys_checksum(keys: Iterable[str]) -> str:
    """Order-free: a sorted workbook still verifies; a deleted, added or edited key does not."""
    return hashlib.sha256("\n".join(sorted(keys)).encode("utf-8")).hexdigest()


def user_label(row) -> str:
    """Who a row is about, as the Access sheet shows it (UPN, else the Identity Center user name)."""
    for column in ("user_principal_name", "idc_user_name"):
        value = clean(row.get(column))
        if value:
            return value
    return ""


def clean(value) -> str:
    """A cell value as text: '' for None / NaN / NA."""
    if value is None:
        return ""
    try:
        if value != value:  # NaN
            return ""
    except (TypeError, ValueError):  # arrays, pd.NA
        pass
    if type(value).__name__ == "NAType":
        return ""
    return str(value).strip()
