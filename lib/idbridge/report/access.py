"""The access review notebook's tables and figures (20_access_review), read from the access table
(model/access/columns.py) and the access checks' results.

Every function takes the notebook's filters as account / group / user ("" = not set) and returns one DataFrame,
one plotly figure or a sentence. "People" are named as the checks name them: UPN, else Identity Center user name.
"""

from __future__ import annotations


import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from idbridge.checks.runner import CheckResults
from idbridge.core.vocabulary import SEVERITY_ORDER
from idbridge.model.access.views import highest_privilege_matrix, who_can_reach
from idbridge.model.privilege import permission_set_levels
from idbridge.report import validation
from idbridge.report.safe import Text, plotly_labels, plotly_text

HEATMAP_ROWS = 60
SANKEY_PEOPLE = 40
# privilege_rank -> (label, colour): the heatmap's discrete scale
RANKS = {0: ("no access", "#f1f3f5"), 1: ("read / billing", "#a5d8ff"), 2: ("write", "#ffd43b"),
         3: ("power", "#ff922b"), 4: ("admin", "#e03131")}


def check_scope(scope: str) -> str:
    """The review_scope parameter, checked before anything is read (a typo is bad input: exit 2)."""
    from idbridge.errors import InputError
    from idbridge.review.layout import SCOPES

    if scope not in SCOPES:
        raise InputError("review_scope", f"{scope!r} is not one of {', '.join(SCOPES)}")
    return scope


def _filters(account: str = "", group: str = "", user: str = "") -> dict:
    return {"account": account or None, "group": group or None, "user": user or None}


def _said(account: str = "", group: str = "", user: str = "") -> str:
    parts = [f"{k} {v}" for k, v in (("account", account), ("group", group), ("user", user)) if v]
    return f" — filtered to {', '.join(parts)}" if parts else ""


def person(rows: pd.DataFrame) -> pd.Series:
    return rows["user_principal_name"].astype(object).fillna(rows["idc_user_name"].astype(object))


def _effective(access: pd.DataFrame) -> pd.DataFrame:
    return access[access["effective"].to_numpy(dtype=bool)]


# ----------------------------------------------------------------------------------------------- summary


def executive_summary(access: pd.DataFrame, results: CheckResults) -> pd.DataFrame:
    """The numbers a sponsor asks first: who holds AWS access, how much of it is admin, findings by severity."""
    held = _effective(access)
    who = person(held)
    admin = (held["privilege"] == "admin").to_numpy()
    prod = held["is_production"].to_numpy(dtype=bool)
    guest = held["user_type"].astype(object).str.lower().eq("guest").to_numpy()
    gone = held["entra_state"].isin(["disabled", "deleted"]).to_numpy()
    findings = results.findings_frame()
    outcomes = results.outcomes_frame()
    not_run = outcomes[outcomes["status"].isin(["not_checked", "error"])]
    rows = [("People with AWS access", who.nunique(), "an effective path: AWS grants it today"),
            ("Effective paths", len(held), f"{len(access) - len(held)} more Entra suggests, AWS does not grant"),
            ("Accounts reached", held["account_id"].nunique(), ""),
            ("Permission sets in use", held["permission_set_arn"].nunique(), ""),
            ("Admins", who[admin].nunique(), "people holding an admin-level permission set anywhere"),
            ("Production admins", who[admin & prod].nunique(), "admin-level on a production account"),
            ("Guests with access", who[guest].nunique(), "B2B guests of other organisations"),
            ("Disabled or deleted in Entra, still holding access", who[gone].nunique(), ""),
            ("Direct user assignments", int((held["path_kind"] == "direct_user").sum()), "bypass group reviews")]
    for severity in sorted(SEVERITY_ORDER, key=SEVERITY_ORDER.get, reverse=True):
        count = int((findings["severity"] == severity).sum()) if not findings.empty else 0
        rows.append((f"Findings: {severity}", count, ""))
    rows.append(("Access checks not run", len(not_run), "; ".join(f"{o.check_id}: {o.reason}"
                                                                   for o in not_run.itertuples())))
    return pd.DataFrame(rows, columns=["what", "count", "note"])


