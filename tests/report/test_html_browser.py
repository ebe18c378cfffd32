"""The demo's HTML reports in headless Chromium with the network off: every chart must be drawn.

Chromium is Debian's `chromium`, installed by `make test` (the Makefile's `browser` target). The network is cut
for the browser by running it in a new network namespace (`unshare -n`, no interface but a downed loopback);
where that is not permitted, Chromium is pointed at a proxy that does not exist and told to resolve nothing.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from idbridge.kit.render import figure_ids
from support.browser import CHROMIUM, PROBE_ID, offline_prefix, probe, why_no_browser
from support.kit import kit_run

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
    start = html.index("<script>/**\n* plotly.js v")
    end = html.index("</script>", start) + len("</script>")
    linked = tmp_path / source.name
    linked.write_text(html[:start] + '<script src="https://cdn.plot.ly/plotly-3.1.0.min.js"></script>' + html[end:],
                      encoding="utf-8")
    charts = _probe(linked)
    assert charts and not any(c["plotly"] or c["svg"] for c in charts)
