"""Render an executed notebook as a self-contained HTML report: no code, no network.

nbconvert's stock template links require.js, MathJax and mermaid from a CDN, and plotly's notebook renderer adds a
MathJax <script src> from a CDN to every figure. A report is read offline (mailed, archived, opened on an
air-gapped laptop), so every remote script or stylesheet is left out. plotly.js itself travels inline in the
first figure's output (plotly's `notebook` renderer, set by idbridge.kit.notebook.setup): once per report.

What every report shares is added here, so that each notebook benefits: the report stylesheet (severity and outcome
colours, the header, the verdict banner, expandable findings, a print stylesheet), a table of contents built from
the section headings, interactive tables (DataTables, as shipped by the itables package, run on the escaped tables
of report.safe.table_html: sort, filter per column, search, paging), a failure panel in place of papermill's banner
and the Python traceback (the traceback stays in the output notebook and run.log), and no local absolute path.
plotly.js (4.8 MB) and the table library travel gzip-compressed and are unpacked by the browser
(DecompressionStream), which keeps a report with charts under 2.5 MB while it stays one offline file.
"""

from __future__ import annotations

import base64
import copy
import gzip
import re
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import nbformat

from idbridge.report.safe import html_text
from idbridge.core.files import write_text_atomic
from idbridge.core.paths import REPO_ROOT

_REMOTE = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)

# The lab template without its CDN blocks, and a small header linking back to the run's index.
_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}<script>{{ resources.idbridge_js }}</script>{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_css -%}
<style>{{ resources.idbridge_css }}</style>
{%- endblock html_head_css -%}
{%- block body_header -%}
{{ super() }}
<div class="idbridge-bar">{% if resources.idbridge_bar %}{{ resources.idbridge_bar }} · {% endif %}<!--idbridge-toc--></div>
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


# Charts print at most this wide (CSS pixels; an A4 page less its margins is ~720): wider ones are scaled down.
_PRINT_WIDTH = 600
# Defined first in every report: unpack a gzip+base64 asset with the browser's own DecompressionStream.
_HEAD_JS = """window.idbridgeUnpack=function(b64){var s=atob(b64),b=new Uint8Array(s.length);
for(var i=0;i<s.length;i++)b[i]=s.charCodeAt(i);
return new Response(new Blob([b]).stream().pipeThrough(new DecompressionStream('gzip'))).text();};
window.idbridgeFit=function(gd){var w=gd.getBoundingClientRect().width||gd.offsetWidth;
if(w)gd['style'].setProperty('--idbridge-print-zoom',String(Math.min(1,%d/w)));};""" % _PRINT_WIDTH

_PLOTLY_BLOCK = re.compile(r"<script>/\*\*\n\* plotly\.js v[\s\S]*?</script>")


def _packed(text: str) -> str:
    return base64.b64encode(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)).decode("ascii")


@lru_cache(maxsize=4)
def _packed_plotly(source: str) -> str:
    return _packed(source)


def _plotly_loader(match: re.Match) -> str:
    """plotly.js compressed; until it is unpacked, Plotly.newPlot waits for it (each figure's script calls it)."""
    source = match.group(0)[len("<script>"):-len("</script>")]
    version = re.search(r"plotly\.js v([\w.]+)", source)
    return (f"<script class='idbridge-plotly' data-version='{version.group(1) if version else ''}'>(function(){{"
            "var ready=idbridgeUnpack('" + _packed_plotly(source) + "').then(function(src){"
            "var s=document.createElement('script');s.textContent=src;document.head.appendChild(s);"
            "return window.Plotly;});window.Plotly={newPlot:function(){var a=arguments;return ready.then("
            "function(P){return P.newPlot.apply(P,a).then(function(gd){idbridgeFit(gd);return gd;});});}};"
            "window.addEventListener('resize',function(){document.querySelectorAll('.plotly-graph-div')"
            ".forEach(idbridgeFit);});})();</script>")


@lru_cache(maxsize=1)
def _table_assets() -> tuple[str, str]:
    """DataTables as the itables package ships it (an ES module and its stylesheet), compressed."""
    from importlib.resources import files

    folder = files("itables") / "html"
    return (_packed((folder / "dt_bundle.js").read_text(encoding="utf-8")),
            _packed((folder / "dt_bundle.css").read_text(encoding="utf-8")))