def headline(access: pd.DataFrame):
    """The one sentence a sponsor reads first, from the access model: how many of the people holding AWS access
    are admins somewhere, and how many of those in production."""
    from idbridge.report.safe import html_text

    held = _effective(access)
    who = person(held)
    people = int(who.nunique())
    admin = (held["privilege"] == "admin").to_numpy()
    prod = held["is_production"].to_numpy(dtype=bool)
    admins, prod_admins = int(who[admin].nunique()), int(who[admin & prod].nunique())
    if not people:
        sentence = "Nobody holds AWS access through Identity Center in this snapshot."
    else:
        sentence = (f"{admins} of {people} {'person' if people == 1 else 'people'} with AWS access "
                    f"{'is an admin' if admins == 1 else 'are admins'} somewhere; {prod_admins} in production.")
    return _Headline(html_text(sentence), sentence)


class _Headline(str):
    """The headline as text (tests, plain output) and as a large line in a report."""

    def __new__(cls, html: str, text: str):
        made = super().__new__(cls, text)
        made.html = html
        return made

    def _repr_html_(self) -> str:
        return f"<p class='idbridge-headline'>{self.html}</p>"


def top_risks(results: CheckResults, evaluation=None) -> pd.DataFrame | str:
    """The one list of risks below the banner: one row per failed access check, worst first, with how many
    subjects and examples, leaving out the checks the banner's "top three things to do" already name
    (those of `evaluation`, the run's, when given)."""
    findings = results.findings_frame()
    if findings.empty:
        outcomes = results.outcomes_frame()
        not_run = int(outcomes["status"].isin(["not_checked", "error"]).sum())
        if not_run:
            return Text("No access findings from the {ran} access checks that ran; {not_run} could not run (the "
                        "verdict above says why): this is not a clean result.", ran=len(outcomes) - not_run,
                        not_run=not_run)
        return Text("No access findings: every access check ran and passed.")
    said: set[str] = set()
    if evaluation is not None:
        from idbridge.report.page import top_actions

        said = {a["check_id"] for a in top_actions(evaluation.results)}
    rest = findings[~findings["check_id"].isin(said)]
    if rest.empty:
        return Text("Every access risk found is among the top three things to do above.")
    grouped = (rest.groupby("check_id", sort=False)
               .agg(severity=("severity", "first"), risk=("title", "first"), subjects=("subject", "count"),
                    examples=("subject", lambda s: ", ".join(sorted(map(str, s))[:3])
                              + (f" and {len(s) - 3} more" if len(s) > 3 else "")))
               .reset_index())
    grouped["_rank"] = grouped["severity"].map(SEVERITY_ORDER)
    grouped = grouped.sort_values(["_rank", "subjects", "check_id"], ascending=[False, False, True])
    # The fix of each is in "Findings in detail" below, whole: this list stays one line a risk.
    return grouped[["severity", "risk", "subjects", "examples"]].reset_index(drop=True)


def first_actions(results: CheckResults) -> pd.DataFrame:
    return validation.first_actions(results)


# ----------------------------------------------------------------------------------------------- heatmap


CONDITIONAL_MARK = "◆"  # a heatmap cell holding access that depends on session tags (ABAC)


def _wrapped(line: str, width: int = 110) -> list[str]:
    """A hover line broken at spaces: plotly's hover box does not wrap."""
    return textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False) or [""]


