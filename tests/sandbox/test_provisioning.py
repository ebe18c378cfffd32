"""The emulated Entra provisioning service end to end: a real world (Graph store + moto-backed AWS side) built
with build_world from a small scenario, seeded through the real SCIM path, then driven like the Graph routes do."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

pytest.importorskip("idbridge.sandbox.graph.seed")
pytest.importorskip("idbridge.sandbox.aws.seed")

from idbridge.sandbox.aws.store_records import SCIM as SCIM_BY
from idbridge.sandbox import derived  # noqa: E402
from idbridge.sandbox.provisioning import (OnDemandError, check_credentials, provision_on_demand,  # noqa: E402
                                           restart_job, run_cycle)
from idbridge.sandbox.scenario import Scenario  # noqa: E402
from idbridge.sandbox.world import build_world  # noqa: E402

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(minutes=40)
TENANT = "3f2a9c1e-7b4d-4e8a-9c21-5d6e7f8a9b0c"
DOMAIN = "contoso.com"
PATTERN = r"[\p{L}\p{M}\p{S}\p{N}\p{P}\t\n\r ]+"
UNPARSABLE = "Request is unparsable, syntactically incorrect, or violates schema."


def person(name: str, **extra) -> dict:
    first = name.title()
    return {"upn": f"{name}@{DOMAIN}", "display_name": f"{first} Tester", "given_name": first, "surname": "Tester",
            "mail": f"{name}@{DOMAIN}", "created": "now-300d", **extra}


def scenario_dict(**provisioning) -> dict:
    engineers = ["bob", "dave", "erin", "frank", "gina", "hank", "ivan", "judy", "kate", "leo", "mia"]
    return {
        "scenario": "provisioning-tests",
        "tenant": {"id": TENANT, "display_name": "Contoso", "default_domain": "contoso.onmicrosoft.com",
                   "domains": [DOMAIN]},
        "entra": {
            "users": [
                person("alice", job_title="CFO", business_phones=["+31 20 555 0100"], city="Amsterdam"),
                person("bob"),
                person("carol"),                                                      # only in the nested group
                person("dave", given_name=None),                                      # required attribute missing
                person("erin", business_phones=["+31 20 555 0101"], mobile_phone="+31 6 5550 0102"),  # two phones
                person("frank", display_name="Frank <Ops> Tester"),                    # forbidden characters
                person("gina", mail=f"shared@{DOMAIN}"),                               # same email ...
                person("hank", mail=f"shared@{DOMAIN}"),                               # ... refused as a duplicate
                person("ivan", account_enabled=False),                                 # disabled: SCIM disabled it
                person("judy", account_enabled=False, idc={"active": True}),           # disabled after the last cycle
                person("kate", deleted=True),                                          # deleted after the last cycle
                person("leo", idc={"present": False}),                                 # never made it to AWS
                person("mia", idc={"display_name": "Mia Old", "family_name": "Old"}),  # renamed after the last cycle
                person("noah"),                                                        # not assigned
            ],
            "groups": [
                {"display_name": "AWS-Engineers", "members": [f"{n}@{DOMAIN}" for n in engineers],
                 "member_groups": ["Nested"], "created": "now-300d"},
                {"display_name": "Nested", "members": [f"carol@{DOMAIN}"], "created": "now-300d"},
                {"display_name": "AWS-Gone", "members": [f"alice@{DOMAIN}"], "created": "now-300d",
                 "idc": {"present": False}},
            ],
            "aws_app": {
                "assignments": {"users": [f"alice@{DOMAIN}"], "groups": ["AWS-Engineers", "AWS-Gone"]},
                "provisioning": {"last_cycle": "now-25m", "token_created": "now-20d",
                                 "extra_mappings": [{"source": "mobile",
                                                     "target": 'phoneNumbers[type eq "mobile"].value'}],
                                 **provisioning},
            },
        },
        "aws": {"management_account": "111111111111"},
    }


def world_of(**provisioning):
    return build_world(Scenario.model_validate(scenario_dict(**provisioning)), NOW)


@pytest.fixture
def world():
    return world_of()


# --------------------------------------------------------------------------------------------- helpers


def sp_and_job(world) -> tuple[str, str]:
    sp = world.graph.aws_sp_id
    return sp, next(iter(world.graph.sync_jobs[sp]))


def status(world) -> dict:
    sp, job = sp_and_job(world)
    return world.graph.sync_jobs[sp][job]["status"]


def idc_user(world, name: str) -> dict | None:
    found = world.aws.identity_store.find_user(user_name=f"{name}@{DOMAIN}")
    return world.aws.identity_store.user(found) if found else None


def entra_id(world, name: str) -> str:
    upn = f"{name}@{DOMAIN}"
    return next(i for i, u in {**world.graph.users, **world.graph.deleted_users}.items()
                if u["userPrincipalName"] == upn)


def logs_for(world, name: str) -> list[dict]:
    uid = entra_id(world, name)
    return [e for e in world.graph.provisioning_logs if e["sourceIdentity"]["id"] == uid]


def scim_events(world, since: datetime | None = None, *, reads: bool = False) -> list[dict]:
    """SCIM writes in CloudTrail, newest first (and the reads — GetUser, ListUsers… — with reads=True)."""
    events = [e for e in world.aws.cloudtrail.events() if e["eventSource"] == "identitystore-scim.amazonaws.com"
              and (reads or not e["readOnly"])]
    if since is not None:
        stamp = since.strftime("%Y-%m-%dT%H:%M:%SZ")
        events = [e for e in events if e["eventTime"] >= stamp]
    return events


def failure(world, name: str) -> dict:
    entries = [e for e in logs_for(world, name) if e["provisioningStatusInfo"]["status"] == "failure"]
    assert entries, f"no failure logged for {name}"
    return entries[-1]["provisioningStatusInfo"]["errorInformation"]


# --------------------------------------------------------------------------------------------- seeding


def test_provisioned_users_and_groups(world):
    for name in ("alice", "bob", "ivan", "judy", "kate", "mia"):
        record = idc_user(world, name)
        assert record is not None, name
        assert record["CreatedBy"] == SCIM_BY
        assert record["ExternalIds"][0]["Id"] == entra_id(world, name)  # externalId from objectId
    assert {g["DisplayName"] for g in world.aws.identity_store.groups()} == {"AWS-Engineers"}
    engineers = world.aws.identity_store.find_group(display_name="AWS-Engineers")
    members = {world.aws.identity_store.user(m)["UserName"] for m in world.aws.identity_store.members(engineers)}
    assert members == {f"{n}@{DOMAIN}" for n in ("bob", "gina", "ivan", "judy", "kate", "mia")}


def test_users_only_in_a_nested_group_are_not_provisioned_nor_logged(world):
    assert idc_user(world, "carol") is None
    assert logs_for(world, "carol") == []
    assert world.aws.identity_store.find_group(display_name="Nested") is None
    assert idc_user(world, "noah") is None and logs_for(world, "noah") == []


def test_missing_given_name_fails_with_aws_text(world):
    text = ("1 validation errors detected: Value at 'name.givenName' failed to satisfy constraint: Member must have "
            "length greater than or equal to 1")
    error = failure(world, "dave")
    assert error["errorCode"] == "SystemForCrossDomainIdentityManagementBadRequest"
    assert error["reason"].startswith("StatusCode: BadRequest Message: Processing of the HTTP request resulted in an "
                                      "exception.")
    assert f'"detail":"{text}"' in error["reason"]
    events = [e for e in scim_events(world) if e.get("errorMessage") == text]
    assert events and events[0]["eventName"] == "CreateUser" and events[0]["errorCode"] == "ValidationException"
    assert idc_user(world, "dave") is None


def test_two_phone_numbers_fail_generic_in_entra_specific_in_cloudtrail(world):
    error = failure(world, "erin")
    assert f'"detail":"{UNPARSABLE}"' in error["reason"] and '"status":"400"' in error["reason"]
    assert any(e.get("errorMessage") == "List attribute phoneNumbers exceeds allowed limit of 1"
               for e in scim_events(world))
    assert idc_user(world, "erin") is None


def test_forbidden_characters_fail(world):
    text = ("1 validation errors detected: Value at 'displayName' failed to satisfy constraint: Member must satisfy "
            f"regular expression pattern: {PATTERN}")
    assert json.dumps(text)[1:-1] in failure(world, "frank")["reason"]


def test_duplicate_email_is_refused(world):
    assert idc_user(world, "gina") is not None and idc_user(world, "hank") is None
    error = failure(world, "hank")
    assert error["errorCode"] == "SystemForCrossDomainIdentityManagementConflict"
    assert '"detail":"Refused to create a new, duplicate resource"' in error["reason"]
    assert any(e.get("errorCode") == "ConflictException" and e.get("errorMessage") == "Duplicate Email"
               for e in scim_events(world))


def test_failed_objects_are_retried_each_cycle(world):
    reasons = [e["provisioningStatusInfo"]["errorInformation"]["reason"] for e in logs_for(world, "dave")]
    assert len(reasons) == 2  # the initial cycle and the last one
    assert "retried 0 times" in reasons[0] and "retried 1 times" in reasons[1]


def test_disabled_users(world):
    assert idc_user(world, "ivan")["UserStatus"] == "DISABLED"
    disable = [e for e in logs_for(world, "ivan") if e["provisioningAction"] == "disable"]
    assert disable and disable[0]["provisioningStatusInfo"]["status"] == "success"
    assert disable[0]["modifiedProperties"] == [{"displayName": "active", "oldValue": "True", "newValue": "False"}]
    assert idc_user(world, "judy")["UserStatus"] == "ENABLED"  # idc.active: the disable never reached AWS
    assert idc_user(world, "kate")["UserStatus"] == "ENABLED"  # deleted after the last cycle


def test_drift_overrides(world):
    assert idc_user(world, "leo") is None
    mia = idc_user(world, "mia")
    assert (mia["DisplayName"], mia["Name"]["FamilyName"]) == ("Mia Old", "Old")
    assert world.aws.identity_store.find_group(display_name="AWS-Gone") is None


def test_log_entries_and_times(world):
    entries = world.graph.provisioning_logs
    assert [e["activityDateTime"] for e in entries] == sorted(e["activityDateTime"] for e in entries)
    alice = logs_for(world, "alice")[0]
    assert alice["provisioningAction"] == "create" and alice["provisioningStatusInfo"]["status"] == "success"
    assert alice["servicePrincipal"]["id"] == world.graph.aws_sp_id and alice["tenantId"] == TENANT
    assert alice["activityDateTime"] <= (NOW - timedelta(minutes=25)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert alice["targetIdentity"]["id"] == world.aws.identity_store.find_user(user_name=f"alice@{DOMAIN}")
    created = idc_user(world, "alice")["CreatedAt"]
    assert NOW - timedelta(days=21) < created < NOW - timedelta(minutes=25)


def test_job_status_after_seeding(world):
    st = status(world)
    assert st["code"] == "Active" and st["quarantine"] is None and st["countSuccessiveCompleteFailures"] == 0
    assert st["lastExecution"]["timeBegan"] == "2026-03-01T11:35:00Z"
    assert st["lastExecution"]["state"] == "EntryLevelErrors" and st["lastExecution"]["countEscrowed"] == 4
    assert st["steadyStateFirstAchievedTime"] != "0001-01-01T00:00:00Z"
    counts = {c["key"]: c["value"] for c in st["synchronizedEntryCountByType"]}
    # Entra's own count: it still counts leo and AWS-Gone, whose copies were removed behind its back (drift).
    assert counts == {"user to User": 8, "group to Group": 2}


def test_seeded_cloudtrail(world):
    names = {e["eventName"] for e in scim_events(world)}
    assert names == {"CreateUser", "PatchUser", "CreateGroup", "PatchGroup"}
    # AWS logs the reads too: each object a cycle looks at is read (by id, or matched with a filter) first
    reads = [e for e in scim_events(world, reads=True) if e["readOnly"]]
    assert {e["eventName"] for e in reads} <= {"GetUser", "ListUsers", "GetGroup", "ListGroups"}
    assert len(reads) >= len(scim_events(world))
    assert all(e["recipientAccountId"] == world.aws.account_id for e in scim_events(world))


def test_seeded_restarts_re_read_every_object_and_write_only_differences(world):
    """provisioning.restarts: the cycle after each Restart provisioning matches every user and group in scope again
    (a logged SCIM read each, at the restart's time); nothing new is created, and Identity Center ends the same as
    without restarts."""
    restarted = world_of(restarts=["now-10d", "now-5d"])
    at = {NOW - timedelta(days=10): [], NOW - timedelta(days=5): []}
    for event in scim_events(restarted, reads=True):
        for moment, bucket in at.items():
            if moment <= datetime.fromisoformat(event["eventTime"].replace("Z", "+00:00")) < moment + timedelta(
                    minutes=40):
                bucket.append(event)
    in_idc = {u["UserName"] for u in restarted.aws.identity_store.users()}
    for moment, events in at.items():
        reads = [e for e in events if e["readOnly"]]
        assert {e["eventName"] for e in reads} <= {"GetUser", "ListUsers", "GetGroup", "ListGroups"}
        assert len([e for e in reads if e["eventName"] in ("GetUser", "ListUsers")]) >= len(in_idc) - 1, moment
        # Writes only where Identity Center differs: nobody new is created (the refused users are retried and
        # refused again, as a restart clears the escrows).
        assert not [e for e in events if e["eventName"] == "CreateUser" and not e.get("errorCode")], moment
    assert in_idc == {u["UserName"] for u in world.aws.identity_store.users()}
    assert len(scim_events(restarted, reads=True)) > len(scim_events(world, reads=True))


def test_a_restart_outside_the_job_s_life_is_a_seed_error():
    from idbridge.sandbox.scenario import SeedError

    with pytest.raises(SeedError) as caught:
        world_of(restarts=["now-30d"])  # the token, hence provisioning, is 20 days old
    assert caught.value.path == ("entra", "aws_app", "provisioning", "restarts", 0)
    assert "token_created" in caught.value.problem


# --------------------------------------------------------------------------------------------- later cycles


def test_next_cycle_provisions_changes_and_is_idempotent_otherwise(world):
    sp, job = sp_and_job(world)
    engineers = next(i for i, g in world.graph.groups.items() if g["displayName"] == "AWS-Engineers")
    world.graph.direct_members[engineers].append(entra_id(world, "noah"))
    before_logs = len(world.graph.provisioning_logs)
    run_cycle(world, sp, job, at=NOW)
    new = world.graph.provisioning_logs[before_logs:]
    by_name = {e["sourceIdentity"]["displayName"].split()[0].lower(): e for e in new}
    assert by_name["noah"]["provisioningAction"] == "create"
    assert by_name["noah"]["provisioningStatusInfo"]["status"] == "success"
    assert idc_user(world, "noah")["UserStatus"] == "ENABLED"
    # Entra changes since the last cycle reach AWS now: judy's disable, kate's deletion.
    assert by_name["judy"]["provisioningAction"] == "disable" and idc_user(world, "judy")["UserStatus"] == "DISABLED"
    assert by_name["kate"]["provisioningAction"] == "disable" and idc_user(world, "kate")["UserStatus"] == "DISABLED"
    assert by_name["kate"]["provisioningSteps"][0]["name"] == "EntryImportDelete"
    group = next(e for e in new if e["sourceIdentity"]["displayName"] == "AWS-Engineers")
    assert group["provisioningAction"] == "update"
    assert idc_user(world, "noah")["UserId"] in world.aws.identity_store.members(
        world.aws.identity_store.find_group(display_name="AWS-Engineers"))
    # Drift Entra knows nothing about stays: mia's old name, leo's absence.
    assert "mia" not in by_name and idc_user(world, "mia")["DisplayName"] == "Mia Old"
    assert idc_user(world, "leo") is None
    # The failures are retried; nothing else is touched.
    assert {n for n, e in by_name.items() if e["provisioningStatusInfo"]["status"] == "failure"} == \
        {"dave", "erin", "frank", "hank"}
    again = len(world.graph.provisioning_logs)
    events = len(scim_events(world))
    run_cycle(world, sp, job, at=LATER)
    retried = world.graph.provisioning_logs[again:]
    assert {e["provisioningStatusInfo"]["status"] for e in retried} == {"failure"} and len(retried) == 4
    writes = scim_events(world)[: len(scim_events(world)) - events]  # newest first
    assert all(e.get("errorCode") for e in writes)  # only the refused retries: no successful write
    st = status(world)
    assert st["lastExecution"]["timeBegan"] == "2026-03-01T12:40:00Z" and st["code"] == "Active"


def test_restart_re_evaluates_everything(world):
    sp, job = sp_and_job(world)
    restart_job(world, sp, job)
    run_cycle(world, sp, job, at=NOW)
    assert idc_user(world, "mia")["DisplayName"] == "Mia Tester"  # drift corrected once Entra looks again
    assert idc_user(world, "leo") is not None
    update = [e for e in logs_for(world, "mia") if e["provisioningAction"] == "update"][-1]
    assert {"displayName": "displayName", "oldValue": "Mia Old", "newValue": "Mia Tester"} in \
        update["modifiedProperties"]


def test_user_removed_from_group_is_disabled(world):
    sp, job = sp_and_job(world)
    engineers = next(i for i, g in world.graph.groups.items() if g["displayName"] == "AWS-Engineers")
    world.graph.direct_members[engineers].remove(entra_id(world, "bob"))
    run_cycle(world, sp, job, at=NOW)
    assert idc_user(world, "bob")["UserStatus"] == "DISABLED"
    bob = idc_user(world, "bob")["UserId"]
    group = world.aws.identity_store.find_group(display_name="AWS-Engineers")
    assert bob not in world.aws.identity_store.members(group)


def test_unassigned_group_is_deleted(world):
    sp, job = sp_and_job(world)
    for key, assignment in list(world.graph.app_role_assignments.items()):
        if assignment["principalDisplayName"] == "AWS-Engineers":
            del world.graph.app_role_assignments[key]
    run_cycle(world, sp, job, at=NOW)
    assert world.aws.identity_store.find_group(display_name="AWS-Engineers") is None
    deleted = [e for e in world.graph.provisioning_logs if e["provisioningAction"] == "delete"]
    assert deleted and deleted[-1]["sourceIdentity"]["displayName"] == "AWS-Engineers"
    assert idc_user(world, "bob")["UserStatus"] == "DISABLED"


def test_invalid_token_quarantines_and_writes_nothing(world):
    sp, job = sp_and_job(world)
    secrets = world.graph.sync_secrets[sp]
    next(s for s in secrets if s["key"] == "SecretToken")["value"] = "sbx-scim-revoked"
    engineers = next(i for i, g in world.graph.groups.items() if g["displayName"] == "AWS-Engineers")
    world.graph.direct_members[engineers].append(entra_id(world, "noah"))
    logs_before, events_before = len(world.graph.provisioning_logs), len(scim_events(world))
    run_cycle(world, sp, job, at=NOW)
    st = status(world)
    assert st["code"] == "Quarantine"
    assert st["quarantine"]["reason"] == "EncounteredQuarantineException"
    assert st["quarantine"]["error"]["code"] == "SystemForCrossDomainIdentityManagementCredentialValidationFailure"
    assert "Response Status Code: Unauthorized" in st["quarantine"]["error"]["message"]
    assert st["lastExecution"]["state"] == "Failed" and st["countSuccessiveCompleteFailures"] == 1
    assert len(world.graph.provisioning_logs) == logs_before and len(scim_events(world)) == events_before
    assert idc_user(world, "noah") is None
    run_cycle(world, sp, job, at=LATER)
    assert status(world)["quarantine"]["seriesCount"] == 2 and status(world)["countSuccessiveCompleteFailures"] == 2


def test_paused_job_does_not_run(world):
    sp, job = sp_and_job(world)
    status(world)["code"] = "Paused"
    engineers = next(i for i, g in world.graph.groups.items() if g["displayName"] == "AWS-Engineers")
    world.graph.direct_members[engineers].append(entra_id(world, "noah"))
    before = status(world)["lastExecution"]
    run_cycle(world, sp, job, at=NOW)
    assert idc_user(world, "noah") is None and status(world)["lastExecution"] == before


def test_seeded_quarantine_from_an_expired_token():
    world = world_of(status="Quarantine", quarantine_reason="EncounteredQuarantineException", token_valid=False,
                     successive_failures=3, steady_state_reached=False)
    st = status(world)
    assert st["code"] == "Quarantine" and st["countSuccessiveCompleteFailures"] == 3
    assert st["quarantine"]["reason"] == "EncounteredQuarantineException" and st["quarantine"]["seriesCount"] == 3
    assert st["steadyStateFirstAchievedTime"] == "0001-01-01T00:00:00Z"
    assert st["lastExecution"]["state"] == "Failed"
    assert idc_user(world, "alice") is not None  # provisioned while the token was good
    assert idc_user(world, "ivan")["UserStatus"] == "ENABLED"  # the disable was never delivered


def test_sync_all_scope():
    world = world_of(scope="all")
    assert idc_user(world, "carol") is not None and idc_user(world, "noah") is not None
    store = world.aws.identity_store
    nested, engineers = store.find_group(display_name="Nested"), store.find_group(display_name="AWS-Engineers")
    assert nested is not None
    assert nested not in store.members(engineers)  # the nested group is provisioned, not made a member
    assert store.members(nested) == [idc_user(world, "carol")["UserId"]]


def test_not_configured_or_no_initial_sync_seeds_nothing():
    world = world_of(initial_sync=False)
    assert world.aws.identity_store.find_user(user_name=f"alice@{DOMAIN}") is None
    assert world.graph.provisioning_logs == []


# --------------------------------------------------------------------------------------------- credentials


def test_check_credentials(world):
    endpoint, token = derived.scim_endpoint(world.scenario), derived.scim_token(world.scenario)
    assert check_credentials(world, endpoint, token) is None
    assert check_credentials(world, endpoint + "/", token) is None
    dual_stack = endpoint.replace(".amazonaws.com", ".api.aws")
    assert check_credentials(world, dual_stack, token) is None
    refused = check_credentials(world, endpoint, "sbx-scim-wrong")
    assert refused.startswith("While attempting to validate our authorization to access your application, we "
                              "received this unexpected response:")
    assert "Response Status Code: Unauthorized" in refused and '"status":"401"' in refused
    wrong_tenant = endpoint.replace("/scim/v2", "").rsplit("/", 1)[0] + "/not-my-tenant/scim/v2"
    assert "Unauthorized" in check_credentials(world, wrong_tenant, token)
    assert "unable to reach" in check_credentials(world, "https://scim.example.com/x/scim/v2", token)


# --------------------------------------------------------------------------------------------- on demand


def demand(world, name: str, kind: str = "User", rule: str | None = None) -> dict:
    sp, job = sp_and_job(world)
    if rule is None:
        rule = world.graph.sync_schemas[job]["synchronizationRules"][0]["id"]
    object_id = entra_id(world, name) if kind == "User" else name
    body = {"parameters": [{"ruleId": rule, "subjects": [{"objectId": object_id, "objectTypeName": kind}]}]}
    return provision_on_demand(world, sp, job, body, at=NOW)


def test_on_demand_provisions_a_new_member(world):
    engineers = next(i for i, g in world.graph.groups.items() if g["displayName"] == "AWS-Engineers")
    world.graph.direct_members[engineers].append(entra_id(world, "noah"))
    result = demand(world, "noah")
    key, value = json.loads(result["key"]), json.loads(result["value"])
    assert key == {"result": "Success", "details": {}}
    assert value["action"] == "Create" and value["reportableIdentifier"] == f"noah@{DOMAIN}"
    assert [s["type"] for s in value["provisioningSteps"]] == ["Import", "Scoping", "Matching", "Export"]
    assert idc_user(world, "noah") is not None
    entry = logs_for(world, "noah")[-1]
    assert entry["initiatedBy"]["initiatorType"] == "user" and entry["provisioningAction"] == "create"


def test_on_demand_skips(world):
    same = json.loads(demand(world, "alice")["key"])
    assert same == {"result": "Skipped", "details": {
        "errorCode": "RedundantExport",
        "errorMessage": "The state of the user in both the source and target systems already match."}}
    out = json.loads(demand(world, "noah")["key"])
    assert out["result"] == "Skipped" and out["details"]["errorCode"] == "NotEffectivelyEntitled"


def test_on_demand_failure_carries_the_error(world):
    key = json.loads(demand(world, "dave")["key"])
    assert key["result"] == "Failure"
    assert key["details"]["errorCode"] == "SystemForCrossDomainIdentityManagementBadRequest"
    assert "name.givenName" in key["details"]["errorMessage"]


def test_on_demand_group(world):
    engineers = next(i for i, g in world.graph.groups.items() if g["displayName"] == "AWS-Engineers")
    value = json.loads(demand(world, engineers, kind="Group")["value"])
    assert value["sourceIdentity"]["type"] == "Group"


def test_on_demand_refusals(world):
    with pytest.raises(OnDemandError) as bad_rule:
        demand(world, "alice", rule="not-a-rule")
    assert bad_rule.value.status == 400
    sp, job = sp_and_job(world)
    with pytest.raises(OnDemandError) as unknown:
        provision_on_demand(world, sp, job, {"parameters": [{"ruleId": None, "subjects": [
            {"objectId": "00000000-0000-0000-0000-000000000001", "objectTypeName": "User"}]}]})
    assert unknown.value.status in (400, 404)
    with pytest.raises(OnDemandError):
        provision_on_demand(world, sp, job, {"parameters": []})


def test_on_demand_with_a_revoked_token(world):
    sp, _ = sp_and_job(world)
    next(s for s in world.graph.sync_secrets[sp] if s["key"] == "SecretToken")["value"] = "sbx-scim-revoked"
    key = json.loads(demand(world, "alice")["key"])
    assert key["result"] == "Failure"
    assert key["details"]["errorCode"] == "SystemForCrossDomainIdentityManagementCredentialValidationFailure"


def test_renamed_upn_follows_the_anchor(world):
    sp, job = sp_and_job(world)
    before = idc_user(world, "alice")["UserId"]
    alice = entra_id(world, "alice")
    world.graph.users[alice]["userPrincipalName"] = f"alice.cooper@{DOMAIN}"
    run_cycle(world, sp, job, at=NOW)
    renamed = world.aws.identity_store.user(before)
    assert renamed["UserName"] == f"alice.cooper@{DOMAIN}"  # same Identity Center user, new user name
    update = [e for e in world.graph.provisioning_logs
              if e["sourceIdentity"]["id"] == alice and e["provisioningAction"] == "update"][-1]
    assert {"displayName": "userName", "oldValue": f"alice@{DOMAIN}", "newValue": f"alice.cooper@{DOMAIN}"} in \
        update["modifiedProperties"]
    assert any(e["eventName"] == "PatchUser" and not e.get("errorCode") for e in scim_events(world, NOW))


def test_hard_deleted_user_is_deleted(world):
    sp, job = sp_and_job(world)
    bob = entra_id(world, "bob")
    idc_bob = idc_user(world, "bob")["UserId"]
    del world.graph.users[bob]
    for members in world.graph.direct_members.values():
        if bob in members:
            members.remove(bob)
    run_cycle(world, sp, job, at=NOW)
    assert idc_user(world, "bob") is None
    entry = [e for e in world.graph.provisioning_logs if e["sourceIdentity"]["id"] == bob][-1]
    assert entry["provisioningAction"] == "delete" and entry["targetIdentity"]["id"] == idc_bob
    assert any(e["eventName"] == "DeleteUser" for e in scim_events(world, NOW))


# --------------------------------------------------------------------------------------------- issue 17


@pytest.mark.parametrize("settings", [{"flow_types": {"User": "Add, Update"}}, {"removed_mappings": ["active"]}])
def test_without_delete_or_active_leavers_stay_enabled(settings):
    """Delete unticked in the User mapping's target actions, or `active` no longer mapped: the cycle disables
    nobody (the disabled user and the one who leaves the group both stay enabled), as in Entra."""
    world = world_of(**settings)
    assert idc_user(world, "ivan")["UserStatus"] == "ENABLED"
    assert not [e for e in logs_for(world, "ivan") if e["provisioningAction"] == "disable"]
    sp, job = sp_and_job(world)
    engineers = next(i for i, g in world.graph.groups.items() if g["displayName"] == "AWS-Engineers")
    world.graph.direct_members[engineers].remove(entra_id(world, "bob"))
    run_cycle(world, sp, job, at=NOW)
    assert idc_user(world, "bob")["UserStatus"] == "ENABLED"
    schema = world.graph.sync_schemas[job]["synchronizationRules"][0]["objectMappings"][0]
    targets = [m["targetAttributeName"] for m in schema["attributeMappings"]]
    assert schema["flowTypes"] == settings.get("flow_types", {}).get("User", "Add, Update, Delete")
    assert ("active" in targets) == ("removed_mappings" not in settings)


def test_without_update_changes_stop_reaching_identity_center():
    world = world_of(flow_types={"User": "Add, Delete"})
    assert idc_user(world, "mia")["DisplayName"] == "Mia Old"  # the rename is not sent
    assert idc_user(world, "alice") is not None                # creating still works


def test_deletion_settings_are_kept_with_the_credentials():
    world = world_of(accidental_deletion_threshold=None, skip_out_of_scope_deletions=True)
    secrets = {s["key"]: s["value"] for s in world.graph.sync_secrets[world.graph.aws_sp_id]}
    notify = json.loads(secrets["SyncNotificationSettings"])
    assert notify["DeleteThresholdEnabled"] is False and secrets["SkipOutOfScopeDeletions"] == "True"
    default = {s["key"]: s["value"] for s in world_of().graph.sync_secrets[world_of().graph.aws_sp_id]}
    assert json.loads(default["SyncNotificationSettings"])["DeleteThresholdValue"] == 500
    assert "SkipOutOfScopeDeletions" not in default
