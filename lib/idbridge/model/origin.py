"""Which Identity Center users and groups SCIM provisioning made: decided from every piece of evidence a snapshot
holds, with the piece that decided and what is missing or contradicts it.

Why not CreatedBy alone: AWS documents it only as "the identifier of the user or system that created the user"
(botocore's identitystore model, API reference) and publishes no value for SCIM-made principals. The console shows
"Created by: SCIM"; what the API returns for them is not documented. So the evidence, strongest first:

1. CloudTrail, the creation event naming the object's id. `identitystore-scim.amazonaws.com` CreateUser /
   CreateGroup says SCIM (SCIM events mask names as HIDDEN_DUE_TO_SECURITY_REASONS, but the response carries the new
   id); the same names from `identitystore.amazonaws.com` (Identity Store API) or `sso-directory.amazonaws.com`
   (console) say made by hand. Only objects created inside the collection window can have one, and SCIM calls are
   logged only for tokens created after September 2024 (AWS scim-logging-using-cloudtrail page).
2. externalIds. Only SCIM writes them (the Identity Store API's CreateUser / CreateGroup take none), and Entra's job
   writes the object id (or the attribute it maps to externalId). Equal to an Entra object's: strong. Another value:
   weak (SCIM wrote it, for an Entra object deleted since or another identity provider). None: weak the other way
   (hand-made principals have none; a SCIM-made one lacks it only when the job maps none).
3. CreatedBy. The literal "SCIM" (the console's wording); the value that most principals proven SCIM-made by 1 or 2
   carry (learned from this tenant, never from one that principals proven hand-made carry too); an IAM or STS
   principal ARN, which is a person or a role (made by hand). Any other value is reported and not used.

Decision: strong evidence one way and none the other decides; strong evidence both ways is a conflict and is said
to be one; with weak evidence only, the decision is weak and says so; with none, the origin is unknown.
"""

from __future__ import annotations

import json
import re
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from idbridge.model import mapping
from idbridge.model.frames import among, explode_ids, text
from idbridge.snapshot.store import NotCollected

SCIM_SOURCE = "identitystore-scim.amazonaws.com"
HAND_SOURCES = {"identitystore.amazonaws.com": "the Identity Store API", "sso-directory.amazonaws.com": "the console"}
CREATE_EVENTS = {"user": "CreateUser", "group": "CreateGroup"}
CONSOLE_WORD = "scim"  # the console's "Created by: SCIM"
_PRINCIPAL_ARN = re.compile(r"^arn:aws[\w-]*:(sts|iam)::\d{12}:", re.IGNORECASE)
_ID_KEYS = {"id", "userid", "groupid"}

SCIM, HAND, UNKNOWN = "scim", "hand", "unknown"
STRONG, WEAK, CONFLICT, NONE = "strong", "weak", "conflict", "none"


def _created_id(record: dict) -> str | None:
    """The id a creation event's response carries: SCIM's {"id": …}, the API's {"userId": …} / {"groupId": …},
    one level down as well ({"user": {"userId": …}})."""
    answer = record.get("responseElements")
    if not isinstance(answer, dict):
        return None
    for level in (answer, *[v for v in answer.values() if isinstance(v, dict)]):
        for key, value in level.items():
            if key.casefold() in _ID_KEYS and isinstance(value, str) and value:
                return value
    return None


def _says_failure(record: dict) -> bool:
    answer = record.get("responseElements")
    return bool(record.get("errorCode")) or (isinstance(answer, dict) and any(
        str(v).casefold() == "failure" for v in answer.values()))


@dataclass(frozen=True)
class Trail:
    """The creation events CloudTrail holds, by created id: (event name, time, source)."""

    collected: bool
    why: str                                   # why not collected / what the window is
    window_start: str | None
    created: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    scim_logged: bool = False                  # any SCIM event at all (logging works for this token)


def read_trail(data) -> Trail:
    try:
        events = data.table("cloudtrail_events")
    except (NotCollected, KeyError) as exc:
        return Trail(False, getattr(exc, "why", None) or "not in this snapshot", None)
    window = ((getattr(data, "manifest", None) or {}).get("window") or {}).get("start")
    names, sources = text(events["eventName"]), text(events["eventSource"])
    scim_logged = bool(sources.eq(SCIM_SOURCE).fillna(False).any())
    wanted = (names.isin(list(CREATE_EVENTS.values())) & sources.isin([SCIM_SOURCE, *HAND_SOURCES])).fillna(False)
    created: dict[str, tuple[str, str, str]] = {}
    for raw, name, when, source in zip(events.loc[wanted.to_numpy(), "event_json"], names[wanted], 
                                       text(events.loc[wanted.to_numpy(), "eventTime"]), sources[wanted]):
        try:
            record = json.loads(raw) if isinstance(raw, str) else {}
        except ValueError:
            continue
        if not isinstance(record, dict) or _says_failure(record):
            continue  # a refused write made nothing
        made = _created_id(record)
        if made:
            created.setdefault(made, (name, when, source))
    return Trail(True, "collected", window, created, scim_logged)