def _conditional_cells(rows: pd.DataFrame, by: str, conditional) -> dict[tuple[str, str], list[str]]:
    """(heatmap row, account) -> hover lines (plain text) for the cells holding effective paths whose permission
    set tests session tags: per person the conditions and whether their tags satisfy them (model/abac.py), per
    group the conditions and for how many of its people the tags keep part of the access from them."""
    paths = conditional.paths
    if paths.empty or rows.empty:
        return {}
    held = rows[rows["path_id"].astype(str).isin(set(paths["path_id"].astype(str)))]
    if by == "group":
        held = held[(held["idc_principal_type"] == "GROUP").to_numpy()]
        labels = held["idc_principal_name"].astype(object)
    else:
        labels = person(held)
    accounts = held["account_name"].astype(object).fillna(held["account_id"].astype(object))
    info = paths.set_index(paths["path_id"].astype(str))
    found: dict[tuple[str, str, str], list[pd.Series]] = {}
    for label, account, path_id, ps in zip(labels, accounts, held["path_id"].astype(str),
                                           held["permission_set_name"].astype(object)):
        found.setdefault((str(label), str(account), str(ps)), []).append(info.loc[path_id])
    cells: dict[tuple[str, str], list[str]] = {}
    for (label, account, ps), items in sorted(found.items()):
        lines = cells.setdefault((label, account), [])
        if by == "group":
            known = [bool(i["held_back"]) for i in items if i["held_back"] is not None]
            lines.append(f"{ps} depends on session tags: their tags keep part of it from {sum(known)} of its "
                         f"{len(items)} people" if known else
                         f"{ps} depends on session tags: whether its people's tags satisfy them is not known")
            lines += str(items[0]["rules"]).split("\n")
        else:
            lines.append(f"{ps} depends on session tags — this person: {items[0]['satisfied']}")
            lines += str(items[0]["conditions"]).split("\n")
    return cells


def heatmap_figure(access: pd.DataFrame, by: str = "user", account: str = "", group: str = "", user: str = "",
                   limit: int = HEATMAP_ROWS, conditional=None) -> go.Figure | str:
    """Users (or Identity Center groups) × accounts, coloured by the highest privilege held through effective
    paths; at most `limit` rows, the most privileged first (the title says how many were left out). With
    `conditional` (report/abac.py conditional), a cell holding access whose permission set tests session tags
    is marked CONDITIONAL_MARK, its hover text naming the conditions and whether the person satisfies them; when
    that could not be told, the title says what was not collected."""
    rows = who_can_reach(access, **_filters(account, group, user))
    matrix = highest_privilege_matrix(rows, by=by)
    if matrix.empty:
        return Text("No effective access{said}.", said=_said(account, group, user))
    order = pd.DataFrame({"top": matrix.max(axis=1), "sum": matrix.sum(axis=1), "name": matrix.index})
    matrix = matrix.loc[order.sort_values(["top", "sum", "name"], ascending=[False, False, True]).index]
    total = len(matrix)
    matrix = matrix.head(limit)
    steps = []  # a stepwise scale: each rank one flat colour band
    for rank, (_, colour) in RANKS.items():
        steps += [[rank / 5, colour], [(rank + 1) / 5, colour]]
    marks = _conditional_cells(rows, by, conditional) if conditional is not None and \
        not conditional.not_collected else {}
    # Names and tag values are the tenant's: plotly would render markup in them (ticks and hover), so they go in
    # as text; the line breaks between them are ours.
    hover = [[plotly_text(RANKS[int(rank)][0]) + "".join(
        "<br>" + "<br>".join(plotly_labels(_wrapped(line))) for line in marks.get((str(name), str(column)), []))
        for rank, column in zip(ranks, matrix.columns)] for name, ranks in zip(matrix.index, matrix.to_numpy())]
    text = [[CONDITIONAL_MARK if (str(name), str(column)) in marks else "" for column in matrix.columns]
            for name in matrix.index]
    figure = go.Figure(go.Heatmap(
        z=matrix.to_numpy(), x=plotly_labels(matrix.columns), y=plotly_labels(matrix.index), zmin=-0.5, zmax=4.5,
        colorscale=steps, customdata=hover, hovertemplate="%{y} → %{x}: %{customdata}<extra></extra>", xgap=1,
        ygap=1, text=text, texttemplate="%{text}", textfont=dict(color="#212529", size=11),
        colorbar=dict(tickvals=list(RANKS), ticktext=[label for label, _ in RANKS.values()], title="highest")))
    capped = f" — the {limit} most privileged of {total}" if total > limit else ""
    noun = "Identity Center groups" if by == "group" else "people"
    title = plotly_text(f"Highest privilege: {noun} × accounts{capped}{_said(account, group, user)}")
    if conditional is not None and conditional.not_collected:
        title += "<br>" + plotly_text(f"Access depending on session tags (ABAC): {conditional.not_collected}")
    elif marks:
        title += "<br>" + plotly_text(f"{CONDITIONAL_MARK} depends on session tags (ABAC): hover for the "
                                      "conditions and whether " + ("its people satisfy them" if by == "group"
                                                                   else "the person satisfies them"))
    figure.update_layout(title=title,
                         height=220 + 18 * len(matrix), margin=dict(t=170, b=20, l=300),
                         yaxis=dict(autorange="reversed", dtick=1), xaxis=dict(side="top", tickangle=-45))
    return figure


