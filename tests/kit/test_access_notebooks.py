"""The access review notebooks headless against the demo sandbox: 20 collects and writes the reviewer packs, 21
reads the same snapshot, 22 reads packs a reviewer filled in (here: openpyxl) and plans the removals; a workbook
that does not verify fails 22 with the InputError text (exit 2 in `idbridge run`)."""

from __future__ import annotations

import shutil

import nbformat
import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from idbridge.core.paths import NOTEBOOKS_DIR
from idbridge.kit.execute import KernelPool, execute
from idbridge.review import layout

pytestmark = pytest.mark.notebook


class Kernels:
    """Runs the notebooks in order, starting the next one's kernel (and its imports) while the current one runs,
    as `idbridge run` does: each kernel runs one notebook only."""

    def __init__(self):
        self.pool = KernelPool(cwd=NOTEBOOKS_DIR)
        self.pending: dict[str, object] = {}

    def prepare(self, name: str) -> None:
        if name not in self.pending:
            self.pending[name] = self.pool.prepare(NOTEBOOKS_DIR / f"{name}.ipynb")

    def run(self, name: str, run_dir, params_file, then: str | None = None, **extra):
        kernel = self.pool.take(self.pending.pop(name, None))  # None: papermill starts its own
        if then:
            self.prepare(then)
        try:
            return execute(name, {"params_file": str(params_file), "run_dir": str(run_dir), **extra}, run_dir,
                           NOTEBOOKS_DIR, kernel=kernel)
        finally:
            self.pool.release(kernel)


@pytest.fixture(scope="module")
def kernels():
    pool = Kernels()
    yield pool
    pool.pool.close()


@pytest.fixture(scope="module")
def review_run(tmp_path_factory, kernels):
    from support.sandbox import forget_sandbox, running_sandbox

    run_dir = tmp_path_factory.mktemp("access") / "run"
    box = running_sandbox("demo")
    try:
        params_file = box.write_parameters(run_dir / "parameters.yaml")
        # collects into run_dir/snapshot, as in JupyterLab; 21 and 22 read that snapshot
        first = kernels.run("20_access_review", run_dir, params_file, then="21_signin_activity")
    finally:
        box.stop()
        forget_sandbox()
    assert first.ok, first.error
    return run_dir, params_file


def _outputs(path) -> str:
    """Every text and HTML output of an executed notebook."""
    notebook = nbformat.read(path, as_version=4)
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            parts += [str(data.get(kind, "")) for kind in ("text/plain", "text/html", "text/markdown")]
            parts += [str(output.get("text", "")), str(output.get("evalue", ""))]
    return "\n".join(parts)


def test_access_review_writes_packs_and_sections(review_run):
    run_dir, _ = review_run
    packs = sorted((run_dir / "review").glob("review-*.xlsx"))
    assert packs and (run_dir / "review" / "access.csv").exists() and (run_dir / "findings.json").exists()
    assert not (run_dir / "access-findings.json").exists(), "findings are written once per run, as findings.*"
    meta = {r[0]: r[1] for r in load_workbook(packs[0])["_meta"].iter_rows(max_col=2, values_only=True)}
    assert meta["signature"].startswith("hmac-sha256:"), "the sandbox's parameters sign packs with nothing to set"
    # the notebook's packs carry the snapshot's sign-ins and a recommendation on every row
    rows = [dict(zip(layout.HEADERS, r)) for p in packs
            for r in load_workbook(p)["Access"].iter_rows(min_row=2, values_only=True)]
    assert all(r["Recommendation"].split(":")[0] in ("Keep", "Remove", "Review") for r in rows)
    assert any(r["Recommendation"].startswith("Keep: used") for r in rows)
    assert not any(r["Last AWS sign-in"] == "not looked up" for r in rows)
    # ... and whether each path depends on session tags: the demo's DataEngineer does (docs/abac.md)
    conditional = {r["Permission set"]: r["Conditional (ABAC)"] for r in rows if r["Works in AWS"] == "yes"}
    assert conditional["DataEngineer"].startswith("yes — this person: ")
    assert "Allow OwnCostCentreReports when aws:PrincipalTag/CostCenter" in conditional["DataEngineer"]
    assert conditional["AdministratorAccess"] == "none found (managed policies not read)"
    html = (run_dir / "reports" / "20_access_review.html").read_text()
    for section in ("Executive summary", "Who can reach what", "Access paths", "Permission sets by risk",
                    "Access findings", "Reviewer packs"):
        assert section in html
    assert html.count('class="plotly-graph-div"') == 3, "two heatmaps and a sankey"
    assert "depends on session tags (ABAC)" in html, "the heatmaps mark the conditional cells"


