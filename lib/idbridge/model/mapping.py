"""The provisioning job's user attribute mappings, read as "which Entra attribute feeds which SCIM attribute".

`entra_sync_mappings` holds Entra's expressions (`[mail]`, `Join(" ", [givenName], [surname])`, ...) with sources
named the provisioning way (objectId, telephoneNumber, mobile...). Checks need three things from them, all
vectorised over `entra_users`:
- whether a target would be sent at all for a user (Entra sends nothing for an empty source);
- the value a plain `[attribute]` mapping sends (matching, duplicates, attribute comparison);
- every source value that ends up in the SCIM resource (forbidden characters).
Expressions are not evaluated: a function's result is taken as present when any attribute it reads is, and its
characters as those of the attributes it reads. That is exact for the gallery mappings (Join, Switch on
IsSoftDeleted) and a fair prediction for others.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

MULTI_VALUED = ("emails", "phoneNumbers", "addresses", "roles")  # AWS accepts one entry each
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

# The AWS gallery app's user mappings (shared reference §1b): used when the job's schema gave none.
DEFAULT_USER_MAPPINGS: tuple[tuple[str, str], ...] = (
    ("userName", "[userPrincipalName]"),
    ("active", 'Switch([IsSoftDeleted], , "False", "True", "True", "False")'),
    ("displayName", "[displayName]"), ("title", "[jobTitle]"), ('emails[type eq "work"].value', "[mail]"),
    ("preferredLanguage", "[preferredLanguage]"), ("name.givenName", "[givenName]"),
    ("name.familyName", "[surname]"), ("name.formatted", 'Join(" ", [givenName], [surname])'),
    ('addresses[type eq "work"].formatted', "[physicalDeliveryOfficeName]"),
    ('addresses[type eq "work"].streetAddress', "[streetAddress]"), ('addresses[type eq "work"].locality', "[city]"),
    ('addresses[type eq "work"].region', "[state]"), ('addresses[type eq "work"].postalCode', "[postalCode]"),
    ('addresses[type eq "work"].country', "[country]"), ('phoneNumbers[type eq "work"].value', "[telephoneNumber]"),
    ("externalId", "[objectId]"), (f"{ENTERPRISE}:employeeNumber", "[employeeId]"),
    (f"{ENTERPRISE}:department", "[department]"), (f"{ENTERPRISE}:manager", "[manager]"),
)

# Provisioning's attribute names -> entra_users columns (a tuple: one item of a list column).
ALIASES: dict[str, Any] = {
    "objectId": "id", "telephoneNumber": ("businessPhones", 0), "mobile": "mobilePhone",
    "physicalDeliveryOfficeName": "officeLocation", "employeeNumber": "employeeId",
    "facsimileTelephoneNumber": "faxNumber",
}
# Targets that are never text AWS validates (sandbox scim_rules.NOT_CHECKED_FOR_CHARACTERS), and manager, a
# reference Entra resolves to an Identity Center id.
NOT_TEXT_TARGETS = frozenset({"externalId", "active", "members"})

_REFERENCE = re.compile(r"\[([^\]]+)\]")
_PLAIN = re.compile(r"\s*\[(\w+)\]\s*")
_FILTERED = re.compile(r'^(\w+)\[type eq "([^"]*)"\]\.(\w+)$', re.IGNORECASE)


def user_mappings(table: pd.DataFrame) -> pd.DataFrame:
    """(target, expression) of the job's User object mapping; the gallery defaults when the schema had none."""
    if not table.empty and "sourceObjectName" in table:
        rows = table[table["sourceObjectName"].astype("string").str.lower().eq("user").fillna(False)]
        if not rows.empty:
            return pd.DataFrame({"target": rows["targetAttributeName"].astype(str).to_numpy(),
                                 "expression": rows["sourceExpression"].astype(str).to_numpy()})
    return pd.DataFrame(DEFAULT_USER_MAPPINGS, columns=["target", "expression"])


def group_mappings(table: pd.DataFrame) -> pd.DataFrame:
    if table.empty or "sourceObjectName" not in table:
        return pd.DataFrame({"target": ["displayName", "externalId", "members"],
                             "expression": ["[displayName]", "[objectId]", "[members]"]})
    rows = table[table["sourceObjectName"].astype("string").str.lower().eq("group").fillna(False)]
    return pd.DataFrame({"target": rows["targetAttributeName"].astype(str).to_numpy(),
                         "expression": rows["sourceExpression"].astype(str).to_numpy()})


