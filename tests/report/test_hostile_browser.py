"""Hostile tenant data through the whole kit, read as a reader reads it: every report of a run on
scenarios/hostile.yaml, and the run's index, in headless Chromium with the network off.

The scenario's names are script, markup and plotly-markup payloads (support.browser has the browser). A run of the
same engagement before it, without the principals created by hand in Identity Center, gives 30_changes every
hostile name to show; returned reviewer packs with a script in a Decision cell, markup in a header and in a file name
make 22_review_decisions fail (exit 2, rightly) with the reviewers' cells quoted in its list of problems.

Every payload that runs sets document.title; none may. No element of a report may carry an event handler, no
<script> may hold a payload, no <img> or stray <svg> may appear, and every link must be the report's own (its
headings, the run's files, plotly's logo). And the payloads are there, as text: the checks would otherwise pass on
an empty report.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import yaml

from idbridge.core.paths import NOTEBOOKS_DIR, SCENARIOS_DIR
from support.browser import CHROMIUM, PROBE_ID, probe, why_no_browser
from support.sandbox import collected_snapshot

pytestmark = [pytest.mark.notebook,
              pytest.mark.skipif(CHROMIUM is None, reason=why_no_browser())]

ENGAGEMENT = "hostile"
SCRIPT = "<script>document.title='x'</script>"
PLOTLY_LINK = '<a href="https://evil.example">Click to approve</a><br><b>AWS-Prod-Admins</b>'
DECISION = "<script>document.title='decision'</script>"
HEADER = "<img src=x onerror=document.title='header'>"
WORKBOOK = "review-<svg onload=document.title='file'>.xlsx"

# After the page has loaded (an <img onerror> fires before "load"), what a payload would have left behind.
PROBE = """<script id="idbridge-hostile-probe">window.addEventListener("load", () => setTimeout(() => {
  const out = document.createElement("pre"); out.id = "%s";
  const xlink = "http://www.w3.org/1999/xlink";
  const cut = e => e.outerHTML.slice(0, 200);
  out.textContent = JSON.stringify({
    title: document.title,
    handlers: [...document.querySelectorAll("*")]
      .filter(e => [...e.attributes].some(a => a.name.toLowerCase().startsWith("on"))).map(cut),
    scripts: [...document.scripts].filter(s => s.id !== "idbridge-hostile-probe" && !s.src
                                          && /document\\.title\\s*=/.test(s.textContent)
                                          && !/Plotly\\.newPlot/.test(s.textContent)).map(cut),
    links: [...document.querySelectorAll("a")]
      .map(a => a.getAttribute("href") || a.getAttributeNS(xlink, "href") || "(none)"),
    images: [...document.querySelectorAll("img, image")].filter(i => !i.closest(".hm")).map(cut),
    svgs: [...document.querySelectorAll("svg")]
      .filter(s => !s.closest(".plotly-graph-div") && s.id !== "js-plotly-tester").map(cut),
    labels: [...document.querySelectorAll(".plotly-graph-div svg text")].map(t => t.textContent),
    text: document.body.innerText});
  document.body.appendChild(out);
}, 500));</script>""" % PROBE_ID


def _before(folder: Path) -> Path:
    """hostile.yaml as it was before anyone created principals by hand in Identity Center."""
    scenario = yaml.safe_load((SCENARIOS_DIR / "hostile.yaml").read_text(encoding="utf-8"))
    scenario["aws"]["identity_center"]["users"] = []
    scenario["aws"]["identity_center"]["groups"] = []
    scenario["aws"]["account_assignments"] = [a for a in scenario["aws"]["account_assignments"]
                                              if not ({"idc_group", "idc_user"} & set(a))]
    path = folder / "hostile-before.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _returned_packs(run_dir: Path, folder: Path) -> Path:
    """Two of the run's reviewer packs, back from hostile reviewers: a script as a decision in one (named with
    markup), markup as the Decision header in the other (a wrong header stops reading that workbook)."""
    from openpyxl import load_workbook

    folder.mkdir(parents=True)
    first, second = sorted((run_dir / "review").glob("review-*.xlsx"))[:2]
    for pack, cell, value, name in ((first, "O2", DECISION, WORKBOOK), (second, "O1", HEADER, second.name)):
        book = load_workbook(pack)
        book["Access"][cell] = value
        book.save(folder / name)
    return folder


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    from idbridge.kit.execute import execute
    from idbridge.sandbox.demo import demo_run

    base = tmp_path_factory.mktemp("hostile")
    runs = base / "runs"
    collected_snapshot(str(_before(base)), runs / ENGAGEMENT / "20250101T000000Z")
    result = demo_run("hostile", runs / ENGAGEMENT / "20260101T000000Z", setup=False,
                      parameters={"run_root": str(runs), "engagement": ENGAGEMENT})
    run_dir = Path(result.run_dir)
    decisions = execute("22_review_decisions",
                        {"params_file": str(run_dir / "parameters.yaml"), "run_dir": str(base / "returned"),
                         "snapshot_dir": str(run_dir / "snapshot"),
                         "decisions_dir": str(_returned_packs(run_dir, base / "returned-packs"))},
                        base / "returned", NOTEBOOKS_DIR)
    return result, decisions


@pytest.fixture(scope="module")
def seen(hostile) -> dict[str, dict]:
    """What the probe found in each page: the run's reports, its index, and 22 on the hostile pack."""
    result, decisions = hostile
    run_dir = Path(result.run_dir)
    pages = {str(p.relative_to(run_dir)): p for p in sorted((run_dir / "reports").glob("*.html"))}
    pages["index.html"] = run_dir / "index.html"
    pages["returned/22_review_decisions.html"] = decisions.html
    return {name: {**probe(path, PROBE), "source_title": _title(path)} for name, path in pages.items()}


