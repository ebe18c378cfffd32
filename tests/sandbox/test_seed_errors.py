"""`sandbox lint` applies every rule `sandbox up` applies: a scenario that parses but cannot be seeded (a group
Identity Center refuses, assigned to accounts) fails both with exit 2 and the same message, naming the file, the
line and the key. Seeding resets this process's moto backends, so no test here keeps a sandbox running."""

from __future__ import annotations

from pathlib import Path

import pytest

from idbridge.cli import main
from idbridge.errors import EXIT_BAD_INPUT, InputError
from idbridge.sandbox.server import Sandbox
from idbridge.sandbox.world import lint_scenario

ROOT = Path(__file__).resolve().parents[2]

# ':' is one of the characters Identity Center's SCIM endpoint refuses in a display name; the group is assigned to
# the AWS app (so provisioning tries it) and to an account (so seeding needs it in Identity Center).
FORBIDDEN_GROUP = """\
scenario: forbidden-character
tenant: {id: 0c1d2e3f-1111-4222-8333-944455556666, display_name: Contoso, default_domain: contoso.onmicrosoft.com}
entra:
  users:
    - {upn: alice@contoso.com, given_name: Alice, surname: Archer, display_name: Alice Archer}
  groups:
    - {display_name: "AWS: Admins", members: [alice@contoso.com]}
  aws_app:
    assignments: {groups: ["AWS: Admins"]}
    provisioning: {token_created: now-30d}
aws:
  management_account: "111111111111"
  accounts:
    - {id: "111111111111", name: Management}
  permission_sets:
    - {name: ReadOnly, managed_policies: ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}
  account_assignments:
    - permission_set: ReadOnly
      accounts: [Management]
      group: "AWS: Admins"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _line(text: str, fragment: str, after: int = 0) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if n > after and fragment in line)


def _cli(capsys, *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    return exit_info.value.code, capsys.readouterr().err


def _up_error(path: Path) -> str:
    box = Sandbox.from_file(path, graph_port=0, aws_port=0)
    try:
        with pytest.raises(InputError) as info:
            box.start()
    finally:
        box.stop()
    return str(info.value)


def test_lint_refuses_what_up_refuses_with_the_same_message_naming_file_line_and_key(tmp_path, capsys):
    path = _write(tmp_path, FORBIDDEN_GROUP)
    line = _line(FORBIDDEN_GROUP, 'group: "AWS: Admins"', after=_line(FORBIDDEN_GROUP, "account_assignments"))
    expected = (f"{path}: line {line}, aws.account_assignments[0].group: group 'AWS: Admins' is not in Identity "
                f"Center (never provisioned; provisioning was refused: 1 validation errors detected: Value at "
                f"'displayName' failed to satisfy constraint")

    code, lint_err = _cli(capsys, "sandbox", "lint", str(path))
    assert code == EXIT_BAD_INPUT
    assert lint_err.startswith(f"error: {expected}"), lint_err

    assert _up_error(path).startswith(expected)
    code, up_err = _cli(capsys, "sandbox", "up", "--scenario", str(path), "--graph-port", "0", "--aws-port", "0",
                        "--params-out", str(tmp_path / "parameters.yaml"))
    assert code == EXIT_BAD_INPUT
    assert up_err == lint_err, "sandbox up and sandbox lint say the same"
    assert not (tmp_path / "parameters.yaml").exists()


def test_an_identity_center_user_the_store_refuses_is_named_by_line(tmp_path, capsys):
    text = FORBIDDEN_GROUP.replace('"AWS: Admins"', "AWS-Admins") + (
        "  identity_center:\n"
        "    users:\n"
        "      - {user_name: breakglass, display_name: Break Glass, given_name: '', family_name: Glass}\n")
    path = _write(tmp_path, text)
    code, err = _cli(capsys, "sandbox", "lint", str(path))
    assert code == EXIT_BAD_INPUT
    expected = (f"{path}: line {_line(text, 'user_name: breakglass')}, aws.identity_center.users[0]: Identity "
                f"Center refuses it: Value at 'name.givenName' failed to satisfy constraint")
    assert err.startswith(f"error: {expected}"), err
    assert _up_error(path).startswith(expected)


def test_planted_drift_identity_center_refuses_is_named_by_line(tmp_path):
    """An `idc` override that would give two Identity Center users the same name (the SCIM seeder's SeedError)."""
    text = FORBIDDEN_GROUP.replace('"AWS: Admins"', "AWS-Admins").replace(
        "    - {upn: alice@contoso.com, given_name: Alice, surname: Archer, display_name: Alice Archer}\n",
        "    - {upn: alice@contoso.com, given_name: Alice, surname: Archer, display_name: Alice Archer}\n"
        "    - {upn: bob@contoso.com, given_name: Bob, surname: Baker, display_name: Bob Baker,\n"
        "       idc: {user_name: alice@contoso.com}}\n").replace(
        "members: [alice@contoso.com]", "members: [alice@contoso.com, bob@contoso.com]")
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as info:
        lint_scenario(path)
    assert str(info.value) == (f"{path}: line {_line(text, 'idc: {user_name')}, entra.users[1].idc: "
                               "Duplicate UserName")
    assert _up_error(path) == str(info.value)


@pytest.mark.parametrize("name", ["demo", "empty", "broken-provisioning"])
def test_every_shipped_scenario_lints(name):
    scenario = lint_scenario(ROOT / "scenarios" / f"{name}.yaml")
    assert scenario.scenario