def references(expression: str) -> list[str]:
    """Every source attribute an expression reads; IsSoftDeleted is the service's own flag, not user data."""
    return [name for name in _REFERENCE.findall(expression or "") if name != "IsSoftDeleted"]


def plain_source(expression: str) -> str | None:
    match = _PLAIN.fullmatch(expression or "")
    return match[1] if match else None


def expressions_for(mappings: pd.DataFrame, target: str) -> list[str]:
    return mappings.loc[mappings["target"].str.lower() == target.lower(), "expression"].tolist()


def single_source(mappings: pd.DataFrame, target: str) -> str | None:
    """The one attribute a target is fed from (`[mail]`, or ToLower([mail])), else None."""
    for expression in expressions_for(mappings, target):
        names = references(expression)
        if len(set(names)) == 1:
            return names[0]
    return None


def entry_of(target: str) -> tuple[str, str] | None:
    """(multi-valued attribute, entry key) a target writes into, e.g. phoneNumbers[type eq "mobile"].value ->
    ("phoneNumbers", "mobile"); a bare multi-valued target gets one entry per value (key "*")."""
    match = _FILTERED.match(target)
    if match and match[1] in MULTI_VALUED:
        return match[1], match[2]
    head = target.split(".")[0]
    if head in MULTI_VALUED:
        return head, "*"
    return None


# --------------------------------------------------------------------------------------------- values


def _blank_to_na(series: pd.Series) -> pd.Series:
    """Strings (arrow: vectorised .str), <NA> for missing and for "" (Entra sends nothing for either)."""
    strings = series.astype("string")
    return strings.where(strings.ne("").fillna(False))


def _item(values: Any, index: int) -> Any:
    if isinstance(values, (list, tuple, np.ndarray)) and len(values) > index:
        return values[index]
    return None


def values(users: pd.DataFrame, attribute: str) -> pd.Series | None:
    """The users' values of a provisioning source attribute, aligned with `users`: a string Series (<NA> when
    empty), or for a list attribute an object Series of non-empty lists and None; None when not collected."""
    alias = ALIASES.get(attribute, attribute)
    if attribute == "mailNickname" and "mailNickname" in users:  # Entra derives one from the UPN when unset
        upn = users["userPrincipalName"].astype("string").str.split("@").str[0]
        return _blank_to_na(users["mailNickname"].astype("string").fillna(upn))
    if isinstance(alias, tuple):
        column, index = alias
        if column not in users:
            return None
        return _blank_to_na(users[column].map(lambda v: _item(v, index)).astype(object))
    if alias not in users:
        return None
    column = users[alias]
    if column.dtype == object and column.map(lambda v: isinstance(v, (list, np.ndarray))).any():
        return column.map(lambda v: [x for x in v if x not in (None, "")] or None
                          if isinstance(v, (list, np.ndarray)) else (v if isinstance(v, str) and v else None))
    return _blank_to_na(column)


def present(series: pd.Series | None, index: pd.Index) -> pd.Series:
    """True where a value (a non-empty string or list) is there."""
    if series is None:
        return pd.Series(False, index=index)
    return series.notna().astype(bool)  # values() turned blanks and empty lists into missing


def count(series: pd.Series | None, index: pd.Index) -> pd.Series:
    """How many SCIM entries a value makes for a bare multi-valued target: list length, else 1 or 0."""
    if series is None:
        return pd.Series(0, index=index)
    if series.dtype != object:
        return series.notna().astype(int)
    return series.map(lambda v: len(v) if isinstance(v, list) else (0 if v is None else 1)).astype(int)


def sent(users: pd.DataFrame, expression: str) -> pd.Series:
    """Whether Entra would send anything for this mapping: some attribute it reads has a value. A constant
    expression is always sent."""
    names = references(expression)
    if not names:
        return pd.Series(bool((expression or "").strip()), index=users.index)
    result = pd.Series(False, index=users.index)
    for name in dict.fromkeys(names):
        result |= present(values(users, name), users.index)
    return result


def sources_collected(users: pd.DataFrame, names: list[str]) -> tuple[list[str], list[str]]:
    """(attributes with a column in entra_users, attributes that were not collected)."""
    known, unknown = [], []
    for name in dict.fromkeys(names):
        (known if values(users.head(0), name) is not None else unknown).append(name)
    return known, unknown


def scalar(series: pd.Series) -> pd.Series:
    """What a single-valued target gets: a list attribute's first item (as Entra sends it), as strings."""
    if series.dtype == object:
        series = series.map(lambda v: v[0] if isinstance(v, list) else v)
    return series.astype("string")