def _tables_script() -> str:
    """Make every report table (class idbridge-table) sortable, filterable per column, searchable and paged;
    large table bodies travel compressed (_pack_tables) and are put back first."""
    js, css = _table_assets()
    return ("<script>(function(){var packed=[].slice.call(document.querySelectorAll('tbody[data-packed]'));"
            "Promise.all(packed.map(function(b){return idbridgeUnpack(b.dataset.packed).then(function(h){"
            "b.innerHTML=h;b.removeAttribute('data-packed');});})).then(function(){"
            "var tables=[].slice.call(document.querySelectorAll('table.idbridge-table'))"
            ".filter(function(t){return t.tHead&&t.tBodies.length&&!t.querySelector('td[colspan]');});"
            "if(!tables.length){document.documentElement.dataset.tables='none';return;}"
            "idbridgeUnpack('" + css + "').then(function(text){var s=document.createElement('style');"
            "s.textContent=text;document.head.insertBefore(s,document.head.firstChild);});"
            "return idbridgeUnpack('" + js + "').then(function(src){var url=URL.createObjectURL(new Blob([src],"
            "{type:'text/javascript'}));return import(url);}).then(function(m){tables.forEach(function(t){"
            "var rows=t.tBodies[0].rows.length;if(rows>10){var foot=t.createTFoot().insertRow();"
            "[].forEach.call(t.tHead.rows[0].cells,function(){foot.appendChild(document.createElement('th'));});}"
            "new m.ITable(t,{order:[],paging:rows>10,pageLength:10,autoWidth:false,"
            "column_filters:rows>10?'footer':false,"
            "lengthMenu:[10,25,100,{label:'all',value:-1}],"
            "layout:{topStart:rows>10?'pageLength':null,topEnd:'search',bottomStart:'info',"
            "bottomEnd:rows>10?'paging':null}});});"
            "document.documentElement.dataset.tables='ready';});}).catch(function(e){"
            "document.documentElement.dataset.tables='failed: '+e;});})();</script>")


_TABLE_BODY = re.compile(r"(<table class=[\"']idbridge-table[\"']>\s*<thead>.*?</thead>)\s*<tbody>(.*?)</tbody>\s*</table>", re.S)
_PACK_ABOVE = 20_000  # characters of table body; smaller ones stay readable as they are


def _pack_tables(body: str) -> str:
    def pack(match: re.Match) -> str:
        if len(match.group(2)) < _PACK_ABOVE:
            return match.group(0)
        # The body is our own escaped markup (report.safe.table_html), put back as it was written.
        return f"{match.group(1)}<tbody data-packed='{_packed(match.group(2))}'></tbody></table>"
    return _TABLE_BODY.sub(pack, body)


_LAB_STYLE = re.compile(r'<style type="text/css">[\s\S]*?</style>')


def _pack_styles(body: str) -> str:
    """JupyterLab's stylesheets (260 KB) compressed, put in place ahead of the report's own at load."""
    found = _LAB_STYLE.findall(body)
    if not found:
        return body
    css = "\n".join(block[len('<style type="text/css">'):-len("</style>")] for block in found)
    loader = ("<script>idbridgeUnpack('" + _packed(css) + "').then(function(t){var s=document.createElement("
              "'style');s.textContent=t;document.head.insertBefore(s,document.head.firstChild);"
              "document.documentElement.dataset.styles='ready';});</script>")
    first = body.index(found[0])
    body = _LAB_STYLE.sub("", body)
    return body[:first] + loader + body[first:]


_HEADING = re.compile(r'<h([23]) id="([^"]+)">(.*?)<a class="anchor-link"', re.S)


def _toc(body: str) -> str:
    links = [f"<a class='h{level}' href='#{anchor}'>{text}</a>" for level, anchor, text in _HEADING.findall(body)]
    return f"<nav class='idbridge-toc' aria-label='Contents'><b>Contents:</b> {' '.join(links)}</nav>" if links else ""


def _scrub_paths(body: str, roots: list[tuple[str, str]]) -> str:
    """No local absolute path in a report: the run folder's and the repository's become relative."""
    for root, replacement in roots:
        if len(root) > 1:
            body = body.replace(root + "/", replacement)
    return body


