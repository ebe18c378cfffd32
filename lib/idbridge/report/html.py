"""Render an executed notebook as a self-contained HTML report: no code, no network.

nbconvert's stock template links require.js, MathJax and mermaid from a CDN, and plotly's notebook renderer adds a
MathJax <script src> from a CDN to every figure. A report is read offline (mailed, archived, opened on an
air-gapped laptop), so every remote script or stylesheet is left out. plotly.js itself travels inline in the
first figure's output (plotly's `notebook` renderer, set by idbridge.notebook.setup): once per report.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat

from idbridge.vocabulary import SEVERITIES

_REMOTE = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)

# The lab template without its CDN blocks, and a small header linking back to the run's index.
_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<style>.idbridge-bar{font:13px sans-serif;padding:6px 12px;background:#f1f3f5;border-bottom:1px solid #dee2e6}</style>
{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
{%- if resources.idbridge_bar %}<div class="idbridge-bar">{{ resources.idbridge_bar }}</div>{% endif -%}
{%- endblock body_header -%}
"""


def _exporter():
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"idbridge-report.html.j2": _TEMPLATE})],
                        template_file="idbridge-report.html.j2", exclude_input=True, exclude_input_prompt=True,
                        exclude_output_prompt=True)


class _RemoteFinder(HTMLParser):
    """Finds <script src=remote>…</script> and <link href=remote> elements by character offset. A parser, not a
    regex: plotly.js is 5 MB of script text, and only real tags (not strings inside scripts) may be cut."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=False)
        self.text = text
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.cuts: list[tuple[int, int]] = []
        self._script_start: int | None = None

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        url = values.get("src") if tag == "script" else values.get("href") if tag == "link" else None
        if not url or not _REMOTE.match(url):
            return
        start = self._offset()
        if tag == "script":
            self._script_start = start
        else:
            self.cuts.append((start, start + len(self.get_starttag_text())))

    def handle_endtag(self, tag):
        if tag == "script" and self._script_start is not None:
            end = self.text.index(">", self._offset()) + 1
            self.cuts.append((self._script_start, end))
            self._script_start = None


def strip_remote(text: str) -> tuple[str, int]:
    """The HTML without remote scripts and stylesheets, and how many were removed."""
    finder = _RemoteFinder(text)
    finder.feed(text)
    finder.close()
    if not finder.cuts:
        return text, 0
    parts, position = [], 0
    for start, end in sorted(finder.cuts):
        parts.append(text[position:start])
        position = end
    parts.append(text[position:])
    return "".join(parts), len(finder.cuts)


def remote_references(text: str) -> list[str]:
    """Every remote script src / stylesheet href left in a page (for tests and a last check)."""
    finder = _RemoteFinder(text)
    finder.feed(text)
    finder.close()
    return [text[start:end][:120] for start, end in finder.cuts]


def render_report(notebook: str | Path | nbformat.NotebookNode, html_path: str | Path, *, title: str | None = None,
                  index_href: str | None = "../index.html") -> Path:
    """Write the notebook's outputs (no code) as one self-contained HTML file."""
    nb = notebook if isinstance(notebook, nbformat.NotebookNode) else nbformat.read(notebook, as_version=4)
    html_path = Path(html_path)
    resources = {"metadata": {"name": title or html_path.stem}}
    if index_href:
        resources["idbridge_bar"] = f"<a href='{html.escape(index_href)}'>&larr; run summary</a>"
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    body, _removed = strip_remote(body)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(body, encoding="utf-8")
    return html_path


def figure_count(text: str) -> int:
    """plotly figures in a rendered report (each is a div of class plotly-graph-div)."""
    return len(figure_ids(text))


def figure_ids(text: str) -> list[str]:
    return re.findall(r'<div\b[^>]*\bclass="plotly-graph-div"[^>]*\bid="([^"]+)"', text)


