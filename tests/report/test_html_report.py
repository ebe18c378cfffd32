"""The rendered reports: self-contained HTML without code, plotly.js once per report, no network reference."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from idbridge.core.paths import REPO_ROOT
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from idbridge.kit.render import figure_ids, remote_references, render_report, strip_remote
from support.kit import kit_run


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    return kit_run(tmp_path_factory)


def test_strip_remote_cuts_real_tags_only():
    page = ('<html><head><script src="https://cdn.example/require.js"></script>'
            '<link rel="stylesheet" href="//cdn.example/x.css"><script src="local.js"></script></head><body>'
            '<script>var s = \'<script src="https://inside.a/string.js"></scr\' + \'ipt>\';</script>'
            '<div><script src="http://cdn.example/mathjax.js"> </script>kept</div></body></html>')
    cleaned, removed = strip_remote(page)
    assert removed == 3
    assert "cdn.example" not in cleaned and "local.js" in cleaned and "kept" in cleaned
    assert "https://inside.a/string.js" in cleaned, "text inside a script is not a tag"
    assert remote_references(cleaned) == []


def test_a_report_has_no_code_and_no_remote_reference(tmp_path):
    nb = new_notebook(cells=[new_markdown_cell("# A title\n\nSome narrative."),
                             new_code_cell("secret_looking_code = 42", outputs=[
                                 new_output("display_data", data={"text/html": "<b>an output</b>"})])])
    html = render_report(nb, tmp_path / "r.html", title="A title").read_text()
    assert "an output" in html and "Some narrative" in html
    assert "secret_looking_code" not in html
    assert remote_references(html) == []
    assert "<title>A title</title>" in html


@pytest.mark.notebook
def test_every_report_of_the_kit_is_self_contained(kit):
    run = Path(kit["run_dir"])
    reports = sorted(run.rglob("reports/*.html"))
    assert len(reports) >= 6
    with_figures = 0
    for path in reports + [run / "index.html", run / "setup" / "index.html"]:
        html = path.read_text(encoding="utf-8")
        assert remote_references(html) == [], path.name
        assert not re.search(r"<script[^>]+src=[\"']?(https?:)?//", html), path.name
        if "reports" in path.parts:
            assert "params_file" not in html and "from idbridge" not in html, f"{path.name} shows code"
            figures = figure_ids(html)
            bundles = html.count("class='idbridge-plotly'")  # plotly.js, compressed, once
            assert bundles == (1 if figures else 0), f"{path.name}: plotly.js {bundles} times, {len(figures)} figures"
            with_figures += bool(figures)
            # One offline file, and small enough to mail: a report with charts at most 2.5 MB (was 5.1 MB).
            assert len(html.encode("utf-8")) <= (2_500_000 if figures else 1_000_000), path.name
            # No local absolute path: not the run folder's, the repository's or the home folder's.
            for local in (str(run), str(REPO_ROOT), str(Path.home()) + "/"):
                assert local not in html, f"{path.name} shows {local}"
            assert "Traceback (most recent call last)" not in html and "papermill-error-cell" not in html
    assert with_figures >= 3


@pytest.mark.notebook
def test_the_index_links_every_report_notebook_and_findings_file(kit):
    run = Path(kit["run_dir"])
    index = (run / "index.html").read_text()
    links = re.findall(r"href='([^']+)'", index)
    assert {"findings.csv", "findings.json", "run.log"} <= set(links)
    for link in links:
        assert (run / link.split("#")[0]).exists(), link
    assert "<h2>FAIL</h2>" in index and "exit code 1" in index
    # The verdict in words for a person, before any code: how many findings at which severity need action.
    assert re.search(r"<p class=.words.><b>\d+ (critical|high)-severity findings? (and [^<]*)?needs? action", index)
    notebooks = [p for p in (run / "notebooks").glob("*.ipynb")]
    assert len(notebooks) == len(list((run / "reports").glob("*.html")))
    for path in notebooks:  # each output notebook is the audit record: executed, with its parameters
        meta = nbformat.read(path, as_version=4).metadata.papermill
        assert meta.parameters["run_dir"] == str(run) and meta.end_time
