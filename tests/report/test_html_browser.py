"""The demo's HTML reports, and those of a failed run, in headless Chromium with the network off: every chart is
drawn, every report has its header and the run's verdict, tables a person can use, nothing a reader should not see,
and it prints in few pages. Each report's first screen and printed first page are kept in test-output/reports/.

Chromium is Debian's `chromium`, installed by `make test` (the Makefile's `browser` target). The network is cut
for the browser by running it in a new network namespace (`unshare -n`, no interface but a downed loopback);
where that is not permitted, Chromium is pointed at a proxy that does not exist and told to resolve nothing.
"""

from __future__ import annotations

import json
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from idbridge.kit.render import figure_ids
from idbridge.report.page import HEADER_FIELDS
from support.browser import (CHROMIUM, OUTPUT, PROBE_ID, first_page_png, offline_prefix, probe,
                             screenshot_and_print, why_no_browser)
from support.kit import kit_run, unreachable_parameters

pytestmark = [pytest.mark.notebook,
              pytest.mark.skipif(CHROMIUM is None, reason=why_no_browser())]


# Appended to a copy of each report: once the page has loaded, say for every chart whether plotly drew it (its
# data processed into _fullData, and an SVG holding marks: bars, lines, a heatmap image, sankey nodes, or the
# annotation of an empty chart). Without plotly.js (a CDN link with no network) nothing is drawn and all fail.
PROBE = """<script>window.addEventListener("load", () => setTimeout(() => {
  const out = document.createElement("pre"); out.id = "%s";
  out.textContent = JSON.stringify([...document.querySelectorAll(".plotly-graph-div")].map(gd => ({
    id: gd.id, plotly: typeof window.Plotly !== "undefined",
    data: (gd.data || []).length, full: (gd._fullData || []).length,
    svg: gd.querySelectorAll("svg.main-svg").length,
    marks: gd.querySelectorAll(".trace, .hm image, .sankey .node-rect, .slice, .point, .annotation").length})));
  document.body.appendChild(out);
}, 500));</script>""" % PROBE_ID


def _probe(path: Path) -> list[dict]:
    """Open a copy of the report with the probe, offline, and read back what it found."""
    return probe(path, PROBE)


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    return kit_run(tmp_path_factory)


def test_the_network_is_really_off_for_the_browser():
    prefix, _ = offline_prefix()
    if not prefix:
        pytest.skip("no network namespace here: the proxy and resolver flags keep the browser offline instead")
    probe = subprocess.run([*prefix, "python3", "-c",
                            "import socket; socket.create_connection(('1.1.1.1', 443), timeout=3)"],
                           capture_output=True, text=True)
    assert probe.returncode != 0 and "unreachable" in probe.stderr.lower()


def test_every_chart_of_the_demo_reports_is_drawn_offline(kit):
    run = Path(kit["run_dir"])
    reports = [p for p in sorted(run.rglob("reports/*.html")) if figure_ids(p.read_text(encoding="utf-8"))]
    assert len(reports) >= 3, "the demo's reports have charts"
    with ThreadPoolExecutor(max_workers=2) as pool:
        probes = dict(zip(reports, pool.map(_probe, reports)))
    problems = {}
    for path, charts in probes.items():
        expected = figure_ids(path.read_text(encoding="utf-8"))
        assert [c["id"] for c in charts] == expected, path.name
        # A chart may have no trace and only a note ("No findings"): drawn is the note then.
        not_drawn = [c for c in charts if not (c["plotly"] and c["full"] == c["data"] and c["svg"] and c["marks"])]
        if not_drawn:
            problems[str(path.relative_to(run))] = not_drawn
    assert not problems, problems


def test_the_probe_sees_charts_fail_when_plotly_js_would_come_from_a_cdn(kit, tmp_path):
    """The check above has teeth: the same report with plotly.js linked from a CDN instead draws nothing."""
    run = Path(kit["run_dir"])
    source = run / "reports" / "10_validate_integration.html"
    html = source.read_text(encoding="utf-8")
    start = html.index("<script class='idbridge-plotly'")
    end = html.index("</script>", start) + len("</script>")
    linked = tmp_path / source.name
    linked.write_text(html[:start] + '<script src="https://cdn.plot.ly/plotly-3.1.0.min.js"></script>' + html[end:],
                      encoding="utf-8")
    charts = _probe(linked)
    assert charts and not any(c["plotly"] or c["svg"] for c in charts)