# ------------------------------------------------------------------------------------------------ failures
_HINTS = {
    "NotCollected": "Collect again once the source can be read (the reason above says what was missing), or run "
                    "with the sources that can be collected: the checks that need this one say not checked.",
    "InputError": "Fix the file and key named above, then run again.",
    "ValidationError": "Fix the parameters file as the message says, then run again.",
    "ConnectError": "Check the network path to the endpoint in the parameters file (DNS, proxy, firewall), then "
                    "run `idbridge preflight`.",
    "gaierror": "The host name could not be resolved: check the endpoint in the parameters file and DNS, then run "
                "`idbridge preflight`.",
    "ClientError": "AWS refused the call: check the audit identity's permissions (docs/permissions.md).",
}


def failure_panel(section: str, ename: str, evalue: str, notebook: str) -> str:
    hint = _HINTS.get(ename) or next((h for k, h in _HINTS.items() if k.lower() in evalue.lower()), None) or (
        "Fix the cause named above and run the notebook again.")
    return ("<div class='idbridge-failure' role='alert'><h3>This report stopped early</h3><dl>"
            f"<dt>What failed</dt><dd>{html_text(section or 'a step of this report')}</dd>"
            f"<dt>Why</dt><dd>{html_text(ename)}: {html_text(evalue)}</dd>"
            f"<dt>What to do</dt><dd>{html_text(hint)} The technical detail (traceback) is in "
            f"<code>notebooks/{html_text(notebook)}.ipynb</code> and <code>run.log</code>.</dd></dl>"
            "<p class='muted'>The sections after this point were not produced.</p></div>")


def for_readers(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """A copy of the executed notebook as a reader gets it: papermill's error banner cells gone, a failed
    cell's traceback replaced by one failure panel, warnings (stderr) dropped."""
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])]
    section, said, kept = "", set(), []
    for cell in nb.cells:
        if said:  # after a failure nothing ran: its sections would be empty headings
            break
        kept.append(cell)
        if cell.cell_type == "markdown":
            heading = next((line.lstrip("#").strip() for line in cell.source.splitlines() if line.startswith("#")),
                           None)
            section = heading or section
            continue
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                continue
            if output.get("output_type") == "error":
                key = (output.get("ename", ""), output.get("evalue", ""))
                if key in said:  # one error said once
                    continue
                said.add(key)
                output = nbformat.v4.new_output("display_data", data={"text/html": failure_panel(
                    section, str(key[0]), str(key[1]), name)})
            outputs.append(output)
        cell["outputs"] = outputs
    nb.cells = kept
    return nb


def render_report(notebook: str | Path | nbformat.NotebookNode, html_path: str | Path, *, title: str | None = None,
                  index_href: str | None = "../index.html", run_dir: str | Path | None = None) -> Path:
    """Write the notebook's outputs (no code) as one self-contained HTML file."""
    nb = notebook if isinstance(notebook, nbformat.NotebookNode) else nbformat.read(notebook, as_version=4)
    html_path = Path(html_path)
    nb = for_readers(nb, html_path.stem)
    from idbridge.report.stylesheet import REPORT_CSS

    resources = {"metadata": {"name": title or html_path.stem}, "idbridge_css": REPORT_CSS, "idbridge_js": _HEAD_JS}
    if index_href:
        resources["idbridge_bar"] = f"<a href='{html_text(index_href)}'>&larr; run summary</a>"
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    body, _removed = strip_remote(body)
    # Paths first: the compressed assets below are base64, which must not be searched for text.
    run_root = Path(run_dir) if run_dir else html_path.parent.parent
    roots = [(str(run_root.resolve()), ""), (str(run_root), ""), (str(REPO_ROOT.resolve()), ""),
             (str(Path.home()), "~/")]
    body = _scrub_paths(body, sorted(set(roots), key=lambda r: -len(r[0])))
    body = _PLOTLY_BLOCK.sub(_plotly_loader, body, count=1)
    body = _pack_tables(_pack_styles(body))
    body = body.replace("<!--idbridge-toc-->", _toc(body), 1)
    cut = body.rindex("</body>")
    body = body[:cut] + _tables_script() + body[cut:]
    return write_text_atomic(html_path, body)


def figure_count(text: str) -> int:
    """plotly figures in a rendered report (each is a div of class plotly-graph-div)."""
    return len(figure_ids(text))


def figure_ids(text: str) -> list[str]:
    return re.findall(r'<div\b[^>]*\bclass="plotly-graph-div"[^>]*\bid="([^"]+)"', text)
