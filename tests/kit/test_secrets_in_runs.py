"""No secret in any file of a run folder, although papermill stores parameters twice in every output notebook.

The kit run plants random values in the environment variables that the engagement parameters reference
(graph.certificate_password: env:IDBRIDGE_TEST_SECRET, review.signing_key: env:IDBRIDGE_TEST_REVIEW_KEY, which signs
the reviewer packs), and its setup part passes the SCIM token to the runbooks
the way a consultant would: through the desired state's env: reference. Neither value may be in any file.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from support.kit import SECRET_VARIABLE, kit_run


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    return kit_run(tmp_path_factory)


def _files(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.rglob("*")) if p.is_file()]


@pytest.mark.notebook
def test_the_planted_secret_is_in_no_file_of_the_run_folder(kit):
    run = Path(kit["run_dir"])
    files = _files(run)
    assert len(files) > 30 and any(p.suffix == ".parquet" for p in files)
    values = [kit["secret"], kit["scim_token"], kit["review_key"]]
    for value in values:
        forms = {value.encode(), json.dumps(value)[1:-1].encode()}
        holding = [str(p.relative_to(run)) for p in files if any(f in p.read_bytes() for f in forms)]
        assert not holding, f"{value[:12]}… found in {holding}"


@pytest.mark.notebook
def test_the_reviewer_packs_are_signed_with_the_planted_key(kit):
    import zipfile

    from openpyxl import load_workbook

    from idbridge.review.signing import SigningKey

    packs = sorted((Path(kit["run_dir"]) / "review").glob("review-*.xlsx"))
    assert packs
    for path in packs:
        meta = {r[0]: r[1] for r in load_workbook(path)["_meta"].iter_rows(max_col=2, values_only=True) if r[0]}
        assert meta["signature"].startswith("hmac-sha256:")
        assert meta["key_id"] == SigningKey(kit["review_key"].encode()).id
        with zipfile.ZipFile(path) as archive:  # the xlsx is compressed: look inside too
            assert not any(kit["review_key"].encode() in archive.read(n) for n in archive.namelist())


@pytest.mark.notebook
def test_output_notebooks_carry_only_paths_as_parameters(kit):
    run = Path(kit["run_dir"])
    notebooks = sorted(run.rglob("notebooks/*.ipynb"))
    assert any("setup" in str(p) for p in notebooks), "the setup runbooks ran"
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        given = nb.metadata.papermill.parameters
        assert set(given) <= {"params_file", "run_dir", "snapshot_dir", "previous_snapshot_dir", "history_dir",
                              "desired_state_file", "decisions_dir"}, path.name
        injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert len(injected) == 1
        for value in given.values():
            assert value == "" or Path(value).is_absolute(), (path.name, value)
    # The reference is what the parameters file and the snapshot's manifest keep: never its value.
    kept = (run / "parameters.yaml").read_text()
    assert f"env:{SECRET_VARIABLE}" in kept
    manifest = json.loads((run / "snapshot" / "manifest.json").read_text())
    assert manifest["parameters"]["graph"]["certificate_password"] == f"env:{SECRET_VARIABLE}"


@pytest.mark.notebook
def test_the_run_needed_no_redaction(kit):
    """The scrubbing in the runner is a safety net: a run in which it had to act says so in its log."""
    for run in (Path(kit["run_dir"]), Path(kit["setup_dir"])):
        log = (run / "run.log").read_text()
        assert "held a secret value" not in log, log
