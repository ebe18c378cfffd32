"""The server's fault middleware: AWS-shaped throttling and access denial, latency, and per-operation counts."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from idbridge.sandbox.aws.middleware import SlidingWindows, TokenBuckets, throttle_key
from idbridge.sandbox.aws.server import start_moto_server
from idbridge.sandbox.aws.testkit import NO_RETRIES, build_aws_world, client, small_scenario
from idbridge.sandbox.faults import FaultConfig, parse_fault_spec


@pytest.fixture
def world():
    return build_aws_world(small_scenario())


@pytest.fixture
def handle(world):
    server = start_moto_server(world)
    yield server
    server.stop()


def _burst(call, n: int, threads: int = 1) -> list[Exception | None]:
    def one(_):
        try:
            call()
            return None
        except ClientError as exc:
            return exc

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(n)))


def test_sso_admin_burst_is_throttled_like_aws(world, handle):
    world.faults = FaultConfig(aws_throttle=True)
    sso = client(handle, "sso-admin", "eu-west-1", NO_RETRIES)
    errors = [e for e in _burst(sso.list_instances, 60, threads=4) if e is not None]
    assert errors, "60 calls from 4 threads in well under 3 s must exceed 20 TPS"
    error = errors[0]
    assert error.response["Error"]["Code"] == "ThrottlingException"
    assert error.response["Error"]["Message"] == "Rate exceeded"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error.response["ResponseMetadata"]["RetryAttempts"] == 0
    assert handle.refused["sso-admin:ListInstances:ThrottlingException"] == len(errors)


def test_sso_admin_limit_is_collective(world, handle):
    # A slow bucket (3 calls, then 1 per minute) so the outcome does not depend on how fast this machine is.
    handle.middleware.buckets = TokenBuckets(rate=1 / 60, burst=3)
    world.faults = FaultConfig(aws_throttle=True)
    sso = client(handle, "sso-admin", "eu-west-1", NO_RETRIES)
    for _ in range(3):
        sso.list_instances()
    with pytest.raises(ClientError, match="ThrottlingException"):
        sso.list_permission_sets(InstanceArn=world.aws.instance_arn)  # another API, the same budget
    assert throttle_key("sso-admin", "ListInstances") == throttle_key("sso-admin", "CreateAccountAssignment")
    assert throttle_key("identitystore", "ListUsers") != throttle_key("identitystore", "ListGroups")


def test_identitystore_limit_is_per_api(world, handle):
    world.faults = FaultConfig(aws_throttle=True)
    ids = client(handle, "identitystore", "eu-west-1", NO_RETRIES)
    sid = world.aws.identity_store_id
    results = _burst(lambda: ids.list_users(IdentityStoreId=sid), 60, threads=4)
    assert any(e is not None and e.response["Error"]["Code"] == "ThrottlingException" for e in results)
    ids.list_groups(IdentityStoreId=sid)  # another API has its own budget
    client(handle, "sso-admin", "eu-west-1", NO_RETRIES).list_instances()  # and so has sso-admin


def test_with_standard_retries_a_burst_eventually_succeeds(world, handle):
    world.faults = FaultConfig(aws_throttle=True)
    sso = client(handle, "sso-admin", "eu-west-1", Config(retries={"mode": "standard", "max_attempts": 10}))
    results = _burst(sso.list_instances, 30, threads=6)
    assert results == [None] * 30
    assert handle.refused["sso-admin:ListInstances:ThrottlingException"] > 0  # some were retried


@pytest.mark.parametrize("source,service,region,call,action", [
    ("sso-admin", "sso-admin", "eu-west-1", lambda c, w: c.list_instances(), "sso:ListInstances"),
    ("identitystore", "identitystore", "eu-west-1",
     lambda c, w: c.list_users(IdentityStoreId=w.aws.identity_store_id), "identitystore:ListUsers"),
    ("organizations", "organizations", "us-east-1", lambda c, w: c.list_accounts(), "organizations:ListAccounts"),
    ("cloudtrail", "cloudtrail", "eu-west-1", lambda c, w: c.lookup_events(), "cloudtrail:LookupEvents"),
])
def test_denied_sources_answer_access_denied(world, handle, source, service, region, call, action):
    world.faults = FaultConfig(deny=[source])
    with pytest.raises(ClientError) as caught:
        call(client(handle, service, region, NO_RETRIES), world)
    error = caught.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"].startswith("User: arn:aws:sts::")
    assert f"is not authorized to perform: {action}" in error["Message"]
    others = {"sso-admin": lambda: client(handle, "organizations", "us-east-1").list_roots(),
              "identitystore": lambda: client(handle, "sso-admin", "eu-west-1").list_instances(),
              "organizations": lambda: client(handle, "sso-admin", "eu-west-1").list_instances(),
              "cloudtrail": lambda: client(handle, "sso-admin", "eu-west-1").list_instances()}
    others[source]()  # only the named source is denied


def test_latency_is_added_to_every_request(world, handle):
    sso = client(handle, "sso-admin", "eu-west-1")
    sso.list_instances()
    world.faults = FaultConfig(latency_ms=400)
    started = time.perf_counter()
    sso.list_instances()
    slow = time.perf_counter() - started
    assert slow >= 0.4
    world.faults = FaultConfig()  # read per request: switching it off takes effect at once
    started = time.perf_counter()
    sso.list_instances()
    assert time.perf_counter() - started < slow


def test_calls_are_counted_per_operation(world, handle):
    handle.reset_calls()
    sso = client(handle, "sso-admin", "eu-west-1")
    for _ in range(3):
        sso.list_instances()
    client(handle, "identitystore", "eu-west-1").list_users(IdentityStoreId=world.aws.identity_store_id)
    client(handle, "organizations", "us-east-1").list_accounts()
    client(handle, "cloudtrail", "eu-west-1").lookup_events()
    assert handle.calls == {"sso-admin:ListInstances": 3, "identitystore:ListUsers": 1,
                            "organizations:ListAccounts": 1, "cloudtrail:LookupEvents": 1}
    assert handle.endpoint_url == f"http://127.0.0.1:{handle.port}" and handle.port > 0


def test_a_fault_config_alone_and_werkzeug_kept_quiet():
    build_aws_world(small_scenario())
    with start_moto_server(FaultConfig(deny=["organizations"])) as handle:
        assert logging.getLogger("werkzeug").level == logging.ERROR
        # without a world, requests go to the latest seeding's accounts
        assert client(handle, "sso-admin", "eu-west-1").list_instances()["Instances"][0]["OwnerAccountId"] == \
            "111111111111"
        with pytest.raises(ClientError, match="AccessDeniedException"):
            client(handle, "organizations", "us-east-1", NO_RETRIES).list_accounts()


def test_strict_window_limiter_counts_any_one_second(world, handle):
    world.faults = parse_fault_spec("aws_throttle=on,limiter=window")
    assert world.faults.aws_limiter == "window"
    sso = client(handle, "sso-admin", "eu-west-1", NO_RETRIES)
    errors = [e for e in _burst(sso.list_instances, 40, threads=4) if e is not None]
    assert errors and errors[0].response["Error"]["Code"] == "ThrottlingException"
    assert handle.refused["sso-admin:ListInstances:ThrottlingException"] == len(errors)


def test_window_is_stricter_than_the_bucket_after_an_idle_spell():
    window, bucket = SlidingWindows(limit=4, window_s=0.4), TokenBuckets(rate=10, burst=4)
    # A full burst, then the bucket's refill: the bucket lets more through inside the same 0.4 s, the window not.
    assert all(window.allow("k") for _ in range(4)) and all(bucket.allow("k") for _ in range(4))
    assert not window.allow("k") and not bucket.allow("k")  # refused requests do not count
    time.sleep(0.25)
    assert bucket.allow("k") and not window.allow("k")
    time.sleep(0.2)  # the first four have left the window
    assert all(window.allow("k") for _ in range(4)) and not window.allow("k")