# --------------------------------------------------------------------------------------------- the decision


@dataclass
class Origins:
    """Per Identity Center principal (index: its id): evidence columns and the decision. `explain` words it."""

    users: pd.DataFrame
    groups: pd.DataFrame
    trail: Trail
    learned: dict[str, int]                    # CreatedBy value learned as SCIM's -> principals proven SCIM-made
    entra_collected: bool

    def frame(self, kind: str) -> pd.DataFrame:
        return self.users if kind == "user" else self.groups

    def scim(self, kind: str, ids) -> np.ndarray:
        """True where the evidence says SCIM made the principal (strongly or weakly, never on a conflict)."""
        frame = self.frame(kind)
        verdict = frame["verdict"].reindex(pd.Index(np.asarray(ids, dtype=object), dtype=object))
        return verdict.eq(SCIM).fillna(False).to_numpy(dtype=bool)

    def verdict(self, kind: str, principal_id: str) -> tuple[str, str]:
        row = self.frame(kind).loc[principal_id]
        return row["verdict"], row["confidence"]

    def explain(self, kind: str, principal_id: str) -> dict[str, Any]:
        """The decision and every piece of evidence, in words: {createdBySCIM, originConfidence, originDecidedBy,
        originEvidence}. createdBySCIM is None when the evidence does not decide."""
        row = self.frame(kind).loc[principal_id]
        pieces = self._pieces(kind, row)
        verdict, confidence = row["verdict"], row["confidence"]
        if confidence == CONFLICT:
            ours = "; ".join(t for side, s, t in pieces if side == SCIM and s == STRONG)
            theirs = "; ".join(t for side, s, t in pieces if side == HAND and s == STRONG)
            decided = f"evidence conflicts: {ours}, but {theirs}"
        elif verdict == UNKNOWN:
            decided = "no evidence either way"
        else:
            decided = next(t for side, s, t in pieces if side == verdict and s == confidence)
        return {"createdBySCIM": None if verdict == UNKNOWN else verdict == SCIM, "originConfidence": confidence,
                "originDecidedBy": decided, "originEvidence": [t for _, _, t in pieces]}

    def _pieces(self, kind: str, row: pd.Series) -> list[tuple[str | None, str | None, str]]:
        """(side, strength, words) of each piece, strongest first; side None: a note, not evidence."""
        out: list[tuple[str | None, str | None, str]] = []
        if _given(row["trailEvent"]):
            name, when, source = row["trailEvent"]
            if source == SCIM_SOURCE:
                out.append((SCIM, STRONG, f"created by SCIM: CloudTrail {name} event of {when} from {source} "
                                          f"returned this {kind}'s id"))
            else:
                out.append((HAND, STRONG, f"made by hand: CloudTrail {name} event of {when} from {source} "
                                          f"({HAND_SOURCES.get(source, source)}, not SCIM) returned this {kind}'s id"))
        elif not self.trail.collected:
            out.append((None, None, f"CloudTrail not collected ({self.trail.why}): no creation event to look for"))
        else:
            created = row["createdAt"]
            start = self.trail.window_start
            if created and start and str(created) < start:
                out.append((None, None, f"no creation event to look for: created {created}, before the CloudTrail "
                                        f"window (from {start})"))
            elif not self.trail.scim_logged:
                out.append((None, None, "no creation event in CloudTrail, and no SCIM event at all in the window "
                                        "(SCIM calls are logged only for tokens created after September 2024)"))
            else:
                out.append((None, None, "no creation event in CloudTrail names it"))
        if _given(row["externalEntra"]):
            out.append((SCIM, STRONG, f"externalId matches Entra object id: {row['externalEntra']} "
                                      f"({row['externalLabel']})"))
        elif _given(row["externalOther"]):
            compared = "matches no Entra object (deleted in Entra, or another identity provider)" \
                if self.entra_collected else "not compared: Entra not collected"
            out.append((SCIM, WEAK, f"has externalId {row['externalOther']}, which only SCIM writes; it {compared}"))
        elif row["externalCount"] == 0:
            out.append((HAND, WEAK, f"no externalId (hand-made principals have none; a SCIM-made {kind} lacks one "
                                    "only when the job maps none)"))
        value, kind_of_value = row["createdBy"], row["createdByClass"]
        if kind_of_value == "literal":
            out.append((SCIM, STRONG, f"CreatedBy value {value!r} (the console's wording for SCIM)"))
        elif kind_of_value == "learned":
            others = self.learned[value] - int(_given(row["externalEntra"]) or _given(row["trailEvent"]))
            out.append((SCIM, STRONG, f"CreatedBy value {value!r} is the one {others} other principal(s) "
                                      "proven SCIM-made (CloudTrail or externalId) carry"))
        elif kind_of_value == "arn":
            out.append((HAND, STRONG, f"made by hand: CreatedBy value {value} names an IAM principal (a person or "
                                      "role, through the console or the Identity Store API)"))
        elif kind_of_value == "other":
            out.append((None, None, f"CreatedBy value {value!r}: AWS publishes no value for SCIM-made principals, "
                                    "and no principal proven SCIM-made carries it; not used"))
        else:
            out.append((None, None, "no CreatedBy value"))
        order = {STRONG: 0, WEAK: 1, None: 2}
        return sorted(out, key=lambda p: order[p[1]])