# ----------------------------------------------------------------------------------------------- sankey


def riskiest_user(access: pd.DataFrame) -> str | None:
    """The person of the riskiest effective path: highest privilege, production first, then a person Entra
    disabled or deleted, a guest, a direct assignment."""
    held = _effective(access)
    if held.empty:
        return None
    keys = pd.DataFrame({"rank": held["privilege_rank"].to_numpy(), "prod": held["is_production"].to_numpy(),
                         "gone": held["entra_state"].isin(["disabled", "deleted"]).to_numpy(),
                         "guest": held["user_type"].astype(object).str.lower().eq("guest").to_numpy(),
                         "direct": (held["path_kind"] == "direct_user").to_numpy(),
                         "who": person(held).to_numpy()})
    keys = keys[keys["who"].notna()]
    best = keys.sort_values(["rank", "prod", "gone", "guest", "direct", "who"],
                            ascending=[False, False, False, False, False, True])
    return str(best["who"].iloc[0]) if len(best) else None


def _hops(row: dict) -> list[tuple[str, str]]:
    """(node label, node kind) of a path, from the person to the permission set."""
    kind, who = row["path_kind"], row["user_principal_name"] or row["idc_user_name"]
    ps = (f"set {row['permission_set_name'] or row['permission_set_arn']} ({row['privilege']})", "set")
    account = (f"account {row['account_name'] or row['account_id']}", "account")
    principal = row["idc_principal_name"] or row["idc_principal_id"]
    idc = (f"IdC group {principal}", "idc") if row["idc_principal_type"] == "GROUP" else \
        (f"IdC user {principal}", "idc")
    if kind == "orphaned":
        return [(f"deleted principal {row['idc_principal_id']}", "gone"), account, ps]
    hops = [(f"{who}", "person")] if who else []
    if kind == "nested_group":
        hops.append((f"Entra group {row['nested_group_name'] or row['nested_group_id']} (nested)", "entra"))
    if kind in ("group", "nested_group"):
        hops.append((f"Entra group {row['entra_group_name'] or row['entra_group_id']}", "entra"))
    if kind == "idc_only" and row["idc_principal_type"] == "GROUP" and row["idc_user_name"]:
        hops.append((f"IdC user {row['idc_user_name']}", "idc"))
    return hops + [idc, account, ps]


NODE_WORDS = {"person": "person", "entra": "Entra group", "idc": "Identity Center group or user",
              "account": "AWS account", "set": "permission set (privilege)", "gone": "deleted principal"}
NODE_COLOUR_WORDS = {"person": "dark grey", "entra": "blue", "idc": "orange", "account": "green", "set": "red",
                     "gone": "light grey"}
_KINDS = ("Entra group ", "IdC group ", "IdC user ", "account ", "set ")


def _short(label: str, kind: str = "") -> str:
    """A node's label without its kind, which the node's colour shows; a person by the part of the UPN before
    the @ (the first column's labels run over the second's nodes; hovering shows the whole name)."""
    if kind == "person" and "@" in label:
        return label.split("@", 1)[0]
    for prefix in _KINDS:
        if label.startswith(prefix):
            return label[len(prefix):]
    return label


