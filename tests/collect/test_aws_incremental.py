"""Incremental AWS collection (collection.incremental, collect/aws/changes.py) against the sandbox: after random
change sets made through the real APIs (sso-admin, identitystore, organizations) and through Entra's provisioning
(SCIM), an incremental snapshot holds the same tables as a full collection of the same state; every case where
completeness cannot be shown is read in full, the manifest saying why."""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import pytest
from support.snapshots import table_rows

from idbridge.clients.aws.pacing import PACER
from idbridge.collect.aws import changes as ch
from idbridge.collect.run import collect
from idbridge.core.parameters import SANDBOX_AWS_ACCESS_KEY_ID, SANDBOX_AWS_SECRET_ACCESS_KEY, Parameters
from idbridge.sandbox import provisioning
from idbridge.sandbox.aws import trail
from idbridge.sandbox.generate import generate_scenario
from idbridge.sandbox.scenario import Scenario
from idbridge.sandbox.server import Sandbox
from idbridge.snapshot.store import Snapshot

pytestmark = pytest.mark.integration
SOURCES = ["aws.instances", "aws.identity_store", "aws.permission_sets", "aws.provisioning_status",
           "aws.account_assignments", "aws.organizations", "aws.delegation"]
INCREMENTAL = ["aws.identity_store", "aws.permission_sets", "aws.provisioning_status", "aws.account_assignments",
               "aws.organizations"]
TABLES = ["idc_users", "idc_groups", "idc_group_memberships", "idc_permission_sets", "idc_permission_set_policies",
          "idc_permission_set_provisioning", "idc_account_assignments", "org_accounts"]
MARGIN = timedelta(seconds=1)  # the delivery margin in these tests (15 min in real runs)


@pytest.fixture(scope="module")
def box():
    scenario = Scenario.model_validate(generate_scenario(50, 20, 6, 12, seed=5, sign_ins=10))
    sandbox = Sandbox(scenario, scenario_file="generated-aws-incremental")
    sandbox.start()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ch, "DELIVERY_MARGIN", MARGIN)
        # The sandbox enforces no limit here: unpaced, the two dozen collections fit the time a test may take
        # (pacing has tests of its own; the tables do not depend on it).
        patch.setattr(PACER, "rates", {family: 10_000.0 for family in PACER.rates})
        patch.setattr(PACER, "bursts", {family: 10_000.0 for family in PACER.bursts})
        patch.setattr(PACER, "default_rate", 10_000.0)
        patch.setattr(PACER, "windows", {})
        patch.setattr(PACER, "_limiters", {})
        yield sandbox
    sandbox.stop()


class Runs:
    """Collections of one sandbox, incremental ones in one engagement, full ones in another, on a clock of their
    own: the sandbox stamps writes with its world's time (when ahead of the wall clock) and a live provisioning
    cycle's SCIM calls over the following minutes (provisioning.LIVE_CYCLE_SPAN), so each round moves the world
    on, writes, and collects once the cycle's calls are past."""

    def __init__(self, box: Sandbox, root: Path):
        self.box, self.root, self.n = box, root, 0
        # whole seconds: the manifest keeps collected_at to the second
        self.clock = (max(box.world.now, datetime.now(timezone.utc)) + timedelta(minutes=1)).replace(microsecond=0)

    def advance(self) -> None:
        """The world's time moves past the last collection: the next writes come after it."""
        self.clock += timedelta(minutes=1)
        self.box.world.now = self.clock

    def params(self, incremental: bool, **aws) -> Parameters:
        document = self.box.parameters(engagement="inc" if incremental else "full")
        document["run_root"] = str(self.root)
        document["collection"] = {"incremental": incremental, "sources": SOURCES}
        document["aws"] = {**document["aws"], **aws}
        return Parameters.model_validate(document)

    def collect(self, incremental: bool, wait: bool = True, now: datetime | None = None, **aws) -> Snapshot:
        if wait:  # past the last write (a live cycle's SCIM calls included) and the delivery margin
            self.clock += provisioning.LIVE_CYCLE_SPAN + MARGIN + timedelta(seconds=1)
        self.n += 1
        params = self.params(incremental, **aws)
        out = self.root / params.engagement / "snapshots" / f"{self.n:03d}"
        return Snapshot(collect(params, out, now=now or self.clock))


rows = table_rows


def modes(snapshot: Snapshot) -> dict[str, str]:
    return {s: n["mode"] for s, n in snapshot.manifest["incremental"]["sources"].items()}


# ------------------------------------------------------------------------------------------------ random changes