# ------------------------------------------------------------------------------------------- every report
# Appended to a copy of each report: once its tables are set up (or after 15 s), what a reader would see.
READER = """<script>window.addEventListener("load", () => { const t0 = Date.now(); const tick = () => {
  if (!document.documentElement.dataset.tables && Date.now() - t0 < 15000) { setTimeout(tick, 200); return; }
  const out = {tables: document.documentElement.dataset.tables || "", header: {}, banner: null, problems: []};
  document.querySelectorAll(".idbridge-header dd[data-field]").forEach(d => out.header[d.dataset.field] =
    d.textContent.trim());
  const banner = document.querySelector(".idbridge-verdict");
  if (banner) { out.banner = {status: banner.dataset.status, word: banner.querySelector(".word").textContent, counts: {}};
    banner.querySelectorAll(".tile").forEach(t => out.banner.counts[t.dataset.count] = t.querySelector("b").textContent); }
  document.querySelectorAll("table.idbridge-table").forEach(table => {
    const heads = [...table.tHead.rows[0].cells].map(c => c.textContent.trim());
    if (heads.some(h => h === "" || /^[0-9]+$/.test(h)) || table.tBodies[0].querySelector("th"))
      out.problems.push("index column: " + heads.join("|"));
    if (heads.some(h => /_/.test(h))) out.problems.push("snake_case header: " + heads.join("|")); });
  document.querySelectorAll("td, dd").forEach(cell => { const text = cell.textContent.trim();
    if (text.includes("\u2026") || text.endsWith("...")) out.problems.push("truncated: " + text.slice(0, 80));
    if (["NaN", "nan", "None", "NaT", "<NA>"].includes(text)) out.problems.push("missing shown as " + text); });
  // What each report promises a reader besides the shared parts (checked per report below).
  const q = sel => document.querySelector(sel);
  out.own = {report_verdict: q(".idbridge-report-verdict") ? q(".idbridge-report-verdict").dataset.status : null,
             headline: q(".idbridge-headline") ? q(".idbridge-headline").textContent.trim() : null,
             finding_controls: document.querySelectorAll(".finding ul.controls li").length,
             frameworks: [...document.querySelectorAll(".idbridge-controls li[data-framework]")].map(l => l.dataset.framework),
             sections: [...document.querySelectorAll("h2")].map(h => h.textContent.replace("\u00b6", "").trim()),
             raw_json: [...document.querySelectorAll("td")].filter(td => /^[\[{]"/.test(td.textContent.trim())).length};
  const body = document.body.innerText;
  for (const bad of ["Traceback", "most recent call last", "An Exception was encountered"])
    if (body.includes(bad)) out.problems.push("shows " + bad);
  const search = [...document.querySelectorAll(".dt-container")].map(c => [c, c.querySelector(".dt-search input"),
    c.querySelectorAll("tbody tr")]).find(([c, input, rows]) => input && rows.length >= 3);
  if (!search) { finish(out); return; }
  const [container, input, rows] = search;
  const term = rows[rows.length - 1].cells[0].textContent.trim();
  const before = rows.length;
  input.value = term; input.dispatchEvent(new Event("input", {bubbles: true}));
  setTimeout(() => { const shown = [...container.querySelectorAll("tbody tr")];
    out.search = {term, before, after: shown.length,
                  all_match: shown.every(r => r.textContent.toLowerCase().includes(term.toLowerCase()))};
    finish(out); }, 500);
  function finish(result) { const pre = document.createElement("pre"); pre.id = "%s";
    pre.textContent = JSON.stringify(result); document.body.appendChild(pre); }
}; tick(); });</script>""" % PROBE_ID

# Pages a report may print to. 20_access_review printed 25 pages before the print stylesheet: a third of that,
# and one page since for the two sections issue 15 asked for (admins today and eligible through PIM; access that
# depends on session tags, one row per person and permission set).
PAGE_LIMIT = {"20_access_review": 9}
DEFAULT_PAGE_LIMIT = 15  # the others: 10 of a run that collected nothing prints 14 (one long reason per check)


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory):
    """A run whose collection failed: 10 says NOT CHECKED, 20-22 stop early, 30 says there is nothing to compare."""
    from idbridge.kit.run import run_kit

    folder = tmp_path_factory.mktemp("failed-run")
    result = run_kit(unreachable_parameters(folder, sources=None), only="10,20,21,22,30", out=folder / "run")
    assert any(not r.ok for r in result.notebooks), "the failed run has a failed notebook to show"
    return folder / "run"


def _reports(run: Path) -> list[tuple[Path, Path]]:
    """(report, the run.json that holds its verdict) for every report of a run and of its setup part."""
    found = []
    for path in sorted(run.rglob("reports/*.html")):
        found.append((path, path.parent.parent / "run.json"))
    return found


