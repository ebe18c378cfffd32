"""The access model: every path from a person to (AWS account × permission set), one row each, with exactly the
columns of access_columns.ACCESS_COLUMNS (read that module for the contract and the path kinds).

    access = build_access(snapshot, settings)          # settings: CheckSettings (or ChecksParams / Parameters)
    explain(access, path_id)                           # hop-by-hop sentences
    who_can_reach(access, account="data-prod")         # effective paths to an account / through a group / of a user
    highest_privilege_matrix(access, by="group")       # groups × accounts, max privilege_rank

Scope and the pairing of Entra and Identity Center principals come from model.scope (`bridge`); privilege levels
from model.privilege. `effective` is AWS's view: the principal exists, Identity Center holds the membership and
the Identity Center user is ENABLED. A user disabled or deleted in Entra whose Identity Center user is still
enabled keeps effective paths (that is what access.disabled_user_access reports); `entra_state` says so.

Text columns are pandas categoricals (a path table of millions of rows repeats a few thousand names), `path_id`
is a string column, `account_enabled` nullable boolean. Multi-valued cells (policies, tags, reasons) are text
joined with "; " so that the table writes to Parquet and Excel as it is.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

from idbridge.core.parameters import ChecksParams
from idbridge.model.access.columns import ACCESS_COLUMNS
from idbridge.model.access.dims import Dims, build_dims, optional_table
from idbridge.model.access.hashing import combine, hex_ids, rehash, value_hashes
from idbridge.model.access.dims import GROUP, positions
from idbridge.model.access.paths import ELIGIBLE, KINDS, ORPHANED, SPINE, build_spine, eligible_spine
from idbridge.model.access.views import explain, highest_privilege_matrix, who_can_reach
from idbridge.model.pim import PimState, labelled, pim_state
from idbridge.model.privilege import LEVELS
from idbridge.model.scope import bridge
from idbridge.snapshot.store import NotCollected

__all__ = ["Model", "build_access", "eligible_access", "access_model", "explain", "who_can_reach",
           "highest_privilege_matrix"]

ENTRA_STATES = ("active", "disabled", "deleted", "not_in_entra")
PRINCIPAL_TYPES = ("USER", "GROUP")
TABLES = ("entra_users", "entra_groups", "entra_app_role_assignments", "entra_group_members", "entra_sync_jobs",
          "entra_sync_mappings", "idc_users", "idc_groups", "idc_group_memberships", "idc_account_assignments",
          "idc_permission_sets")

_CACHE: "weakref.WeakKeyDictionary[Any, dict[str, Model]]" = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Model:
    dims: Dims             # the dimension tables the paths point into
    access: pd.DataFrame   # ACCESS_COLUMNS
    person: pd.Series      # per access row: UPN, else Identity Center user name (the checks' user subject)
    eligible: pd.DataFrame  # ACCESS_COLUMNS, path_kind "eligible": what PIM-eligible people could activate
    pim: PimState | NotCollected  # PIM for Groups at collection, or why it is not known


def moment(data, settings) -> datetime:
    """When the access is judged: the settings' time (CheckSettings.now, the collection time), else the
    snapshot's collection time, else now."""
    now = getattr(settings, "now", None)
    if now is None:
        collected = (getattr(data, "manifest", None) or {}).get("collected_at")
        now = pd.Timestamp(collected).to_pydatetime() if collected else datetime.now(timezone.utc)
    return now if now.tzinfo else now.replace(tzinfo=timezone.utc)


def checks_params(settings) -> ChecksParams:
    if settings is None:
        return ChecksParams()
    if isinstance(settings, ChecksParams):
        return settings
    return getattr(settings, "checks", None) or ChecksParams()


def _with_missing(values: np.ndarray, missing) -> np.ndarray:
    """values plus one last element for position -1: `ext[codes]` then needs no mask (numpy reads -1 as last)."""
    return np.append(values, np.asarray([missing], dtype=values.dtype if values.size else None))


def _cat(values, codes: np.ndarray) -> pd.Categorical:
    """A categorical column: values[codes] (codes -1 -> missing), categories sorted so that sorting the column
    sorts the text."""
    value_codes, uniques = pd.factorize(np.asarray(values, dtype=object), sort=True, use_na_sentinel=True)
    # the narrowest code type pandas would pick, so from_codes does not copy millions of codes again
    small = next(t for t in (np.int8, np.int16, np.int32, np.int64) if len(uniques) < np.iinfo(t).max)
    row_codes = _with_missing(value_codes.astype(small), -1)[codes]
    return pd.Categorical.from_codes(row_codes, categories=pd.Index(uniques, dtype=object), validate=False)