NODE_COLOURS = {"person": "#495057", "entra": "#1971c2", "idc": "#f08c00", "account": "#2f9e44", "set": "#c92a2a",
                "gone": "#adb5bd"}


def sankey_figure(access: pd.DataFrame, account: str = "", group: str = "", user: str = "",
                  max_people: int = SANKEY_PEOPLE) -> go.Figure | str:
    """Every path of the filtered access, hop by hop: Entra user → Entra group (→ nested group) → Identity Center
    principal → account → permission set. Grey links do not work in AWS (nested groups, users not provisioned).
    Without a filter: the person of the riskiest path."""
    chosen = _filters(account, group, user)
    if not any(chosen.values()):
        chosen["user"] = riskiest_user(access)
        if chosen["user"] is None:
            return Text("No effective access to draw.")
    rows = who_can_reach(access, **chosen, effective=False)
    if rows.empty:
        return Text("No access{said}.", said=_said(**{k: v or '' for k, v in chosen.items()}))
    who = person(rows).fillna("(no user)")
    ranking = rows.assign(_who=who).groupby("_who")["privilege_rank"].max().sort_values(ascending=False, kind="stable")
    capped = ""
    if len(ranking) > max_people:
        rows = rows[who.isin(ranking.index[:max_people]).to_numpy()]
        capped = f" — the {max_people} most privileged of {len(ranking)} people"
    nodes: dict[str, int] = {}
    kinds: list[str] = []
    links: dict[tuple[int, int, bool], int] = {}  # (from, to, works in AWS) -> paths: grey flows stay apart
    records = rows.astype(object).where(rows.notna(), None).to_dict("records")
    for row in records:
        hops = _hops(row)
        for label, kind in hops:
            if label not in nodes:
                nodes[label] = len(nodes)
                kinds.append(kind)
        for (a, _), (b, _) in zip(hops, hops[1:]):
            key = (nodes[a], nodes[b], bool(row["effective"]))
            links[key] = links.get(key, 0) + 1
    source, target, works = zip(*links) if links else ((), (), ())
    # Shown without the kind ("account ", "IdC group "): the colour says it (legend below the chart), and
    # shorter labels of neighbouring columns do not run into each other.
    figure = go.Figure(go.Sankey(
        arrangement="snap",
        node=dict(label=plotly_labels(_short(label, kind) for label, kind in zip(nodes, kinds)),
                  color=[NODE_COLOURS[k] for k in kinds],
                  customdata=plotly_labels(nodes), hovertemplate="%{customdata}<extra></extra>", pad=22,
                  thickness=14),
        textfont=dict(size=12),
        link=dict(source=list(source), target=list(target), value=list(links.values()),
                  color=["rgba(25,113,194,0.35)" if w else "rgba(134,142,150,0.45)" for w in works])))
    tallest = max(kinds.count(k) for k in set(kinds))  # the column with most nodes sets the height
    subject = ", ".join(f"{k} {v}" for k, v in chosen.items() if v)
    riskiest = " (the riskiest path's person)" if not any((account, group, user)) else ""
    title = f"Access paths of {subject}{riskiest}{capped}; grey: does not work in AWS"
    legend = "Colours: " + " · ".join(f"{NODE_COLOUR_WORDS[k]} {w}" for k, w in NODE_WORDS.items() if k in kinds)
    figure.add_annotation(text=legend, x=0, y=-0.02, xref="paper", yref="paper", xanchor="left", yanchor="top",
                          showarrow=False, font=dict(size=12))
    figure.update_layout(title=plotly_text(title),
                         # room for each label: a node and its gap at least two text lines high
                         height=max(380, 40 * tallest + 150), margin=dict(t=60, b=50, l=10, r=10))
    return figure


# ----------------------------------------------------------------------------------------------- tables


