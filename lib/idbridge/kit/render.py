"""Render an executed notebook as a self-contained HTML report: no code, no network.

nbconvert's stock template links require.js, MathJax and mermaid from a CDN, and plotly's notebook renderer adds a
MathJax <script src> from a CDN to every figure. A report is read offline (mailed, archived, opened on an
air-gapped laptop), so every remote script or stylesheet is left out. plotly.js itself travels inline in the
first figure's output (plotly's `notebook` renderer, set by idbridge.kit.notebook.setup): once per report.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat

from idbridge.report.safe import html_text
from idbridge.core.files import write_text_atomic

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
        resources["idbridge_bar"] = f"<a href='{html_text(index_href)}'>&larr; run summary</a>"
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    body, _removed = strip_remote(body)
    return write_text_atomic(html_path, body)


def figure_count(text: str) -> int:
    """plotly figures in a rendered report (each is a div of class plotly-graph-div)."""
    return len(figure_ids(text))


def figure_ids(text: str) -> list[str]:
    return re.findall(r'<div\b[^>]*\bclass="plotly-graph-div"[^>]*\bid="([^"]+)"', text)