def _fixed(labels: tuple[str, ...], codes: np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype(np.int8), categories=pd.Index(list(labels), dtype=object),
                                     validate=False)


def _take(values: np.ndarray, codes: np.ndarray, missing) -> np.ndarray:
    return _with_missing(np.asarray(values), missing)[codes]


def _person_code(dims: Dims, s: dict[str, np.ndarray]) -> np.ndarray:
    """Entra user position, else len(users) + Identity Center user position, else -1 (orphaned)."""
    return np.where(s["u"] >= 0, s["u"], np.where(s["i"] >= 0, len(dims.users) + s["i"], -1))


def _person_labels(dims: Dims) -> np.ndarray:
    return np.concatenate([dims.users["upn"].to_numpy(dtype=object), dims.idc_users["userName"].to_numpy(dtype=object)])


def _order(dims: Dims, s: dict[str, np.ndarray]) -> np.ndarray:
    """Rows by person (UPN, else Identity Center user name; orphaned last), account name, permission set, kind,
    assignment: one int64 key and one stable argsort when the ranks fit in 63 bits, else lexsort."""
    rank = lambda labels: pd.factorize(np.asarray(labels, dtype=object), sort=True)[0]  # noqa: E731
    person_rank = rank(_person_labels(dims))
    keys = [  # most significant first; +1 so that missing (-1) sorts last as the largest value
        (_take(person_rank, _person_code(dims, s), len(person_rank)), len(person_rank) + 1),
        (_take(rank(dims.accounts["name"].fillna(dims.accounts["accountId"])), s["acc"], len(dims.accounts)),
         len(dims.accounts) + 1),
        (_take(rank(dims.sets["name"].fillna(dims.sets["permissionSetArn"])), s["ps"], len(dims.sets)),
         len(dims.sets) + 1),
        (s["kind"], 8), (s["assignment"], len(dims.assignments) + 1)]
    bits = sum(int(np.ceil(np.log2(max(size, 2)))) for _, size in keys)
    if bits > 63:
        return np.lexsort([k for k, _ in reversed(keys)])
    composite = np.zeros(len(s["kind"]), dtype=np.int64)
    for key, size in keys:
        composite = composite * np.int64(size) + key.astype(np.int64)
    return np.argsort(composite, kind="stable")


def _principal_code(dims: Dims, s: dict[str, np.ndarray]) -> np.ndarray:
    """Position among Identity Center users, then groups, then the ids that orphaned assignments name."""
    n_idc, n_groups = len(dims.idc_users), len(dims.idc_groups)
    code = np.where(s["ptype"] == 0, s["principal"], n_idc + s["principal"])
    return np.where(s["principal"] >= 0, code, n_idc + n_groups + s["assignment"])


def _path_ids(dims: Dims, s: dict[str, np.ndarray], principal_code: np.ndarray) -> pd.Series:
    """Hash of the hops: kind, person (Entra user, else Identity Center user), Entra group, nested group,
    principal, account, permission set. The Identity Center user of an Entra user is not a hop of its own, so a
    path keeps its id when the user gets provisioned."""
    zero = np.uint64(0)
    idc_users = value_hashes(dims.idc_users["userId"], "idc_user")
    person = np.concatenate([value_hashes(dims.users["id"], "entra_user"), idc_users])
    groups = value_hashes(dims.groups["id"], "entra_group")
    orphans = np.zeros(len(dims.assignments), dtype=np.uint64)
    dangling = np.flatnonzero(dims.assignments["principal"].to_numpy() < 0)  # hash only what orphans name
    orphans[dangling] = value_hashes(dims.assignments["principal_id"].to_numpy(dtype=object)[dangling],
                                     "principal_orphan")
    principal = np.concatenate([rehash(idc_users, "principal_user"),
                                value_hashes(dims.idc_groups["groupId"], "principal_group"), orphans])
    columns = [value_hashes(list(KINDS), "kind")[s["kind"]], _take(person, _person_code(dims, s), zero),
               _take(groups, s["eg"], zero), _take(rehash(groups, "nested_group"), s["ng"], zero),
               principal[principal_code],
               _take(value_hashes(dims.accounts["accountId"], "account"), s["acc"], zero),
               _take(value_hashes(dims.sets["permissionSetArn"], "permission_set"), s["ps"], zero)]
    return hex_ids(combine(columns))


