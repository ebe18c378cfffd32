"""`idbridge collect --record` and `idbridge sandbox up --replay` on the demo, with the real msgraph-sdk and boto3.

One collection of the demo sandbox is recorded twice from the same answers: without pseudonymisation (the replay
must give back exactly the snapshot the sandbox gave) and with it (the replay must give back that snapshot with
every personal value replaced the way the recording replaced it, which the test can compute because it chose the
recording's key). The command line records the same sandbox again with a random key, as a consultant would, and
serves that recording with `sandbox up --replay`: neither recording may hold a secret or a real name.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from datetime import datetime, timezone

import numpy as np
import pytest
import yaml
from support.sandbox import forget_sandbox, running_sandbox, sandbox_parameters

from idbridge.clients.graph.adapter import SandboxCredential
from idbridge.clients.recording.recorder import Recorder
from idbridge.collect.run import collect
from idbridge.core.parameters import Parameters
from idbridge.core.secrets import resolve
from idbridge.sandbox import derived
from idbridge.sandbox.replay import ReplaySandbox
from idbridge.snapshot.schema import SOURCES
from idbridge.snapshot.store import Snapshot

pytestmark = pytest.mark.integration
IDBRIDGE = [sys.executable, "-m", "idbridge.cli"]
NOW = datetime.now(timezone.utc).replace(microsecond=0)
KEY = b"test-only key: the command line draws a random one"
TABLES = [table for source in SOURCES for table in source.tables]


def cli(*args, cwd, timeout=600):
    return subprocess.run([*IDBRIDGE, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """The demo collected once with a recorder (saved raw and pseudonymised) and once through the command line."""
    tmp = tmp_path_factory.mktemp("recorded")
    box = running_sandbox("demo", now=NOW)
    try:
        params = sandbox_parameters(box)
        recorder = Recorder(params, key=KEY)
        original = Snapshot(collect(params, tmp / "original", now=NOW, recorder=recorder))
        raw = recorder.save(tmp / "raw", pseudonymise=False)
        pseudonymised = recorder.save(tmp / "pseudonymised")
        # What a consultant runs: the parameters file `sandbox up` writes, `collect --record`.
        params_file = box.write_parameters(tmp / "parameters.yaml")
        result = cli("collect", "-p", str(params_file), "--out", str(tmp / "cli-snapshot"), "--record",
                     str(tmp / "cli-recording"), cwd=tmp)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"Recording: {tmp / 'cli-recording'}" in result.stdout
        # A token the sandbox hands out, to look for in the recordings.
        token = SandboxCredential(box.endpoints.token_url, box.endpoints.client_id).get_token().token
        keys = [key.private_key_pem for keys in box.world.graph.signing_keys.values() for key in keys]
    finally:
        box.stop()
        forget_sandbox()
    return {"tmp": tmp, "original": original, "raw": raw, "pseudonymised": pseudonymised,
            "cli": tmp / "cli-recording", "pseudonymiser": recorder.pseudonymiser, "token": token,
            "scenario": box.scenario, "private_keys": keys}


def replayed(folder, out):
    with ReplaySandbox(folder) as box:
        snapshot = Snapshot(collect(Parameters.model_validate(box.parameters()), out))
        assert box.missed == [], f"asked of the replay, not in the recording: {box.missed[:3]}"
    return snapshot


def plain(value):
    """A cell as plain Python (parquet gives lists back as arrays), NaN as None."""
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    return value.item() if isinstance(value, np.generic) else value


def rows(snapshot: Snapshot, table: str, mapping=lambda v: v) -> list[dict]:
    frame = snapshot.table(table)
    return [{column: mapping(plain(value)) for column, value in row.items()}
            for row in frame.to_dict("records")]


def same_collection(a: Snapshot, b: Snapshot) -> None:
    assert {n: (r["status"], r["error"], r["rows"]) for n, r in a.sources.items()} == \
        {n: (r["status"], r["error"], r["rows"]) for n, r in b.sources.items()}
    assert a.manifest["api_calls"] == b.manifest["api_calls"]


def test_replay_of_a_recording_gives_the_identical_snapshot(recorded, tmp_path):
    original = recorded["original"]
    assert all(r["status"] == "complete" for r in original.sources.values())
    again = replayed(recorded["raw"], tmp_path / "again")
    same_collection(original, again)
    for table in TABLES:
        assert rows(again, table) == rows(original, table), table


def test_replay_of_a_pseudonymised_recording_gives_the_snapshot_pseudonymised(recorded, tmp_path):
    original, pseudo = recorded["original"], recorded["pseudonymiser"]
    again = replayed(recorded["pseudonymised"], tmp_path / "again")
    same_collection(original, again)
    for table in TABLES:
        assert rows(again, table) == rows(original, table, pseudo.apply), table
    # It did replace people (the comparison above would also hold for a pseudonymiser that does nothing) ...
    users = {r["id"]: r for r in rows(original, "entra_users")}
    replaced = {r["id"]: r for r in rows(again, "entra_users")}
    assert all(replaced[i]["userPrincipalName"] != u["userPrincipalName"] for i, u in users.items())
    assert all(replaced[i]["displayName"] != u["displayName"] for i, u in users.items())
    # ... and the same person has the same pseudonym on both sides: Identity Center's user name is the Entra UPN.
    idc = {tuple(r["externalIds"])[0]: r for r in rows(again, "idc_users") if r["externalIds"]}
    before = {r["userId"]: r for r in rows(original, "idc_users")}
    same_name = [(replaced[i], idc[i]) for i in idc if i in replaced
                 and users[i]["userPrincipalName"].lower() == before[idc[i]["userId"]]["userName"].lower()]
    assert len(same_name) > 20
    assert all(u["userPrincipalName"].lower() == i["userName"].lower() for u, i in same_name)
    same_display = [(replaced[i], idc[i]) for i in idc if i in replaced
                    and users[i]["displayName"] == before[idc[i]["userId"]]["displayName"]]
    assert len(same_display) > 20
    assert all(u["displayName"] == i["displayName"] for u, i in same_display)
    # Where the two sides differ (planted drift), the pseudonyms differ too: the checks still see the drift.
    drift = [i for i in idc if i in replaced
             and users[i]["userPrincipalName"].lower() != before[idc[i]["userId"]]["userName"].lower()]
    assert drift and all(replaced[i]["userPrincipalName"].lower() != idc[i]["userName"].lower() for i in drift)
    # Sign-ins of Entra and CloudTrail still meet on the pseudonymised UPN.
    entra_upns = {r["userPrincipalName"].lower() for r in rows(again, "entra_sign_ins") if r["userPrincipalName"]}
    trail_names = {r["userName"].lower() for r in rows(again, "cloudtrail_events") if r["userName"]}
    assert entra_upns & trail_names


def recording_text(folder) -> str:
    return "".join(path.read_text(encoding="utf-8") for path in sorted(folder.iterdir()))


def leaks(text: str, scenario) -> list[str]:
    """Real names, addresses, phone numbers, ids of people and IP addresses of the scenario found in `text`."""
    lowered = text.lower()
    words = set(re.findall(r"[\w-]+", text))  # a name as a word of its own: the surname Kim is not in "Kimball"
    addresses = set(re.findall(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d])", text))
    found = []
    for user in scenario.entra.users:
        for value in (user.upn, user.mail, user.display_name, user.employee_id, user.street_address,
                      user.mobile_phone, *(user.business_phones or [])):
            if value and value.lower() in lowered:
                found.append(value)
        idc = user.idc
        for value in (user.given_name, user.surname, *((idc.given_name, idc.family_name) if idc else ())):
            if value and (value in words if re.fullmatch(r"[\w-]+", value) else value in text):
                found.append(value)
        for value in (idc.user_name, idc.display_name, idc.email) if idc else ():
            if value and value.lower() in lowered:
                found.append(value)
    for user in scenario.aws.identity_center.users:  # made by hand in Identity Center (names are common words)
        found += [v for v in (user.user_name, user.display_name, user.email) if v and v.lower() in lowered]
    found += [d for d in (scenario.tenant.default_domain, *scenario.tenant.domains) if d.lower() in lowered]
    ips = {e.ip for e in [*scenario.entra.sign_ins, *scenario.aws.sign_ins, *scenario.aws.cloudtrail]}
    found += sorted(ips & addresses)
    return sorted(set(found))


def test_a_recording_holds_no_real_name_and_no_secret(recorded):
    scenario = recorded["scenario"]
    # The test can fail: the raw recording holds them all.
    raw = recording_text(recorded["raw"])
    assert len(leaks(raw, scenario)) > 100
    secrets = [derived.scim_token(scenario), resolve("sandbox:review-signing-key"), recorded["token"],
               recorded["token"].split(".")[2]]
    assert recorded["private_keys"]
    secrets += [line.decode() for key in recorded["private_keys"] for line in key.splitlines()[1:-1]]
    for folder in (recorded["pseudonymised"], recorded["cli"]):
        text = recording_text(folder)
        assert leaks(text, scenario) == [], folder
        assert [s for s in secrets if s in text] == [], folder
        for shape in ("Bearer ", "AWS4-HMAC-SHA256", "Signature=", "PRIVATE KEY", "client_secret"):
            assert shape not in text, (folder, shape)
        assert not re.search(r"eyJ[\w-]+\.eyJ[\w-]+\.", text), folder  # no JWT (a page token may start eyJ)
        manifest = json.loads((folder / "recording.json").read_text())
        assert manifest["pseudonymised"] is True


def test_the_command_line_serves_a_recording(recorded, tmp_path):
    params_out = tmp_path / "replay.yaml"
    server = subprocess.Popen([*IDBRIDGE, "sandbox", "up", "--replay", str(recorded["cli"]), "--graph-port", "0",
                               "--aws-port", "0", "--params-out", str(params_out)], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not params_out.exists() and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.2)
        assert params_out.exists(), server.communicate(timeout=5) if server.poll() is not None else "no parameters"
        document = yaml.safe_load(params_out.read_text())
        assert document["sandbox"] is True and document["aws"]["credentials"] == "sandbox"
        result = cli("collect", "-p", str(params_out), "--out", str(tmp_path / "snapshot"), cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        cli_snapshot = Snapshot(recorded["tmp"] / "cli-snapshot")
        again = Snapshot(tmp_path / "snapshot")
        same_collection(Snapshot(recorded["tmp"] / "original"), again)
        assert len(again.table("entra_users")) == len(cli_snapshot.table("entra_users"))
        upns = set(again.table("entra_users")["userPrincipalName"])
        assert not upns & set(cli_snapshot.table("entra_users")["userPrincipalName"])  # pseudonyms, not names
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_request_not_in_the_recording_is_answered_as_such(recorded):
    import boto3
    from botocore.exceptions import ClientError

    from idbridge.clients.graph.adapter import make_request_adapter
    from idbridge.clients.graph.raw import get_json, odata_error_code
    from idbridge.collect.run import run_coroutine
    from idbridge.core.parameters import SANDBOX_AWS_ACCESS_KEY_ID, SANDBOX_AWS_SECRET_ACCESS_KEY

    with ReplaySandbox(recorded["pseudonymised"]) as box:
        ep = box.endpoints
        adapter = make_request_adapter(SandboxCredential(ep.token_url, ep.client_id), ep.graph_base_url)
        with pytest.raises(Exception) as caught:
            run_coroutine(get_json(adapter, "/users/00000000-0000-0000-0000-000000000000"))
        status, code, message = odata_error_code(caught.value)
        assert (status, code) == (400, "BadRequest") and "not in the recording" in message
        sso = boto3.client("sso-admin", region_name=ep.region, endpoint_url=ep.aws_endpoint_url,
                           aws_access_key_id=SANDBOX_AWS_ACCESS_KEY_ID,
                           aws_secret_access_key=SANDBOX_AWS_SECRET_ACCESS_KEY)
        with pytest.raises(ClientError) as refused:
            sso.list_instances(MaxResults=7)
        assert refused.value.response["Error"]["Code"] == "ValidationException"
        assert "not in the recording" in refused.value.response["Error"]["Message"]
        assert sso.list_instances(MaxResults=100)["Instances"]  # what the collection asked is served
        # Unsigned or wrongly signed requests are refused as by the sandbox itself.
        stranger = boto3.client("sso-admin", region_name=ep.region, endpoint_url=ep.aws_endpoint_url,
                                aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x" * 40)
        with pytest.raises(ClientError) as unknown:
            stranger.list_instances(MaxResults=100)
        assert unknown.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_bad_recording_folders_exit_2(recorded, tmp_path):
    result = cli("sandbox", "up", "--replay", str(tmp_path / "missing"), cwd=tmp_path, timeout=120)
    assert result.returncode == 2 and "missing: no such folder" in result.stderr
    (tmp_path / "empty").mkdir()
    result = cli("sandbox", "up", "--replay", str(tmp_path / "empty"), cwd=tmp_path, timeout=120)
    assert result.returncode == 2 and "not a recording: no recording.json" in result.stderr
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in recorded["pseudonymised"].iterdir():
        (broken / path.name).write_bytes(path.read_bytes())
    with (broken / "aws.jsonl").open("a") as handle:
        handle.write('{"seq": 1, "service": "sso-admin"\n')
    result = cli("sandbox", "up", "--replay", str(broken), cwd=tmp_path, timeout=120)
    lines = sum(1 for _ in (broken / "aws.jsonl").open())
    assert result.returncode == 2 and f"aws.jsonl: line {lines}: not JSON" in result.stderr
    result = cli("sandbox", "up", "--replay", str(broken), "--faults", "aws_throttle=on", cwd=tmp_path, timeout=120)
    assert result.returncode == 2 and "cannot be combined with --replay" in result.stderr
    existing = tmp_path / "existing"
    existing.mkdir()
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump({"engagement": "x", "graph": {"tenant_id": recorded["original"].manifest[
        "tenant_id"]}}))
    result = cli("collect", "-p", str(params), "--record", str(existing), cwd=tmp_path, timeout=120)
    assert result.returncode == 2 and "existing: already exists" in result.stderr
    assert list(existing.iterdir()) == []
