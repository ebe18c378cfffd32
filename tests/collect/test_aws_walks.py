"""The two complete walks of account assignments (collect/aws/walks.py) against the sandbox: on random generated
organisations the pair-walk and the principal-walk give the same table, the automatic choice takes the cheaper
estimate, and the manifest note records the choice, the estimates and the calls actually spent."""

from __future__ import annotations

import pytest

from support.aws_harness import collect_all, make_context
from support.sandbox import running_sandbox
from idbridge.collect.aws import walks
from idbridge.collect.context import Partial
from idbridge.collect.run import describe_error
from idbridge.sandbox.generate import write_scenario

pytestmark = pytest.mark.integration
SOURCES = ["aws.instances", "aws.identity_store", "aws.permission_sets", "aws.provisioning_status",
           "aws.account_assignments"]


def _walk(box, walk: str):
    box._aws_server.reset_calls()
    ctx = make_context(box, aws={"assignment_walk": walk})
    results = collect_all(ctx, SOURCES)
    failed = {n: describe_error(r) for n, r in results.items() if isinstance(r, Exception)}
    assert not failed
    result = results["aws.account_assignments"]
    note = ctx.notes["aws.account_assignments"]
    # The principal-walk cannot see orphaned assignments: it says so (Partial), the pair-walk is complete.
    assert isinstance(result, Partial) == (note["chosen"] == walks.PRINCIPAL)
    tables = result.tables if isinstance(result, Partial) else result
    if isinstance(result, Partial):
        assert "orphans" in result.error
    return tables["idc_account_assignments"], note, dict(box.aws_calls)


@pytest.mark.parametrize("seed", [3, 29])
def test_both_walks_give_the_same_table_on_random_organisations(tmp_path, seed):
    path = write_scenario(tmp_path / f"org-{seed}.yaml", users=50 + seed, groups=20, accounts=4 + seed % 5,
                          permission_sets=12, seed=seed)
    box = running_sandbox(str(path))
    try:
        # auto is the pair-walk (asserted below): one collection stands for both, the suite's time is dear.
        pair, pair_note, pair_calls = _walk(box, "auto")
        principal, principal_note, principal_calls = _walk(box, walks.PRINCIPAL)
    finally:
        box.stop()
    assert not pair.empty  # a generated organisation always has assignments: the comparison means something
    key = list(pair.columns)
    assert pair.sort_values(key).reset_index(drop=True).equals(principal.sort_values(key).reset_index(drop=True))
    assert (pair_note["chosen"], principal_note["chosen"]) == (walks.PAIR, walks.PRINCIPAL)
    # Each walk spent what it recorded, on its own operation only.
    assert pair_calls.get("sso-admin:ListAccountAssignments") == pair_note["actual_calls"] >= pair_note["pairs"]
    assert "sso-admin:ListAccountAssignmentsForPrincipal" not in pair_calls
    assert principal_calls.get("sso-admin:ListAccountAssignmentsForPrincipal") == principal_note["actual_calls"]
    assert principal_note["actual_calls"] >= principal_note["users"] + principal_note["groups"]
    assert "sso-admin:ListAccountAssignments" not in principal_calls
    estimates = pair_note["estimated_calls"]
    cheaper = min((walks.PAIR, walks.PRINCIPAL), key=lambda w: (estimates[w], w != walks.PAIR))
    assert pair_note["cheaper"] == cheaper and pair_note["principal_walk_allowed"]
    assert "requested" not in pair_note, "auto is what was asked for"


def test_principal_walk_is_refused_to_a_caller_that_does_not_own_the_instance():
    instance = {"ownerAccountId": "111111111111"}
    assert walks.principal_walk_allowed(instance, "111111111111", None)[0]
    allowed, why = walks.principal_walk_allowed(instance, "222222222222", None)
    assert not allowed and "delegated administrator" in why
    allowed, why = walks.principal_walk_allowed({"ownerAccountId": "333333333333"}, "333333333333", "111111111111")
    assert not allowed and "account instance" in why
    assert not walks.principal_walk_allowed(instance, None, None)[0]
    # Not allowed: the pair-walk even when the principal-walk would be cheaper.
    assert walks.choose({walks.PAIR: 500, walks.PRINCIPAL: 100}, allowed=False) == walks.PAIR
    assert walks.choose({walks.PAIR: 500, walks.PRINCIPAL: 100}, allowed=True) == walks.PRINCIPAL
    assert walks.choose({walks.PAIR: 50, walks.PRINCIPAL: 100}, allowed=True) == walks.PAIR
    assert walks.choose({walks.PAIR: 50, walks.PRINCIPAL: None}, allowed=True) == walks.PAIR


def test_a_users_listing_keeps_only_its_own_rows():
    found = [{"PrincipalType": "USER", "PrincipalId": "u"}, {"PrincipalType": "GROUP", "PrincipalId": "g"}]
    assert walks.principal_rows("USER", found) == found[:1]
    assert walks.principal_rows("GROUP", found[1:]) == found[1:]


def test_tags_are_read_only_where_access_can_reach():
    import threading

    import pandas as pd

    from idbridge.collect.aws.collectors import _tagged_accounts
    from idbridge.collect.context import CollectContext
    from idbridge.core.parameters import Parameters

    def ctx(mode: str, provisioning: list[str] | None) -> CollectContext:
        params = Parameters.model_validate({"engagement": "t", "graph": {"tenant_id": "0" * 8 + "-0000-0000-0000-"
                                                                         + "0" * 12, "client_id": "0" * 8
                                                                         + "-0000-0000-0000-" + "0" * 12},
                                            "aws": {"account_tags": mode}})
        done = threading.Event()
        done.set()
        c = CollectContext(params=params, window_start=None, window_end=None,
                           finished={"aws.provisioning_status": done})
        if provisioning is not None:
            c.results["aws.provisioning_status"] = {"idc_permission_set_provisioning": pd.DataFrame(
                {"accountId": provisioning, "permissionSetArn": ["ps"] * len(provisioning)})}
        return c

    accounts = ["1", "2", "3"]
    assert _tagged_accounts(ctx("assigned", ["2", "2", "9"]), accounts)[0] == ["2"]
    wanted, why = _tagged_accounts(ctx("assigned", None), accounts)
    assert wanted == accounts and "not collected" in why
    assert _tagged_accounts(ctx("all", ["2"]), accounts)[0] == accounts
    assert _tagged_accounts(ctx("none", ["2"]), accounts)[0] == []