def _entra_state(dims: Dims, s: dict[str, np.ndarray]) -> np.ndarray:
    by_user = np.where(dims.users["enabled"].fillna(True).to_numpy(dtype=bool), 0, 1).astype(np.int8)
    by_idc = np.where(dims.idc_users["scim"].to_numpy(dtype=bool), 2, 3).astype(np.int8)  # SCIM-made: deleted
    return np.where(s["u"] >= 0, _take(by_user, s["u"], -1), _take(by_idc, s["i"], -1))


def _membership(dims: Dims, s: dict[str, np.ndarray], pim: PimState | NotCollected) -> pd.Categorical:
    """How each path's group membership is held (ACCESS_COLUMNS `membership`, model.pim): looked up per (Entra
    group the person is really in, person). The group is the nested one for nested paths, the Identity Center
    group's Entra counterpart for Identity Center-only memberships (an ended activation lingering there)."""
    kind = s["kind"]
    via_group = (s["ptype"] == GROUP) & (kind != ORPHANED)
    idc_entra = _take(dims.idc_groups["entra"].to_numpy(), np.where(via_group, s["principal"], -1), -1)
    group = np.where(s["ng"] >= 0, s["ng"], np.where(s["eg"] >= 0, s["eg"], idc_entra))
    base = np.where(kind == ORPHANED, 1, 0)  # "standing", "—"
    if isinstance(pim, NotCollected):
        values = np.asarray(["standing", "—", f"not collected: {pim.why}"], dtype=object)
        return _cat(values, np.where(via_group, 2, base))
    pairs = labelled(pim)
    gpos = positions(pairs["groupId"], pd.Index(dims.groups["id"], dtype=object))
    upos = positions(pairs["principalId"], pd.Index(dims.users["id"], dtype=object))
    found = (gpos >= 0) & (upos >= 0)
    width = np.int64(len(dims.users) + 1)
    row_key = np.where((group >= 0) & (s["u"] >= 0), group.astype(np.int64) * width + s["u"], -1)
    hit = pd.Index(gpos[found] * width + upos[found]).get_indexer(row_key)
    hit = np.where(via_group, hit, -1)
    label = pairs["label"].to_numpy(dtype=object)[found]
    # a membership held while PIM lists only the eligibility: the activation ended (Identity Center lingers)
    held = pairs["lingering"].fillna(pairs["label"]).to_numpy(dtype=object)[found]
    n = len(label)
    codes = np.where(hit < 0, base, np.where(kind == ELIGIBLE, 2 + hit, 2 + n + hit))
    return _cat(np.concatenate([np.asarray(["standing", "—"], dtype=object), label, held]), codes)


def _columns(dims: Dims, s: dict[str, np.ndarray], pim: PimState | NotCollected) -> pd.DataFrame:
    users, idc, groups, idc_groups = dims.users, dims.idc_users, dims.groups, dims.idc_groups
    accounts, sets, assignments = dims.accounts, dims.sets, dims.assignments
    principal = _principal_code(dims, s)
    path_ids = _path_ids(dims, s, principal)
    principal_ids = np.concatenate([idc["userId"].to_numpy(dtype=object), idc_groups["groupId"].to_numpy(dtype=object),
                                    assignments["principal_id"].to_numpy(dtype=object)])
    principal_names = np.concatenate([idc["userName"].to_numpy(dtype=object),
                                      idc_groups["displayName"].to_numpy(dtype=object),
                                      np.full(len(assignments), None, dtype=object)])
    enabled = users["enabled"].array.take(s["u"], allow_fill=True) if len(users) else \
        pd.array([pd.NA] * len(s["u"]), dtype="boolean")
    privilege = pd.Index(list(LEVELS)).get_indexer(sets["privilege"]).astype(np.int8)
    return pd.DataFrame({
        "path_id": path_ids,
        "path_kind": _fixed(KINDS, s["kind"]),
        "effective": s["effective"],
        "entra_user_id": _cat(users["id"], s["u"]),
        "user_principal_name": _cat(users["upn"], s["u"]),
        "user_display_name": _cat(users["display"], s["u"]),
        "user_type": _cat(users["user_type"], s["u"]),
        "account_enabled": enabled,
        "entra_state": _fixed(ENTRA_STATES, _entra_state(dims, s)),
        "entra_group_id": _cat(groups["id"], s["eg"]),
        "entra_group_name": _cat(groups["displayName"], s["eg"]),
        "nested_group_id": _cat(groups["id"], s["ng"]),
        "nested_group_name": _cat(groups["displayName"], s["ng"]),
        "membership": _membership(dims, s, pim),
        "idc_principal_type": _fixed(PRINCIPAL_TYPES, s["ptype"]),
        "idc_principal_id": _cat(principal_ids, principal),
        "idc_principal_name": _cat(principal_names, principal),
        "idc_user_id": _cat(idc["userId"], s["i"]),
        "idc_user_name": _cat(idc["userName"], s["i"]),
        "idc_user_status": _cat(idc["status"], s["i"]),
        "account_id": _cat(accounts["accountId"], s["acc"]),
        "account_name": _cat(accounts["name"], s["acc"]),
        "ou_path": _cat(accounts["ou_path"], s["acc"]),
        "account_tags": _cat(accounts["tags"], s["acc"]),
        "is_production": _take(accounts["is_production"].to_numpy(dtype=bool), s["acc"], False),
        "permission_set_arn": _cat(sets["permissionSetArn"], s["ps"]),
        "permission_set_name": _cat(sets["name"], s["ps"]),
        "session_duration": _cat(sets["session_duration"], s["ps"]),
        "session_hours": _take(sets["session_hours"].to_numpy(dtype=float), s["ps"], np.nan),
        "managed_policies": _cat(sets["managed_policies_text"], s["ps"]),
        "customer_managed_policies": _cat(sets["customer_managed_policies_text"], s["ps"]),
        "has_inline_policy": _take(sets["has_inline_policy"].to_numpy(dtype=bool), s["ps"], False),
        "boundary": _cat(sets["boundary"], s["ps"]),
        "privilege": _fixed(LEVELS, _take(privilege, s["ps"], -1)),
        "privilege_rank": _take(sets["privilege_rank"].to_numpy(dtype=np.int8), s["ps"], 0),
        "reasons": _cat(sets["reasons_text"], s["ps"]),
    }, columns=list(ACCESS_COLUMNS))