def _given(value) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value))


def _nones(series: pd.Series) -> list:
    """Values as an object array, missing as None (pandas 3 would infer a string column with NaN from a list)."""
    return np.array([None if pd.isna(v) else v for v in series.astype(object)], dtype=object)


def _external(frame: pd.DataFrame, id_column: str, known: dict[str, str]) -> pd.DataFrame:
    """Per principal: the first externalId naming a known Entra object (and its label), the first other one, and
    how many it has (None when the column was not collected)."""
    index = pd.Index(text(frame[id_column]).to_numpy(), dtype=object)
    out = pd.DataFrame({"externalEntra": None, "externalLabel": None, "externalOther": None,
                        "externalCount": np.nan}, index=index, dtype=object)
    if "externalIds" not in frame.columns or frame.empty:
        return out
    pairs = explode_ids(frame, id_column, "externalIds")
    out["externalCount"] = pairs.groupby(id_column).size().reindex(index).fillna(0).astype(int).to_numpy()
    hit = among(pairs["externalId"], list(known))
    entra = pairs[hit].drop_duplicates(id_column).set_index(id_column)["externalId"]
    other = pairs[~hit].drop_duplicates(id_column).set_index(id_column)["externalId"]
    out["externalEntra"] = _nones(entra.reindex(index))
    out["externalLabel"] = np.array([known.get(x) if _given(x) else None for x in out["externalEntra"]], dtype=object)
    out["externalOther"] = _nones(other.reindex(index))
    return out


def _table(data, name: str) -> pd.DataFrame | None:
    try:
        return data.table(name)
    except (NotCollected, KeyError):
        return None


def _known_entra(data) -> tuple[dict[str, str], dict[str, str], bool]:
    """Entra object id (and the value the job maps to externalId, when not the object id) -> a label."""
    users, groups = _table(data, "entra_users"), _table(data, "entra_groups")
    if users is None or groups is None:
        return {}, {}, False
    known_users = dict(zip(text(users["id"]), "Entra user " + text(users["userPrincipalName"]).fillna("?")))
    mappings = _table(data, "entra_sync_mappings")
    if mappings is not None:
        source = mapping.single_source(mapping.user_mappings(mappings), "externalId")
        values = mapping.values(users, source) if source and source != "objectId" else None
        if values is not None:
            for value, upn in zip(text(values), text(users["userPrincipalName"])):
                if value:
                    known_users.setdefault(value, f"the {source} Entra maps to externalId for {upn}")
    known_groups = dict(zip(text(groups["id"]), "Entra group " + text(groups["displayName"]).fillna("?")))
    return ({k: v for k, v in known_users.items() if k}, {k: v for k, v in known_groups.items() if k}, True)