class Changer:
    """Random writes through boto3 (what an administrator or a pipeline does) and through Entra's provisioning."""

    def __init__(self, box: Sandbox, rng: random.Random):
        self.box, self.rng = box, rng
        ep = box.endpoints
        kw = dict(endpoint_url=ep.aws_endpoint_url, aws_access_key_id=SANDBOX_AWS_ACCESS_KEY_ID,
                  aws_secret_access_key=SANDBOX_AWS_SECRET_ACCESS_KEY)
        self.sso = boto3.client("sso-admin", region_name=ep.region, **kw)
        self.ids = boto3.client("identitystore", region_name=ep.region, **kw)
        self.org = boto3.client("organizations", region_name="us-east-1", **kw)
        self.instance, self.store = ep.instance_arn, ep.identity_store_id

    def _users(self) -> list[dict]:
        return self.ids.list_users(IdentityStoreId=self.store, MaxResults=100)["Users"]

    def _groups(self) -> list[dict]:
        return self.ids.list_groups(IdentityStoreId=self.store, MaxResults=100)["Groups"]

    def _sets(self) -> list[str]:
        return self.sso.list_permission_sets(InstanceArn=self.instance, MaxResults=100)["PermissionSets"]

    def _accounts(self) -> list[str]:
        return [a["Id"] for a in self.org.list_accounts()["Accounts"]]

    def _pick(self, items):
        return self.rng.choice(items) if items else None

    # each returns a word for the failure message
    def create_user(self):
        name = f"inc-{uuid.UUID(int=self.rng.getrandbits(128)).hex[:10]}"
        self.ids.create_user(IdentityStoreId=self.store, UserName=name, DisplayName=name,
                             Name={"GivenName": "Inc", "FamilyName": name})
        return "create user"

    def rename_user(self):
        user = self._pick(self._users())
        self.ids.update_user(IdentityStoreId=self.store, UserId=user["UserId"], Operations=[
            {"AttributePath": "displayName", "AttributeValue": f"Renamed {self.rng.randint(0, 9999)}"}])
        return "rename user"

    def delete_user(self):
        user = self._pick(self._users())
        self.ids.delete_user(IdentityStoreId=self.store, UserId=user["UserId"])
        return "delete user"

    def create_group(self):
        self.ids.create_group(IdentityStoreId=self.store, DisplayName=f"inc-group-{self.rng.getrandbits(32):x}")
        return "create group"

    def rename_group(self):
        group = self._pick(self._groups())
        self.ids.update_group(IdentityStoreId=self.store, GroupId=group["GroupId"], Operations=[
            {"AttributePath": "displayName", "AttributeValue": f"renamed-{self.rng.getrandbits(32):x}"}])
        return "rename group"

    def delete_group(self):
        group = self._pick(self._groups())
        self.ids.delete_group(IdentityStoreId=self.store, GroupId=group["GroupId"])
        return "delete group"

    def add_member(self):
        group, user = self._pick(self._groups()), self._pick(self._users())
        try:
            self.ids.create_group_membership(IdentityStoreId=self.store, GroupId=group["GroupId"],
                                             MemberId={"UserId": user["UserId"]})
        except self.ids.exceptions.ConflictException:
            pass  # already a member: a refused write, logged with its errorCode
        return "add member"

    def remove_member(self):
        for group in self.rng.sample(self._groups(), k=len(self._groups())):
            found = self.ids.list_group_memberships(IdentityStoreId=self.store, GroupId=group["GroupId"],
                                                    MaxResults=100)["GroupMemberships"]
            if found:
                self.ids.delete_group_membership(IdentityStoreId=self.store,
                                                 MembershipId=self._pick(found)["MembershipId"])
                return "remove member"
        return "remove member (none)"

    def create_assignment(self):
        principal_type = self.rng.choice(["GROUP", "USER"])
        principal = self._pick(self._groups() if principal_type == "GROUP" else self._users())
        key = "GroupId" if principal_type == "GROUP" else "UserId"
        self.sso.create_account_assignment(
            InstanceArn=self.instance, TargetId=self._pick(self._accounts()), TargetType="AWS_ACCOUNT",
            PermissionSetArn=self._pick(self._sets()), PrincipalType=principal_type, PrincipalId=principal[key])
        return "create assignment"

    def delete_assignment(self):
        for arn in self.rng.sample(self._sets(), k=len(self._sets())):
            accounts = self.sso.list_accounts_for_provisioned_permission_set(
                InstanceArn=self.instance, PermissionSetArn=arn, MaxResults=100)["AccountIds"]
            for account in accounts:
                found = self.sso.list_account_assignments(InstanceArn=self.instance, AccountId=account,
                                                          PermissionSetArn=arn, MaxResults=100)["AccountAssignments"]
                if found:
                    a = self._pick(found)
                    self.sso.delete_account_assignment(
                        InstanceArn=self.instance, TargetId=account, TargetType="AWS_ACCOUNT", PermissionSetArn=arn,
                        PrincipalType=a["PrincipalType"], PrincipalId=a["PrincipalId"])
                    return "delete assignment"
        return "delete assignment (none)"

    def edit_permission_set(self):
        arn = self._pick(self._sets())
        args = dict(InstanceArn=self.instance, PermissionSetArn=arn)
        kind = self.rng.choice(["describe", "attach", "inline", "detach"])
        if kind == "describe":
            self.sso.update_permission_set(**args, Description=f"edited {self.rng.randint(0, 999)}",
                                           SessionDuration=self.rng.choice(["PT1H", "PT4H", "PT8H"]))
        elif kind == "attach":
            try:
                self.sso.attach_managed_policy_to_permission_set(
                    **args, ManagedPolicyArn=self.rng.choice(["arn:aws:iam::aws:policy/ReadOnlyAccess",
                                                              "arn:aws:iam::aws:policy/SecurityAudit"]))
            except self.sso.exceptions.ConflictException:
                pass
        elif kind == "detach":
            attached = self.sso.list_managed_policies_in_permission_set(**args)["AttachedManagedPolicies"]
            if attached:
                self.sso.detach_managed_policy_from_permission_set(**args, ManagedPolicyArn=attached[0]["Arn"])
        else:
            self.sso.put_inline_policy_to_permission_set(**args, InlinePolicy=json.dumps({
                "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}))
        if self.rng.random() < 0.5:
            self.sso.provision_permission_set(**args, TargetType="ALL_PROVISIONED_ACCOUNTS")
        return f"permission set {kind}"

    def create_permission_set(self):
        self.sso.create_permission_set(InstanceArn=self.instance, Name=f"Inc{self.rng.getrandbits(24):x}",
                                       SessionDuration="PT2H")
        return "create permission set"

    def move_account(self):
        root = self.org.list_roots()["Roots"][0]["Id"]
        ous = [root] + [ou["Id"] for ou in self.org.list_organizational_units_for_parent(
            ParentId=root)["OrganizationalUnits"]]
        account = self._pick(self._accounts())
        source = self.org.list_parents(ChildId=account)["Parents"][0]["Id"]
        target = self._pick([o for o in ous if o != source])
        self.org.move_account(AccountId=account, SourceParentId=source, DestinationParentId=target)
        return "move account"

    def rename_ou(self):
        root = self.org.list_roots()["Roots"][0]["Id"]
        ou = self._pick(self.org.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"])
        self.org.update_organizational_unit(OrganizationalUnitId=ou["Id"], Name=f"OU-{self.rng.getrandbits(20):x}")
        return "rename OU"

    def create_ou(self):
        root = self.org.list_roots()["Roots"][0]["Id"]
        self.org.create_organizational_unit(ParentId=root, Name=f"New-{self.rng.getrandbits(20):x}")
        return "create OU"

    def tag_account(self):
        account = self._pick(self._accounts())
        if self.rng.random() < 0.6:
            self.org.tag_resource(ResourceId=account, Tags=[{"Key": "environment",
                                                             "Value": self.rng.choice(["prod", "dev", "test"])}])
        else:
            self.org.untag_resource(ResourceId=account, TagKeys=["environment"])
        return "tag account"

    def scim(self, add: bool | None = None):
        """Entra's provisioning: a user added to an assigned group, or a member renamed, then one cycle."""
        world = self.box.world
        graph = world.graph
        with world.lock:
            assigned = sorted({a["principalId"] for a in graph.app_role_assignments.values()
                               if a["resourceId"] == graph.aws_sp_id and a["principalType"] == "Group"})
            group = self.rng.choice(assigned)
            if add if add is not None else self.rng.random() < 0.5:
                graph.direct_members.setdefault(group, []).append(self.rng.choice(sorted(graph.users)))
            else:
                members = [m for m in graph.direct_members.get(group, []) if m in graph.users]
                if members:
                    graph.users[self.rng.choice(members)]["displayName"] += " (scim)"
        job = next(iter(graph.sync_jobs[graph.aws_sp_id]))
        provisioning.run_cycle(world, graph.aws_sp_id, job)
        return "scim cycle"

    def scim_remove(self, whole: bool = False):
        """Entra's provisioning: a member taken out of an assigned group (PatchGroup remove), or, with `whole`,
        out of every assigned group, which takes the user out of the app's scope (SCIM PatchUser / DeleteUser)."""
        world = self.box.world
        graph = world.graph
        with world.lock:
            assigned = sorted({a["principalId"] for a in graph.app_role_assignments.values()
                               if a["resourceId"] == graph.aws_sp_id and a["principalType"] == "Group"})
            held = [(g, m) for g in assigned for m in graph.direct_members.get(g, []) if m in graph.users]
            group, member = self.rng.choice(held)
            for g in (assigned if whole else [group]):
                graph.direct_members[g] = [m for m in graph.direct_members.get(g, []) if m != member]
        job = next(iter(graph.sync_jobs[graph.aws_sp_id]))
        provisioning.run_cycle(world, graph.aws_sp_id, job)
        return "scim remove" + (" from scope" if whole else "")

    KINDS = ("create_user", "rename_user", "delete_user", "create_group", "rename_group", "delete_group",
             "add_member", "add_member", "remove_member", "create_assignment", "create_assignment",
             "delete_assignment", "edit_permission_set", "edit_permission_set", "create_permission_set",
             "move_account", "rename_ou", "create_ou", "tag_account", "tag_account", "scim", "scim_remove")

    def change_set(self, size: int) -> list[str]:
        return [getattr(self, self.rng.choice(self.KINDS))() for _ in range(size)]


# ------------------------------------------------------------------------------------------------ the property


def test_incremental_equals_full_after_random_change_sets(box, tmp_path):
    runs = Runs(box, tmp_path)
    base = runs.collect(incremental=True, wait=False)
    assert set(modes(base).values()) == {"full"}
    changer = Changer(box, random.Random(14))
    for round_ in range(12):
        runs.advance()
        done = changer.change_set(changer.rng.randint(2, 6))
        inc = runs.collect(incremental=True)
        full = runs.collect(incremental=False, wait=False)
        assert modes(inc) == {s: "cloudtrail" for s in INCREMENTAL}, (round_, done, inc.manifest["incremental"])
        for name in TABLES:
            assert rows(inc, name) == rows(full, name), (round_, done, name)
        assert all(inc.sources[s]["status"] == "complete" for s in SOURCES)
    # Re-reads were targeted, not a full walk in disguise: at most a few pairs per round.
    note = inc.manifest["collection_notes"]["aws.account_assignments"]
    assert note["pairs_reread"] < note["pairs"]


def _listings(snapshot: Snapshot) -> dict[str, int]:
    return {k: v for k, v in snapshot.manifest["api_calls"].items()
            if any(op in k for op in ("ListUsers", "ListGroups", "ListPermissionSets"))}


@pytest.mark.parametrize("kind", ["delete_user", "rename_user", "create_user", "rename_group", "delete_group",
                                  "create_group", "add_member", "remove_member", "scim_add", "scim_rename",
                                  "scim_remove", "scim_out_of_scope", "create_permission_set"])
def test_each_identity_write_is_read_by_id_not_relisted(box, tmp_path, kind):
    """Users, groups and permission sets a write names are described one by one (DescribeUser / DescribeGroup /
    DescribePermissionSet, ResourceNotFound meaning deleted), members of the groups it names listed again; nothing
    is listed whole, and the tables equal a full collection's."""
    runs = Runs(box, tmp_path)
    runs.collect(incremental=True, wait=False)
    runs.advance()
    changer = Changer(box, random.Random(sum(map(ord, kind))))
    do = {"scim_add": lambda: changer.scim(add=True), "scim_rename": lambda: changer.scim(add=False),
          "scim_out_of_scope": lambda: changer.scim_remove(whole=True)}.get(kind) or getattr(changer, kind)
    done = do()
    inc = runs.collect(incremental=True)
    full = runs.collect(incremental=False, wait=False)
    assert modes(inc) == {s: "cloudtrail" for s in INCREMENTAL}, (done, inc.manifest["incremental"])
    for name in TABLES:
        assert rows(inc, name) == rows(full, name), (done, name)
    assert _listings(inc) == {}, (done, _listings(inc))
    assert _listings(full)  # the full collection lists them: the counter sees listings
    note = inc.manifest["collection_notes"]["aws.identity_store"]
    assert note["listed_whole"] == []
    if kind in ("rename_user", "create_user", "scim_rename"):
        assert note["users_described"] >= 1, (done, note)
    if kind == "scim_out_of_scope":  # Entra disables (PatchUser) or deletes (DeleteUser) the user, unless it is
        # still in scope another way; the groups it left change either way
        assert note["users_described"] + note["users_deleted"] + note["groups_members_reread"] >= 1, (done, note)
    if kind in ("rename_group", "create_group"):
        assert note["groups_described"] >= 1, (done, note)
    if kind in ("delete_user", "delete_group"):  # a successful delete is final: the row goes without a Describe
        assert note[f"{kind[7:]}s_deleted"] == 1 and note[f"{kind[7:]}s_described"] == 0, (done, note)
        assert not any("Describe" in k for k in inc.manifest["api_calls"] if "identitystore" in k.lower()), done
    if kind in ("add_member", "remove_member", "scim_add", "scim_remove", "delete_group", "create_group"):
        assert note["groups_members_reread"] >= (0 if kind == "delete_group" else 1), (done, note)


def test_users_are_described_while_later_pages_of_events_come_in(box, tmp_path, monkeypatch):
    """The users the first page of write events names are described before the second page is in (CloudTrail and
    DescribeUser have limits of their own: reading one after the other took their sum), each once; and the
    Identity Center and Organizations plans, both reading us-east-1 here, look its events up once, not twice.
    Seen from botocore's side: the second LookupEvents page is held back until a DescribeUser has been sent, which
    only happens in time if the reads start on the first page (else the hold times out and the test says so)."""
    import threading

    from botocore.client import BaseClient

    runs = Runs(box, tmp_path)
    runs.collect(incremental=True, wait=False)
    runs.advance()
    changer = Changer(box, random.Random(61))
    renamed = changer.rng.sample(changer._users(), 5)
    for round_ in range(12):  # 60 write events: two pages of 50
        for user in renamed:
            changer.ids.update_user(IdentityStoreId=changer.store, UserId=user["UserId"], Operations=[
                {"AttributePath": "displayName", "AttributeValue": f"Twice renamed {round_}"}])
    described, held = threading.Event(), []
    real = BaseClient._make_api_call

    def observed(self, operation, params):
        if operation == "DescribeUser":
            described.set()
        elif operation == "LookupEvents" and params.get("NextToken"):
            held.append(described.wait(timeout=20))
        return real(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", observed)
    inc = runs.collect(incremental=True)
    monkeypatch.undo()
    full = runs.collect(incremental=False, wait=False)
    for name in TABLES:
        assert rows(inc, name) == rows(full, name), name
    assert held and all(held), held  # every later page found a DescribeUser already sent
    assert inc.manifest["api_calls"]["identitystore:DescribeUser"] == 5
    looked = inc.manifest["collection_notes"]["aws.incremental"]["identity_center"]["events_looked_through"]
    assert looked >= 60
    assert inc.manifest["collection_notes"]["aws.incremental"]["organizations"]["events_looked_through"] == looked
    assert inc.manifest["api_calls"]["cloudtrail:LookupEvents"] == -(-looked // 50)


@pytest.mark.parametrize("answer", ["listed", "not found"])
def test_a_deleted_users_memberships_are_asked_of_aws(box, tmp_path, monkeypatch, answer):
    """A deleted user's memberships: ListGroupMembershipsForMember once for the user (AWS does not document
    whether deleting a user removes them); when AWS answers ResourceNotFound, the groups it was in are listed."""
    from idbridge.sandbox.aws import patch_identitystore

    changer = Changer(box, random.Random(77))
    # a user in two groups, made before the previous snapshot
    name = f"gone-{answer[:3]}-{uuid.uuid4().hex[:6]}"
    member = changer.ids.create_user(IdentityStoreId=changer.store, UserName=name, DisplayName="Gone",
                                     Name={"GivenName": "Gone", "FamilyName": "User"})["UserId"]
    for group in changer.rng.sample(changer._groups(), 2):
        changer.ids.create_group_membership(IdentityStoreId=changer.store, GroupId=group["GroupId"],
                                            MemberId={"UserId": member})
    runs = Runs(box, tmp_path)
    runs.collect(incremental=True, wait=False)
    runs.advance()
    changer.ids.delete_user(IdentityStoreId=changer.store, UserId=member)
    if answer == "not found":
        real = patch_identitystore.ids.membership_ids_of_user

        def refuse(data, user_id):
            if user_id == member:
                raise patch_identitystore.ids.NotFound("USER not found.", resource_type="USER")
            return real(data, user_id)

        monkeypatch.setattr(patch_identitystore.ids, "membership_ids_of_user", refuse)
    inc = runs.collect(incremental=True)
    full = runs.collect(incremental=False, wait=False)
    for name in TABLES:
        assert rows(inc, name) == rows(full, name), name
    note = inc.manifest["collection_notes"]["aws.identity_store"]
    assert note["deleted_users_memberships_read"] == 1
    assert inc.manifest["api_calls"]["identitystore:ListGroupMembershipsForMember"] == 1
    listed = inc.manifest["api_calls"].get("identitystore:ListGroupMemberships", 0)
    assert (listed >= 1) if answer == "not found" else (listed == 0), (answer, listed)


def test_a_write_that_names_no_user_lists_users_whole_saying_so(box, tmp_path):
    """A SCIM write whose event carries no id (the id of a PATCH or DELETE is not shown in AWS's examples): users
    are listed whole, the rest of the plan stands, and the manifest says which event made it so."""
    runs = Runs(box, tmp_path)
    runs.collect(incremental=True, wait=False)
    runs.advance()
    changer = Changer(box, random.Random(31))
    changer.rename_user()
    store = box.world.aws.cloudtrail
    planted = store.record({"eventName": "PatchUser", "eventSource": ch.SCIM, "eventTime": runs.clock,
                            "requestParameters": {"httpBody": {"Operations": []}, "tenantId": "x"}})
    try:
        inc = runs.collect(incremental=True)
    finally:
        with store._lock:
            store._entries = [e for e in store._entries if e.record is not planted]
    full = runs.collect(incremental=False, wait=False)
    assert modes(inc) == {s: "cloudtrail" for s in INCREMENTAL}
    for name in TABLES:
        assert rows(inc, name) == rows(full, name), name
    why = inc.manifest["incremental"]["sources"]["aws.identity_store"]["why"]
    assert "users listed whole" in why and "identitystore-scim.amazonaws.com PatchUser" in why, why
    assert "groups listed whole" not in why
    assert inc.manifest["collection_notes"]["aws.identity_store"]["listed_whole"] == ["users"]
    assert any("ListUsers" in k for k in _listings(inc)) and not any("ListGroups" in k for k in _listings(inc))


# ------------------------------------------------------------------------------------------------ full, and why


def _why(snapshot: Snapshot) -> dict[str, str]:
    return {s: n["why"] for s, n in snapshot.manifest["incremental"]["sources"].items() if n["mode"] == "full"}


def test_no_previous_snapshot_is_a_full_walk_saying_so(box, tmp_path):
    base = Runs(box, tmp_path).collect(incremental=True, wait=False)
    why = _why(base)
    assert set(why) == set(INCREMENTAL)
    assert all("no earlier snapshot of engagement 'inc'" in w for w in why.values())


def test_previous_older_than_cloudtrails_90_days_is_a_full_walk(box, tmp_path):
    runs = Runs(box, tmp_path)
    runs.collect(incremental=True, wait=False)
    late = runs.collect(incremental=True, now=runs.clock + timedelta(days=91))
    assert set(_why(late)) == set(INCREMENTAL)
    assert "keeps 90 days" in _why(late)["aws.identity_store"]


def test_previous_inside_the_delivery_margin_is_a_full_walk(box, tmp_path):
    runs = Runs(box, tmp_path)
    runs.collect(incremental=True, wait=False)
    soon = runs.collect(incremental=True, wait=False, now=runs.clock + MARGIN / 2)
    assert "inside CloudTrail's delivery margin" in _why(soon)["aws.permission_sets"]


def test_cloudtrail_not_readable_is_a_full_walk(box, tmp_path):
    runs = Runs(box, tmp_path)
    runs.collect(incremental=True, wait=False)
    box.world.faults = box.world.faults.model_copy(update={"deny": ["cloudtrail"]})
    try:
        denied = runs.collect(incremental=True)
    finally:
        box.world.faults = box.world.faults.model_copy(update={"deny": []})
    why = _why(denied)
    assert set(why) == set(INCREMENTAL)
    assert "could not be read: AccessDeniedException" in why["aws.account_assignments"]


def test_an_event_not_understood_is_a_full_walk_naming_it(box, tmp_path):
    runs = Runs(box, tmp_path)
    runs.collect(incremental=True, wait=False)
    runs.advance()
    # Switching the identity source (a console action) replaces every user and group: not one to patch.
    store = box.world.aws.cloudtrail
    planted = store.record({"eventName": "AssociateDirectory", "eventSource": "sso.amazonaws.com",
                            "eventTime": runs.clock, "requestParameters": {"directoryId": "d-1"}})
    try:
        odd = runs.collect(incremental=True)
    finally:  # out of the history again, so the other tests' windows do not meet it
        with store._lock:
            store._entries = [e for e in store._entries if e.record is not planted]
    why = _why(odd)
    assert set(why) == {"aws.identity_store", "aws.permission_sets", "aws.provisioning_status",
                        "aws.account_assignments"}  # Organizations reads its own events
    assert "sso.amazonaws.com AssociateDirectory" in why["aws.identity_store"]
    assert "not one this idbridge knows how to apply" in why["aws.identity_store"]


def test_a_delegated_administrator_is_a_full_walk(box, tmp_path):
    runs = Runs(box, tmp_path)
    runs.collect(incremental=True, wait=False)
    changer = Changer(box, random.Random(3))
    member = next(a for a in changer._accounts() if a != box.scenario.aws.management_account)
    changer.org.register_delegated_administrator(AccountId=member, ServicePrincipal="sso.amazonaws.com")
    try:
        delegated = runs.collect(incremental=True)
    finally:
        changer.org.deregister_delegated_administrator(AccountId=member, ServicePrincipal="sso.amazonaws.com")
    assert f"delegated administrator ({member})" in _why(delegated)["aws.account_assignments"]
    assert "aws.organizations" not in _why(delegated)  # its events are the management account's own


def test_a_change_still_in_delivery_shows_in_the_next_run(box, tmp_path, monkeypatch):
    """A write whose event is not delivered yet is not seen (the snapshot is complete through its start minus
    the margin, as the manifest says); the next run's window starts a margin before this one's start, so it is.
    The design holds while delivery takes less than the margin (10 minutes here)."""
    margin = timedelta(minutes=10)
    monkeypatch.setattr(ch, "DELIVERY_MARGIN", margin)
    runs = Runs(box, tmp_path)
    runs.collect(incremental=True, wait=False)
    runs.clock += margin
    runs.advance()
    monkeypatch.setattr(trail.EventStore, "delivery_delay_s", 3600.0)  # not delivered until said otherwise
    changer = Changer(box, random.Random(9))
    arn = changer._pick(changer._sets())
    changer.sso.update_permission_set(InstanceArn=changer.instance, PermissionSetArn=arn,
                                      Description="edited in flight")
    runs.clock += timedelta(minutes=1)
    first = runs.collect(incremental=True, wait=False)  # a minute after the write, its event still in delivery
    assert modes(first)["aws.permission_sets"] == "cloudtrail"
    described = dict(zip(first.table("idc_permission_sets")["permissionSetArn"],
                         first.table("idc_permission_sets")["description"]))
    assert described[arn] != "edited in flight"
    notes = first.manifest["collection_notes"]["aws.incremental"]["identity_center"]
    assert notes["complete_through"] == (runs.clock - margin).isoformat(timespec="seconds")
    monkeypatch.setattr(trail.EventStore, "delivery_delay_s", 0.0)  # delivered now
    runs.clock += margin
    second = runs.collect(incremental=True, wait=False)
    assert modes(second)["aws.permission_sets"] == "cloudtrail"
    described = dict(zip(second.table("idc_permission_sets")["permissionSetArn"],
                         second.table("idc_permission_sets")["description"]))
    assert described[arn] == "edited in flight"
    full = runs.collect(incremental=False, wait=False)
    for name in TABLES:
        assert rows(second, name) == rows(full, name), name


# ------------------------------------------------------------------------------------------------ the allow-list


def _event(source: str, name: str, **params) -> dict:
    return {"eventSource": source, "eventName": name, "eventTime": "2026-05-01T10:00:00Z",
            "requestParameters": params or None}


def _changes() -> ch.Changes:
    now = datetime(2026, 5, 1, tzinfo=timezone.utc)
    return ch.Changes(now - timedelta(days=1), now, now - ch.DELIVERY_MARGIN)


def test_each_understood_event_touches_what_it_names():
    changes = _changes()
    ps = "arn:aws:sso:::permissionSet/ssoins-1/ps-1"
    ch.apply_event(changes, _event(ch.SSO, "CreateAccountAssignment", targetId="111122223333",
                                   targetType="AWS_ACCOUNT", permissionSetArn=ps))
    ch.apply_event(changes, _event(ch.SSO, "PutInlinePolicyToPermissionSet", permissionSetArn=ps + "x"))
    ch.apply_event(changes, _event(ch.STORE, "CreateGroupMembership", groupId="g-1"))
    ch.apply_event(changes, _event(ch.STORE, "DeleteGroupMembership", membershipId="m-1"))
    ch.apply_event(changes, _event(ch.SCIM, "PatchGroup", id="g-2"))
    ch.apply_event(changes, _event(ch.ORGS, "TagResource", resourceId="444455556666"))
    ch.apply_event(changes, _event(ch.ORGS, "TagResource", resourceId="ou-ab12-cdef3456"))  # an OU: no account
    ch.apply_event(changes, _event(ch.ORGS, "MoveAccount", accountId="777788889999"))
    assert changes.pairs == {("111122223333", ps)}
    assert changes.permission_sets == {ps + "x"} and changes.provisioning == {ps, ps + "x"}
    assert changes.membership_groups == {"g-1", "g-2"} and changes.deleted_memberships == {"m-1"}
    assert changes.tag_accounts == {"444455556666", "777788889999"}
    assert changes.events == 8


def test_a_refused_write_changed_nothing():
    changes = _changes()
    event = _event(ch.SSO, "DeleteAccountAssignment", targetId="111122223333", permissionSetArn="arn:ps")
    ch.apply_event(changes, {**event, "errorCode": "AccessDeniedException"})
    assert not changes.pairs and changes.events == 0


@pytest.mark.parametrize("event, words", [
    (_event(ch.SSO, "AssociateDirectory", directoryId="d-1"), "not one this idbridge knows"),
    (_event(ch.DIRECTORY, "AddMemberToGroup"), "not one this idbridge knows"),
    (_event(ch.SSO, "UpdatePermissionSet"), "does not say which permissionSetArn"),
    (_event(ch.STORE, "CreateGroupMembership", groupId="HIDDEN_DUE_TO_SECURITY_REASONS"), "which groupId"),
    (_event(ch.SSO, "CreateAccountAssignment", targetId="x", targetType="ORGANIZATIONAL_UNIT",
            permissionSetArn="arn:ps"), "targets ORGANIZATIONAL_UNIT"),
])
def test_what_is_not_understood_voids_the_plan(event, words):
    with pytest.raises(ch.Fallback, match=words):
        ch.apply_event(_changes(), event)


def test_a_scim_patch_of_an_unnamed_group_rereads_every_group():
    changes = _changes()
    ch.apply_event(changes, _event(ch.SCIM, "PatchGroup", httpBody={"Operations": []}))
    assert changes.all_memberships and "groups" in changes.relist and "users" not in changes.relist


def test_identity_store_writes_name_the_user_or_group_they_touched():
    from support.contract import load_fixture

    changes = _changes()
    scim_create = load_fixture("scim_create_user", "aws")["response"]  # AWS's own example: the id in the answer
    api_create = load_fixture("identitystore_api_create_user_event", "aws")["response"]
    ch.apply_event(changes, scim_create)
    ch.apply_event(changes, api_create)
    ch.apply_event(changes, _event(ch.STORE, "UpdateUser", userId="u-2"))
    ch.apply_event(changes, _event(ch.STORE, "DeleteUser", userId="u-3"))
    ch.apply_event(changes, _event(ch.SCIM, "PatchUser", id="u-4", httpBody={"Operations": []}))
    ch.apply_event(changes, _event(ch.SCIM, "DeleteUser", id="u-5"))
    ch.apply_event(changes, {**_event(ch.STORE, "CreateGroup"), "responseElements": {"groupId": "g-1"}})
    ch.apply_event(changes, _event(ch.STORE, "UpdateGroup", groupId="g-2"))
    ch.apply_event(changes, _event(ch.SCIM, "DeleteGroup", id="g-3"))
    ch.apply_event(changes, _event(ch.SCIM, "PatchGroup", id="g-4"))
    ch.apply_event(changes, {**_event(ch.SSO, "CreatePermissionSet"),
                             "responseElements": {"permissionSet": {"permissionSetArn": "arn:ps-new"}}})
    assert changes.users == {scim_create["responseElements"]["id"], api_create["responseElements"]["userId"],
                             "u-2", "u-3", "u-4", "u-5"}
    assert changes.groups == {"g-1", "g-2", "g-3", "g-4"} and changes.membership_groups == {"g-4"}
    assert changes.created_sets == {"arn:ps-new"}
    assert changes.relist == {}


@pytest.mark.parametrize("event, kind", [
    (_event(ch.SCIM, "DeleteUser"), "users"),
    (_event(ch.STORE, "UpdateUser", userId="HIDDEN_DUE_TO_SECURITY_REASONS"), "users"),
    (_event(ch.STORE, "CreateGroup", displayName="HIDDEN_DUE_TO_SECURITY_REASONS"), "groups"),
    (_event(ch.SCIM, "CreateGroup", httpBody={}), "groups"),
    (_event(ch.SSO, "CreatePermissionSet", instanceArn="arn:ins"), "permission sets"),
])
def test_a_write_naming_nothing_lists_its_kind_whole(event, kind):
    changes = _changes()
    ch.apply_event(changes, event)
    assert set(changes.relist) == {kind}
    assert f"{event['eventSource']} {event['eventName']}" in changes.relist[kind]


# ------------------------------------------------------------------------------------------------ the shapes


def test_the_sandbox_logs_writes_in_the_documented_shape(box, tmp_path):
    """Each write the incremental collection reads, made through boto3 (or Entra's provisioning), is logged in the
    shape of its contract fixture, with the members changes.py reads."""
    from support.contract import load_fixture, shape_differences

    changer = Changer(box, random.Random(21))
    # Writes are stamped with the world's time, which other tests may have moved ahead of the wall clock.
    start = max(box.world.now, datetime.now(timezone.utc)) - timedelta(seconds=1)
    arn = changer._pick(changer._sets())
    changer.sso.update_permission_set(InstanceArn=changer.instance, PermissionSetArn=arn, Description="shape")
    changer.create_assignment()
    changer.delete_assignment()
    group, user = changer._pick(changer._groups()), changer._pick(changer._users())
    made = changer.ids.create_group_membership(IdentityStoreId=changer.store, GroupId=group["GroupId"],
                                               MemberId={"UserId": user["UserId"]})
    changer.ids.delete_group_membership(IdentityStoreId=changer.store, MembershipId=made["MembershipId"])
    changer.tag_account()
    changer.move_account()
    for _ in range(4):  # a random Entra user may be refused by SCIM (a duplicate): a few tries give a PatchGroup
        changer.scim(add=True)
    kw = dict(endpoint_url=box.endpoints.aws_endpoint_url, aws_access_key_id=SANDBOX_AWS_ACCESS_KEY_ID,
              aws_secret_access_key=SANDBOX_AWS_SECRET_ACCESS_KEY)
    served: dict[tuple[str, str], dict] = {}
    for region in {box.endpoints.region, "us-east-1"}:
        trail_client = boto3.client("cloudtrail", region_name=region, **kw)
        for page in trail_client.get_paginator("lookup_events").paginate(
                LookupAttributes=[ch.WRITES], StartTime=start, EndTime=start + timedelta(days=1)):
            for event in page["Events"]:
                record = json.loads(event["CloudTrailEvent"])
                served.setdefault((record["eventSource"], record["eventName"]), record)
    for (source, name), fixture in {
            (ch.SSO, "UpdatePermissionSet"): "cloudtrail_sso_update_permission_set",
            (ch.SSO, "DeleteAccountAssignment"): "cloudtrail_sso_delete_account_assignment",
            (ch.STORE, "CreateGroupMembership"): "cloudtrail_identitystore_create_group_membership",
            (ch.STORE, "DeleteGroupMembership"): "cloudtrail_identitystore_delete_group_membership",
            (ch.ORGS, "MoveAccount"): "cloudtrail_organizations_move_account",
            (ch.SCIM, "PatchGroup"): "cloudtrail_scim_patch_group"}.items():
        assert (source, name) in served, (source, name, sorted(served))
        documented = load_fixture(fixture, "aws")["response"]
        differences = shape_differences(documented, served[(source, name)],
                                        nullable=frozenset({"requestParameters", "responseElements"}))
        # An optional request member the call did not send is not logged (AWS logs what was sent).
        assert [d for d in differences if not (d.startswith(("$.requestParameters", "$.responseElements"))
                                               and d.endswith("omitted by the sandbox"))] == [], name
        assert served[(source, name)]["eventSource"] == documented["eventSource"]
    tagged = served.get((ch.ORGS, "TagResource")) or served.get((ch.ORGS, "UntagResource"))
    assert tagged["requestParameters"]["resourceId"] and tagged["awsRegion"] == "us-east-1"
