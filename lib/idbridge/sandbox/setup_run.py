"""The three setup runbooks on the sandbox, headless, end to end: what the tests run and what a demo of the setup
shows. Between the notebooks the consultant's console steps are done to the sandbox (sandbox_console), and the
SCIM endpoint and token reach the notebooks the way they would for real: through environment variables named by
the desired state's references, never through a file. (`idbridge demo` runs them as the first part of the demo.)
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import yaml

from idbridge.core.paths import PARAMETERS_DIR
from idbridge.core.yamlfile import read_yaml
from idbridge.kit.execute import NotebookRun, execute
from idbridge.sandbox import console

RUNBOOKS = ["01_setup_saml", "02_setup_provisioning", "03_setup_aws_access"]
VALIDATION = "10_validate_integration"
DEMO_DESIRED_STATE = PARAMETERS_DIR / "desired-state.demo.yaml"


@dataclass
class SetupRun:
    out_dir: Path
    params_file: Path
    desired_state: Path
    runs: list[NotebookRun] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.runs)

    @property
    def change_log(self) -> Path:
        return self.out_dir / "changes.jsonl"


def write_desired_state(box, out_dir: Path, *, apply: bool, allow_removals: bool = False,
                        template: Path = DEMO_DESIRED_STATE, name: str = "desired-state.yaml") -> Path:
    """The template with this sandbox's SP metadata file and sign-on URL, the apply switches set, and its relative
    paths made absolute (the copy lives in the run folder)."""
    doc = read_yaml(template).data
    doc["apply"], doc["allow_removals"] = apply, allow_removals
    if doc.get("saml"):
        doc["saml"]["sp_metadata"] = str(console.write_sp_metadata(box, out_dir / "aws-sp-metadata.xml"))
        doc["saml"]["sign_on_url"] = console.sign_on_url(box)
    for ps in (doc.get("aws_access") or {}).get("permission_sets") or []:
        if ps.get("inline_policy") and not Path(ps["inline_policy"]).is_absolute():
            ps["inline_policy"] = str((Path(template).resolve().parent / ps["inline_policy"]).resolve())
    path = out_dir / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def record_token_date(params_file: Path, created: datetime) -> None:
    """What the consultant does after creating the SCIM token: checks.scim_token_created in the parameters."""
    doc = read_yaml(params_file).data
    doc.setdefault("checks", {})["scim_token_created"] = created.date().isoformat()
    params_file.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


@contextmanager
def scim_environment(endpoint: str, token: str):
    """The variables the demo desired state's references name, set for the notebooks' kernels, then restored."""
    names = {"IDBRIDGE_SCIM_ENDPOINT": endpoint, "IDBRIDGE_SCIM_TOKEN": token}
    saved = {k: os.environ.get(k) for k in names}
    os.environ.update(names)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_setup(box, out_dir: str | Path, *, apply: bool = True, console_steps: bool = True,
              validate: bool = False, desired_state: Path | None = None) -> SetupRun:
    """Run 01, 02 and 03 against a started sandbox into out_dir (one run folder, one change log); with
    console_steps, do the console's part after 01 as a consultant would; with validate, run the validation
    notebook after them. A notebook that fails stops the sequence (its output notebook is kept)."""
    from idbridge.sandbox import derived

    console.load_aws_managed_policies()
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    params_file = out_dir / "parameters.yaml"
    if not params_file.exists():
        box.write_parameters(params_file)
    desired = desired_state or write_desired_state(box, out_dir, apply=apply)
    result = SetupRun(out_dir, params_file, desired)
    inputs = {"params_file": str(params_file), "run_dir": str(out_dir), "desired_state_file": str(desired)}
    # The values the console would show; until automatic provisioning is enabled the sandbox refuses the token.
    token = derived.scim_token(box.scenario)
    with scim_environment(derived.scim_endpoint(box.scenario), token):
        for name in RUNBOOKS:
            run = execute(name, inputs, out_dir, out_dir, secrets=[token])
            result.runs.append(run)
            if not run.ok:
                return result
            if name == "01_setup_saml" and console_steps and apply:
                console.change_identity_source(box, out_dir / "entra-federation-metadata.xml")
                console.enable_automatic_provisioning(box)
                record_token_date(params_file, datetime.now(timezone.utc))
        if validate:
            result.runs.append(execute(VALIDATION, {"params_file": str(params_file), "run_dir": str(out_dir),
                                                    "snapshot_dir": ""}, out_dir, out_dir))
    return result