def _key(checks: ChecksParams, now: datetime) -> str:
    return checks.production.model_dump_json() + now.isoformat()


def access_model(data, settings=None) -> Model:
    """The access model of a snapshot or MemoryTables, built once per data object and production setting
    (checks and notebooks share it)."""
    checks = checks_params(settings)
    now = moment(data, settings)
    key = _key(checks, now)
    try:
        cached = _CACHE.get(data, {})
    except TypeError:  # not weak-referenceable: build every time
        cached = {}
    if key in cached:
        return cached[key]
    model = bridge(data)
    dims = build_dims(data, model, checks.production)
    memberships = optional_table(data, "idc_group_memberships", ("groupId", "userId", "membershipId"))
    spine = build_spine(dims, model, memberships, data.table("entra_group_members"))
    order = _order(dims, spine)
    spine = {name: spine[name][order] for name in SPINE}
    try:
        pim: PimState | NotCollected = pim_state(data, now)
    except NotCollected as exc:
        pim = exc
    result = Model(dims, _columns(dims, spine, pim), pd.Series(_cat(_person_labels(dims), _person_code(dims, spine))),
                   _eligible(dims, model, memberships, pim), pim)
    try:
        _CACHE.setdefault(data, {})[key] = result
    except TypeError:
        pass
    return result


def _eligible(dims: Dims, model, memberships: pd.DataFrame, pim: PimState | NotCollected) -> pd.DataFrame:
    """The eligible paths (paths.eligible_spine) as access columns, ordered as the access table is."""
    if isinstance(pim, NotCollected):
        eg = u = np.zeros(0, dtype=np.int64)
    else:
        pairs = pim.pairs[pim.pairs["state"].eq("eligible")]
        eg = positions(pairs["groupId"], pd.Index(dims.groups["id"], dtype=object))
        u = positions(pairs["principalId"], pd.Index(dims.users["id"], dtype=object))
    spine = eligible_spine(dims, model, memberships, eg, u)
    order = _order(dims, spine)
    return _columns(dims, {name: spine[name][order] for name in SPINE}, pim)


def eligible_access(snapshot_or_tables, settings=None) -> pd.DataFrame:
    """The eligible paths of a snapshot: ACCESS_COLUMNS, path_kind "eligible", effective False, one row per
    (person eligible through PIM for a provisioned group they do not hold now) × that group's account
    assignments — what they could activate. Never part of the access table, so never counted as access."""
    return access_model(snapshot_or_tables, settings).eligible


def build_access(snapshot_or_tables, settings=None) -> pd.DataFrame:
    """The access table of a snapshot (or MemoryTables): ACCESS_COLUMNS, one row per path. Treat it as
    read-only: it is shared with the checks (copy before changing it)."""
    return access_model(snapshot_or_tables, settings).access