def _read_as_a_reader(label: str, report: Path, record: Path) -> dict:
    name = report.stem if report.parent.parent.name != "setup" else f"setup-{report.stem}"
    folder = OUTPUT / label
    seen = probe(report, READER)
    pages = screenshot_and_print(report, folder / f"{name}.screen.png", folder / f"{name}.pdf")
    first_page_png(folder / f"{name}.pdf", folder / f"{name}.print-page-1.png")
    return {"report": report, "name": report.stem, "record": json.loads(record.read_text()), "seen": seen,
            "pages": pages}


@pytest.mark.parametrize("which", ["demo", "failed"])
def test_every_report_reads_well_in_a_browser_and_in_print(which, kit, failed_run):
    run = Path(kit["run_dir"]) if which == "demo" else failed_run
    reports = _reports(run)
    assert len(reports) >= (10 if which == "demo" else 5)
    with ThreadPoolExecutor(max_workers=2) as pool:
        read = list(pool.map(lambda pair: _read_as_a_reader(which, *pair), reports))
    problems = {}
    for r in read:
        seen, verdict, name = r["seen"], r["record"]["verdict"], r["name"]
        wrong = list(seen["problems"])
        missing = [f for f in HEADER_FIELDS if not seen["header"].get(f)]
        if missing:
            wrong.append(f"header lacks {missing}")
        if seen["tables"] not in ("ready", "none"):
            wrong.append(f"tables: {seen['tables'] or 'never set up'}")
        # The reports that read the run's checks open with its verdict, the same as run.json's.
        if name in ("10_validate_integration", "20_access_review", "21_signin_activity", "22_review_decisions",
                    "30_changes") and seen["banner"] is None:
            wrong.append("no verdict banner")
        if seen["banner"] is not None:
            counts = verdict["counts"]
            expected = {"passed": counts["pass"], "failed": counts["fail"],
                        "not checked": counts["not_checked"] + counts.get("error", 0),
                        "not applicable": counts["not_applicable"]}
            shown = {k: int(v) for k, v in seen["banner"]["counts"].items() if k != "score"}
            if seen["banner"]["status"] != verdict["status"] or seen["banner"]["word"] != verdict["word"] \
                    or shown != expected:
                wrong.append(f"banner {seen['banner']} is not run.json's {verdict['status']} {expected}")
        own = seen["own"]
        if own["raw_json"]:
            wrong.append(f"{own['raw_json']} cells of raw JSON")
        if which == "demo":
            wrong += _own_promises(name, r["report"].parent.parent.name == "setup", own)
        if "search" in seen:
            s = seen["search"]
            if not (s["all_match"] and 1 <= s["after"] <= s["before"]):
                wrong.append(f"table search does not work: {s}")
        limit = PAGE_LIMIT.get(name, DEFAULT_PAGE_LIMIT)
        if r["pages"] > limit:
            wrong.append(f"prints on {r['pages']} pages (at most {limit})")
        if wrong:
            problems[str(r["report"].relative_to(run))] = wrong
    assert not problems, problems
    assert any("search" in r["seen"] for r in read), "some table was searched"
    assert all((OUTPUT / which / f"{r['name'] if r['report'].parent.parent.name != 'setup' else 'setup-' + r['name']}"
                ".print-page-1.png").stat().st_size > 5000 for r in read)


def _own_promises(name: str, setup: bool, own: dict) -> list[str]:
    """What a demo report promises beyond the shared parts: 10 maps findings to controls and sums them up per
    framework, 20 opens with its headline, 21 with its own verdict, 30 shows the changes since the demo's
    earlier run."""
    wrong = []
    if name == "10_validate_integration":
        if not own["finding_controls"]:
            wrong.append("no finding lists its controls")
        if not any(f.startswith("NIST SP 800-53") for f in own["frameworks"]) or len(own["frameworks"]) < 2:
            wrong.append(f"no per-framework control summary: {own['frameworks']}")
    if name == "20_access_review" and not re.fullmatch(
            r"\d+ of \d+ people with AWS access are admins somewhere; \d+ in production\.", own["headline"] or ""):
        wrong.append(f"no headline: {own['headline']!r}")
    if name == "21_signin_activity" and own["report_verdict"] not in ("pass", "fail", "not_checked"):
        wrong.append("no verdict of its own")
    if name == "30_changes" and not setup and not {"Access gained", "Account assignments removed"} <= set(
            own["sections"]):
        wrong.append(f"shows no changes: {own['sections']}")
    return wrong
