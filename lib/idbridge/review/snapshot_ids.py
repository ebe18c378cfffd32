"""Ids a removal's applier needs that the access table does not hold, read from the snapshot on first use:
the Identity Center instance ARN and identity store id (manifest / idc_instances), membership ids
(idc_group_memberships), the app's service principal id (entra_service_principal) and the users' app role
assignment ids (entra_app_role_assignments)."""

from __future__ import annotations

import pandas as pd

from idbridge.review.layout import clean
from idbridge.snapshot.store import NotCollected

APP = "AWS IAM Identity Center"


class SnapshotIds:
    def __init__(self, source):
        """source: a Snapshot, MemoryTables or {table name: DataFrame}."""
        self.source = source
        self._app: tuple[str | None, str] | None = None
        self._memberships: dict[tuple[str, str], str] | None = None
        self._assignments: dict[str, list[dict]] | None = None

    def table(self, name: str) -> pd.DataFrame | None:
        if isinstance(self.source, dict):
            return self.source.get(name)
        try:
            return self.source.table(name)
        except (NotCollected, KeyError):
            return None

    def _instance(self) -> dict:
        frame = self.table("idc_instances")
        row = frame.iloc[0].to_dict() if frame is not None and not frame.empty else {}
        manifest_arn = (getattr(self.source, "manifest", None) or {}).get("instance_arn")
        return {"arn": manifest_arn or clean(row.get("instanceArn")), "store": clean(row.get("identityStoreId"))}

    def instance_arn(self) -> str:
        arn = self._instance()["arn"]
        if not arn:
            raise LookupError("no Identity Center instance ARN in the snapshot (manifest instance_arn or "
                              "idc_instances): account assignment removals cannot be planned")
        return arn

    def identity_store_id(self) -> str:
        store = self._instance()["store"]
        if not store:
            raise LookupError("no identity store id in the snapshot (idc_instances not collected): Identity "
                              "Center group membership removals cannot be planned")
        return store

    def membership(self, group_id: str, user_id: str) -> str:
        if self._memberships is None:
            frame = self.table("idc_group_memberships")
            frame = frame if frame is not None else pd.DataFrame(columns=["groupId", "userId", "membershipId"])
            self._memberships = {(clean(g), clean(u)): clean(m) for g, u, m in
                                 zip(frame["groupId"], frame["userId"], frame["membershipId"])}
        found = self._memberships.get((group_id, user_id))
        if not found:
            raise LookupError(f"no membership of user {user_id} in group {group_id} in idc_group_memberships: "
                              "the removal cannot be planned")
        return found

    @property
    def service_principal_id(self) -> str | None:
        return self._service_principal()[0]

    @property
    def app_name(self) -> str:
        return self._service_principal()[1]

    def _service_principal(self) -> tuple[str | None, str]:
        if self._app is None:
            frame = self.table("entra_service_principal")
            if frame is None or frame.empty:
                self._app = (None, APP)
            else:
                row = frame.iloc[0]
                self._app = (clean(row["id"]) or None, clean(row.get("displayName")) or APP)
        return self._app

    def app_assignments(self, user_id: str) -> list[dict] | None:
        """The user's own assignments to the app (not their groups'); None when the tables were not collected."""
        if self._assignments is None:
            frame = self.table("entra_app_role_assignments")
            if frame is None or self.service_principal_id is None:
                return None
            self._assignments = {}
            for row in frame.to_dict("records"):
                if clean(row.get("principalType")).lower() == "user":
                    self._assignments.setdefault(clean(row.get("principalId")), []).append(
                        {k: clean(v) for k, v in row.items()})
        return self._assignments.get(user_id, [])
