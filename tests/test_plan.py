import json

from idbridge.core.secrets import Secret
from idbridge.plan import Change, Plan, apply_plan


def test_dry_run_writes_nothing_and_removals_need_permission(tmp_path):
    written = []
    plan = Plan("step", [Change("create", "thing", "a", "create a", after={"token": Secret("s3cr3t")}),
                         Change("delete", "thing", "b", "delete b", before={"x": 1})])
    appliers = {"thing": lambda change: written.append(change.key) or {"id": change.key}}
    log = tmp_path / "changes.jsonl"

    outcomes = apply_plan(plan, appliers, apply=False, allow_removals=True, change_log=log)
    assert [o.status for o in outcomes] == ["planned", "planned"] and not written and not log.exists()

    outcomes = apply_plan(plan, appliers, apply=True, allow_removals=False, change_log=log)
    assert [o.status for o in outcomes] == ["applied", "blocked"] and written == ["a"]
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert entries[0]["key"] == "a" and entries[0]["after"] == {"token": "***"}
    assert "s3cr3t" not in log.read_text() and "s3cr3t" not in plan.frame().to_csv()


def test_a_failure_stops_the_step_and_is_logged(tmp_path):
    def boom(change):
        raise RuntimeError("denied")

    plan = Plan("step", [Change("create", "bad", "x", "x"), Change("create", "bad", "y", "y")])
    outcomes = apply_plan(plan, {"bad": boom}, apply=True, allow_removals=False, change_log=tmp_path / "log")
    assert [o.status for o in outcomes] == ["failed"]
    assert json.loads((tmp_path / "log").read_text())["status"] == "failed"


def test_already_done_and_refused_settle_one_change_and_the_step_goes_on(tmp_path):
    import asyncio

    from idbridge.plan import AlreadyDone, Change, Plan, Refused, apply_plan_async

    plan = Plan("review-removals", [Change("delete", "k", key, key) for key in ("gone", "changed", "present")])
    written: list[str] = []

    def check(change):
        if change.key == "gone":
            raise AlreadyDone("already gone: removed by hand")

    def write(change):
        if change.key == "changed":
            raise Refused("the group now also grants account 1 / Admin")
        written.append(change.key)

    log = tmp_path / "changes.jsonl"
    dry = asyncio.run(apply_plan_async(plan, {"k": write}, apply=False, allow_removals=True, change_log=log,
                                       checks={"k": check}))
    assert [o.status for o in dry] == ["done", "planned", "planned"] and not written and not log.exists()
    done = asyncio.run(apply_plan_async(plan, {"k": write}, apply=True, allow_removals=True, change_log=log,
                                        checks={"k": check}))
    assert [(o.status, o.detail) for o in done] == [("done", "already gone: removed by hand"),
                                                    ("refused", "the group now also grants account 1 / Admin"),
                                                    ("applied", "")]
    assert written == ["present"]
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["key"], e["status"]) for e in entries] == [("gone", "already done"), ("changed", "refused"),
                                                          ("present", "applied")]