def _title(path: Path) -> str:
    return html.unescape(re.search(r"<title>(.*?)</title>", path.read_text(encoding="utf-8"), re.S).group(1))


def _documentation() -> set[str]:
    """The documentation links the checks themselves cite and the control frameworks they map to (code, never
    tenant data): a finding and the controls table link them."""
    from idbridge.checks import load_all
    from idbridge.checks.controls import FRAMEWORKS

    return ({ref for check in load_all().values() for ref in check.meta.references}
            | {framework.url for framework in FRAMEWORKS.values()})


DOCUMENTATION = _documentation()


def _foreign(href: str) -> bool:
    """A link that is not the report's own: its headings, the run's files (and their sections; reviewer packs are
    named from sanitised owner names), plotly's logo, the checks' documentation."""
    return not (href.startswith("#") or href == "https://plotly.com/" or href in DOCUMENTATION
                or re.fullmatch(r"(\.\./)?[\w./-]+\.(html|ipynb|csv|json|log|yaml|xlsx)(#[\w-]+)?", href))


def test_the_hostile_run_ran_every_report(hostile):
    result, decisions = hostile
    assert [r.name for r in result.notebooks] == ["00_preflight", "10_validate_integration", "20_access_review",
                                                  "21_signin_activity", "22_review_decisions", "30_changes"]
    assert all(r.ok for r in result.notebooks), [r.error for r in result.notebooks if not r.ok]
    assert decisions.error_name == "InputError" and decisions.html is not None, decisions.error


def test_no_payload_becomes_an_element_a_handler_or_a_link(seen):
    problems = {}
    for name, page in seen.items():
        found = {"title changed": page["title"] if page["title"] != page["source_title"] else None,
                 "handlers": page["handlers"], "scripts": page["scripts"], "images": page["images"],
                 "svgs": page["svgs"], "links": [h for h in page["links"] if _foreign(h)]}
        found = {k: v for k, v in found.items() if v}
        if found:
            problems[name] = found
    assert not problems, problems


def test_the_payloads_are_shown_as_text(seen):
    access = seen["reports/20_access_review.html"]
    assert PLOTLY_LINK in access["labels"], "the heatmap shows the hand-made group's name as written"
    assert SCRIPT in access["labels"] and SCRIPT in access["text"]
    assert any("<svg/onload=document.title='svg-idc-user'>" in label for label in access["labels"]), \
        "the sankey's title and nodes name the riskiest person as written"
    changes = seen["reports/30_changes.html"]["text"]
    assert "Access gained" in changes and SCRIPT in changes and PLOTLY_LINK in changes, \
        "the diff tables show the gained group and account names"
    signins = seen["reports/21_signin_activity.html"]["text"]
    assert "<img src=x onerror=document.title='nameid'>" in signins
    validation = seen["reports/10_validate_integration.html"]
    assert any('CN=<b>FC</b><br><a href="https://evil.example">' in label for label in validation["labels"]), \
        [label for label in validation["labels"] if "CN=" in label]
    returned = seen["returned/22_review_decisions.html"]["text"]
    assert "cannot be used" in returned and DECISION in returned and HEADER in returned and WORKBOOK in returned


def test_the_probe_sees_a_payload_that_runs(hostile, tmp_path):
    """The checks above have teeth: the same report with a payload left raw fails each of them."""
    result, _ = hostile
    source = Path(result.run_dir) / "reports" / "30_changes.html"
    raw = (f"{SCRIPT}<img src=x onerror=\"document.title='img'\"><svg onload=\"document.title='svg'\"></svg>"
           f"{PLOTLY_LINK}")
    page = tmp_path / source.name
    text = source.read_text(encoding="utf-8")
    page.write_text(text.replace("<h2", raw + "<h2", 1), encoding="utf-8")
    found = probe(page, PROBE)
    assert found["title"] in ("x", "img", "svg"), "a payload that runs is seen by the title it sets"
    assert len(found["handlers"]) == 2 and len(found["scripts"]) == 1 and found["images"] and found["svgs"]
    assert [h for h in found["links"] if _foreign(h)] == ["https://evil.example"]


def test_no_csv_of_the_hostile_run_holds_a_live_formula(hostile):
    """Every CSV the run wrote (findings, checks, access, removals): no text cell a spreadsheet would evaluate,
    and the formula payloads of the scenario are there, neutralised."""
    import csv

    result, _ = hostile
    run_dir = Path(result.run_dir)
    files = sorted(run_dir.rglob("*.csv"))
    assert {p.name for p in files} >= {"findings.csv", "checks.csv", "access.csv"}
    live, neutralised = [], 0
    for path in files:
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    try:
                        float(cell)
                        continue  # a number the kit computed
                    except ValueError:
                        pass
                    if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                        live.append(f"{path.relative_to(run_dir)}: {cell[:60]}")
                    neutralised += cell.startswith(("'=", "'+", "'-", "'@"))
    assert not live, live[:20]
    assert neutralised, "the scenario's formula payloads reach the CSVs (neutralised)"