def permission_set_risk(data, access: pd.DataFrame, max_session_hours: float) -> pd.DataFrame:
    """Every permission set, riskiest first: privilege and why, boundary, session, and how many people and
    accounts hold it through effective paths (sets assigned nowhere show 0)."""
    sets = permission_set_levels(data)
    held = _effective(access)
    held = held.assign(_who=person(held))
    counts = held.groupby(held["permission_set_arn"].astype(object)).agg(
        people=("_who", "nunique"), accounts=("account_id", "nunique"))
    prod = held[held["is_production"].to_numpy(dtype=bool)]
    prod_accounts = prod.groupby(prod["permission_set_arn"].astype(object))["account_id"].nunique()
    arns = sets["permissionSetArn"]
    frame = pd.DataFrame({
        "permission set": sets["name"], "privilege": sets["privilege"],
        "why": sets["reasons"].map(lambda r: "; ".join(r) if isinstance(r, (list, np.ndarray)) else str(r or "")),
        "boundary": sets["boundary"].fillna("none"), "session": sets["session_duration"].fillna(""),
        "session over the maximum": sets["session_hours"].gt(max_session_hours).map({True: "yes", False: ""}),
        "people": arns.map(counts["people"]).fillna(0).astype(int),
        "accounts": arns.map(counts["accounts"]).fillna(0).astype(int),
        "production accounts": arns.map(prod_accounts).fillna(0).astype(int),
        "_rank": sets["privilege_rank"]})
    frame = frame.sort_values(["_rank", "people", "permission set"], ascending=[False, False, True])
    return frame.drop(columns="_rank").reset_index(drop=True)


def _via(row: dict) -> str:
    kind = row["path_kind"]
    if kind == "group":
        return f"group {row['entra_group_name']}"
    if kind == "nested_group":
        return f"{row['nested_group_name']} nested in {row['entra_group_name']}"
    if kind == "direct_user":
        return "direct assignment"
    if kind == "idc_only":
        return f"Identity Center only: {str(row['idc_principal_type']).lower()} {row['idc_principal_name']}"
    return f"orphaned: principal {row['idc_principal_id']} no longer exists"


def access_table(access: pd.DataFrame, account: str = "", group: str = "", user: str = "") -> pd.DataFrame | str:
    """The filtered access, riskiest first (production, privilege), including paths that do not work in AWS:
    every row (the report's table pages, sorts and searches them; nothing is cut)."""
    rows = who_can_reach(access, **_filters(account, group, user), effective=False)
    if rows.empty:
        return Text("No access{said}.", said=_said(account, group, user))
    rows = rows.assign(_who=person(rows)).sort_values(["is_production", "privilege_rank", "_who", "account_name"],
                                                      ascending=[False, False, True, True], kind="stable")
    records = rows.astype(object).where(rows.notna(), None).to_dict("records")
    return pd.DataFrame([{
        "person": r["_who"], "name": r["user_display_name"], "Entra state": r["entra_state"],
        "type": r["user_type"], "via": _via(r), "account": r["account_name"] or r["account_id"],
        "production": "yes" if r["is_production"] else "", "permission set": r["permission_set_name"],
        "privilege": r["privilege"], "works in AWS": "yes" if r["effective"] else "no",
        "path_id": r["path_id"]} for r in records])


def access_findings(results: CheckResults, access: pd.DataFrame, account: str = "", group: str = "",
                    user: str = "") -> pd.DataFrame:
    """The access checks with their findings; with a filter, only the findings about the people, groups and
    permission sets of the filtered access (and the checks that passed or could not run)."""
    table = validation.area_table(results, "access")
    if not any((account, group, user)):
        return table
    rows = who_can_reach(access, **_filters(account, group, user), effective=False)
    subjects = {f"user:{p}" for p in person(rows).dropna()}
    subjects |= {f"group:{g}" for column in ("entra_group_name", "nested_group_name", "idc_principal_name")
                 for g in rows[column].dropna().astype(object)}
    subjects |= {f"permission_set:{p}" for p in rows["permission_set_name"].dropna().astype(object)}
    keep = table["subject"].eq("") | table["subject"].isin(subjects) | table["subject"].str.startswith("app:")
    return table[keep].reset_index(drop=True)