def test_signin_activity_reads_the_same_snapshot(review_run, kernels):
    run_dir, params_file = review_run
    result = kernels.run("21_signin_activity", run_dir, params_file, then="22_review_decisions",
                         filter_group="AWS-Prod-Admins")
    assert result.ok, result.error
    text = _outputs(result.output)
    for words in ("Entra: sign-ins to the AWS app", "last AWS sign-in of the person (any account)",
                  "Entra refused", "signed in to AWS"):
        assert words in text
    assert 'class="plotly-graph-div"' in result.html.read_text()


def _decide(run_dir, choices: dict[str, str]) -> None:
    """Write Keep / Remove into the returned packs, as a reviewer would in Excel."""
    for path in sorted((run_dir / "review").glob("review-*.xlsx")):
        book = load_workbook(path)
        sheet = book["Access"]
        rows = {cell.value: cell.row for cell in sheet[get_column_letter(layout.KEY_COL)]}  # path_id: last, hidden
        hits = [key for key in choices if key in rows]
        for key in hits:
            sheet[f"O{rows[key]}"] = choices[key]
            sheet[f"P{rows[key]}"] = "test decision"
        if hits:
            book.save(path)


def test_review_decisions_plan_the_removals(review_run, kernels):
    run_dir, params_file = review_run
    access = pd.read_csv(run_dir / "review" / "access.csv", dtype=str)
    effective = access[access["effective"].str.lower() == "true"]
    group_path = effective[(effective["path_kind"] == "group")
                           & (effective["entra_group_name"] == "AWS-Data-Engineers")].iloc[0]
    direct_path = effective[effective["path_kind"] == "direct_user"].iloc[0]
    kept = effective[(effective["path_kind"] == "group")
                     & (effective["entra_group_name"] == "AWS-Sandbox-Users")].iloc[0]
    _decide(run_dir, {group_path["path_id"]: "Remove", direct_path["path_id"]: "remove ",
                      kept["path_id"]: "Keep"})

    result = kernels.run("22_review_decisions", run_dir, params_file, then="22_review_decisions")
    assert result.ok, result.error
    plan = pd.read_csv(run_dir / "review-removals.csv")
    by_kind = plan.groupby("kind")["key"].apply(list).to_dict()
    assert any("AWS-Data-Engineers" in key and group_path["user_principal_name"] in key
               for key in by_kind["entra.group_member"])
    assert any(direct_path["account_id"] in key for key in by_kind["aws.account_assignment"])
    assert set(plan["action"]) == {"delete"}
    text = _outputs(result.output)
    assert "Plan only" in text and "review-removals.csv" in text
    assert "No contradictory decisions" in text or "access ended together" in text


def test_a_bad_workbook_fails_review_decisions_with_the_input_error(review_run, kernels, tmp_path):
    run_dir, params_file = review_run
    returned = tmp_path / "returned"
    returned.mkdir()
    pack = sorted((run_dir / "review").glob("review-*.xlsx"))[0]
    shutil.copy(pack, returned / pack.name)
    book = load_workbook(returned / pack.name)
    book["Access"]["O2"] = "Maybe"
    book.save(returned / pack.name)

    out = tmp_path / "run"
    shutil.copytree(run_dir / "snapshot", out / "snapshot")
    result = kernels.run("22_review_decisions", out, params_file, decisions_dir=str(returned))
    assert not result.ok and result.error_name == "InputError"
    assert "Access!O2: decision 'Maybe' is not Keep or Remove" in result.error
    text = _outputs(result.output)
    assert "The returned workbooks cannot be used" in text
    assert not (out / "review-removals.csv").exists(), "nothing is planned"