# ---------------------------------------------------------------------------------------------------- run index
_INDEX_CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#212529}
table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #dee2e6;padding:4px 8px;text-align:left}
th{background:#f1f3f5}.exit0{color:#2b8a3e}.exit1,.exit2,.exit3{color:#c92a2a}.muted{color:#868e96}
.critical{color:#8b0000;font-weight:600}.high{color:#d9480f;font-weight:600}.medium{color:#e67700}"""


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _link(href: str | None, text: str) -> str:
    return f"<a href='{html.escape(href)}'>{html.escape(text)}</a>" if href else html.escape(text)


def _findings_section(run_dir: Path) -> str:
    import json

    path = run_dir / "findings.json"
    if not path.exists():
        return "<p class='muted'>No checks were evaluated in this run (no snapshot).</p>"
    findings = json.loads(path.read_text(encoding="utf-8"))
    order = list(SEVERITIES)
    counts = {s: sum(1 for f in findings if f["severity"] == s) for s in order}
    by_check: dict[str, dict] = {}
    for f in findings:
        entry = by_check.setdefault(f["check_id"], {"severity": f["severity"], "title": f["title"], "n": 0})
        entry["n"] += 1
    rows = sorted(by_check.items(), key=lambda kv: (-order[::-1].index(kv[1]["severity"]), -kv[1]["n"]))
    summary = _table(order + ["total"], [[str(counts[s]) for s in order] + [str(len(findings))]])
    detail = _table(["severity", "check", "subjects"],
                    [[f"<span class='{e['severity']}'>{e['severity']}</span>",
                      f"{html.escape(cid)} — {html.escape(e['title'])}", str(e["n"])] for cid, e in rows])
    return (summary + "<p>" + _link("findings.csv", "findings.csv") + " · " + _link("findings.json", "findings.json")
            + " · " + _link("findings-checks.csv", "every check and its outcome") + "</p>" + detail)


def _sources_section(run_dir: Path) -> str:
    import json

    manifest = run_dir / "snapshot" / "manifest.json"
    if not manifest.exists():
        return "<p class='muted'>No snapshot in this run.</p>"
    body = json.loads(manifest.read_text(encoding="utf-8"))
    rows = [[html.escape(name), html.escape(rec["status"].replace("_", " ")), str(sum(rec["rows"].values())),
             html.escape(rec.get("error") or "")] for name, rec in body["sources"].items()]
    return (f"<p>Collected {html.escape(body.get('collected_at', ''))}; window "
            f"{html.escape(body.get('window', {}).get('start', ''))} – {html.escape(body.get('window', {}).get('end', ''))}."
            " The snapshot is kept in <code>snapshot/</code>: the next run compares itself with it.</p>"
            + _table(["source", "status", "rows", "why"], rows))


def write_index(run_dir: Path, record: dict) -> Path:
    """index.html of a run: verdict and exit code, the reports, findings, and what was collected."""
    code = record["exit_code"]
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in record["reasons"])
    reports = [[_link(n["report"], n["title"]), "ok" if n["ok"] else f"<b>failed</b>: {html.escape(n['error'] or '')}",
                f"{n['seconds']:.1f} s", _link(n["notebook"], "notebook")] for n in record["notebooks"]]
    skipped = "".join(f"<li>{html.escape(s)}</li>" for s in record.get("skipped", []))
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>idbridge run — {html.escape(record['engagement'])}</title><style>{_INDEX_CSS}</style></head><body>"
        f"<h1>idbridge run — {html.escape(record['engagement'])}{' (sandbox)' if record.get('sandbox') else ''}</h1>"
        f"<p>{html.escape(record['started'])} → {html.escape(record['finished'])} · folder "
        f"<code>{html.escape(record['run_dir'])}</code></p>"
        f"<h2 class='exit{code}'>Exit {code}: {html.escape(record['exit_meaning'])}</h2>"
        + (f"<ul>{reasons}</ul>" if reasons else "")
        + "<h2>Reports</h2>" + _table(["report", "status", "time", "audit record"], reports)
        + (f"<p class='muted'>Not run:</p><ul class='muted'>{skipped}</ul>" if skipped else "")
        + "".join(f"<p>{_link(href, text)}</p>" for href, text in record.get("links", []))
        + f"<h2>Findings</h2><p class='muted'>fail_on = {html.escape(record['fail_on'])}</p>"
        + _findings_section(run_dir)
        + "<h2>What was collected</h2>" + _sources_section(run_dir)
        + "<p class='muted'>" + _link("run.json", "run.json") + " · " + _link("run.log", "run.log") + " · "
        + _link("parameters.yaml", "parameters.yaml") + "</p></body></html>")
    index = run_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