def _proven(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(proven SCIM-made, proven hand-made) from CloudTrail and externalIds alone."""
    source = frame["trailEvent"].map(lambda e: e[2] if isinstance(e, tuple) else None)
    hand = (source.notna() & source.ne(SCIM_SOURCE)).fillna(False).to_numpy(dtype=bool)
    scim = (source.eq(SCIM_SOURCE).fillna(False) | frame["externalEntra"].map(_given)).to_numpy(dtype=bool)
    return scim & ~hand, hand


def _classify(frame: pd.DataFrame, learned: dict[str, int]) -> np.ndarray:
    values = frame["createdBy"]
    proven, _ = _proven(frame)
    out = np.full(len(values), "missing", dtype=object)
    for i, value in enumerate(values):
        if not _given(value) or not str(value).strip():
            continue
        if str(value).strip().casefold() == CONSOLE_WORD:
            out[i] = "literal"
        elif value in learned and learned[value] > int(proven[i]):  # learned from others, not from itself
            out[i] = "learned"
        elif _PRINCIPAL_ARN.match(str(value)):
            out[i] = "arn"
        else:
            out[i] = "other"
    return out


def _decide(frame: pd.DataFrame) -> None:
    from_trail = frame["trailEvent"].map(lambda e: e[2] if isinstance(e, tuple) else None)
    strong_for = (from_trail.eq(SCIM_SOURCE).fillna(False) | frame["externalEntra"].notna()
                  | frame["createdByClass"].isin(["literal", "learned"])).to_numpy(dtype=bool)
    strong_against = ((from_trail.notna() & from_trail.ne(SCIM_SOURCE)).fillna(False)
                      | frame["createdByClass"].eq("arn")).to_numpy(dtype=bool)
    count = pd.to_numeric(frame["externalCount"], errors="coerce")
    weak_for = (frame["externalOther"].notna() & frame["externalEntra"].isna()).to_numpy(dtype=bool)
    weak_against = count.eq(0).fillna(False).to_numpy(dtype=bool)
    verdict = np.full(len(frame), UNKNOWN, dtype=object)
    confidence = np.full(len(frame), NONE, dtype=object)
    for mask, v, c in ((weak_against & ~weak_for, HAND, WEAK), (weak_for & ~weak_against, SCIM, WEAK),
                       (strong_against, HAND, STRONG), (strong_for, SCIM, STRONG),
                       (strong_for & strong_against, UNKNOWN, CONFLICT)):
        verdict[mask], confidence[mask] = v, c  # later rows win: strong over weak, a conflict over both
    frame["verdict"], frame["confidence"] = verdict, confidence


def _evidence_frame(frame: pd.DataFrame, id_column: str, known: dict[str, str], trail: Trail) -> pd.DataFrame:
    out = _external(frame, id_column, known)
    ids = out.index
    for column in ("createdBy", "createdAt"):
        out[column] = _nones(frame[column]) if column in frame else np.full(len(ids), None, dtype=object)
    events = np.empty(len(ids), dtype=object)
    events[:] = [trail.created.get(i) for i in ids]
    out["trailEvent"] = events
    return out


def _learn(frames: list[pd.DataFrame]) -> dict[str, int]:
    """The CreatedBy value most principals proven SCIM-made (CloudTrail SCIM event or externalId = an Entra
    object) carry, when at least half of them carry it and no principal proven hand-made (CloudTrail) does."""
    proven, against = [], set()
    for frame in frames:
        by_scim, by_hand = _proven(frame)
        proven += [v for v in frame.loc[by_scim, "createdBy"] if _given(v)]
        against |= {v for v in frame.loc[by_hand, "createdBy"] if _given(v)}
    if not proven:
        return {}
    counts = pd.Series(proven, dtype=object).value_counts()
    value, count = counts.index[0], int(counts.iloc[0])
    if count * 2 < len(proven) or value in against:
        return {}
    return {value: count}


_CACHE: "weakref.WeakKeyDictionary[Any, Origins]" = weakref.WeakKeyDictionary()


def origins(data) -> Origins:
    """The decision for every Identity Center user and group of a snapshot (or MemoryTables). Raises NotCollected
    when Identity Center was not collected; CloudTrail and Entra are optional evidence."""
    try:
        cached = _CACHE.get(data)
    except TypeError:
        cached = None
    if cached is not None:
        return cached
    idc_users, idc_groups = data.table("idc_users"), data.table("idc_groups")
    known_users, known_groups, entra = _known_entra(data)
    trail = read_trail(data)
    users = _evidence_frame(idc_users, "userId", known_users, trail)
    groups = _evidence_frame(idc_groups, "groupId", known_groups, trail)
    learned = _learn([users, groups])
    for frame in (users, groups):
        frame["createdByClass"] = _classify(frame, learned)
        _decide(frame)
    result = Origins(users, groups, trail, learned, entra)
    try:
        _CACHE[data] = result
    except TypeError:
        pass
    return result


def live_user_origin(record: dict, entra_object_id: str | None = None) -> tuple[bool | None, str]:
    """One DescribeUser / ListUsers answer read live (runbooks): (made by SCIM?, why). An externalId (only SCIM
    writes them; the Entra object id when given) or the console's literal CreatedBy say yes; an IAM principal ARN
    says no; anything else does not decide."""
    ids = [x.get("Id") for x in record.get("ExternalIds") or [] if x.get("Id")]
    created_by = str(record.get("CreatedBy") or "")
    if entra_object_id and entra_object_id in ids:
        return True, f"externalId matches Entra object id {entra_object_id}"
    if ids:
        return True, f"has externalId {ids[0]}, which only SCIM writes"
    if created_by.strip().casefold() == CONSOLE_WORD:
        return True, f"CreatedBy value {created_by!r}"
    if _PRINCIPAL_ARN.match(created_by):
        return False, f"no externalId, and CreatedBy names an IAM principal ({created_by})"
    return None, "no externalId" + (f"; CreatedBy value {created_by!r} is not documented" if created_by else "")
