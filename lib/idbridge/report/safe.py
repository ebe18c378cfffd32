"""The one way tenant data reaches a report: as text, never as markup.

Tenant data is written by people the auditor does not control: a B2B guest sets their own display name, and whoever
may name a group, an AWS account, a permission set or a tag writes into every report. Reports are HTML (notebook
outputs rendered by nbconvert, the run's index, plotly charts), so every value from data goes through one of these:

- `html_text`: text for an HTML element or attribute (`&`, `<`, `>`, quotes as entities); `local_href` for a link,
  which must stay inside the run folder;
- `Text`: a sentence or short block a notebook cell shows, as HTML. Its template is the code's own words, with a
  little markup (**bold**, *emphasis*, `code`, "### " headings, "- " / "1. " list lines, blank lines between paragraphs); each
  `{name}` is filled with a value as escaped text. No Markdown renderer sees data: nbconvert's would pass raw HTML
  through and turn a bare URL into a link;
- `table`: a pandas Styler that escapes every cell and header (a DataFrame's own HTML repr escapes already);
- `plotly_text` / `plotly_labels`: plotly renders a subset of HTML in titles, axis ticks, hover text, legends and
  sankey node labels (<a href>, <b>, <br>, <span style> ...); `&`, `<` and `>` become entities, which plotly shows
  as the characters;
- `markdown_text`: for the rare place Markdown from data cannot be avoided (the reports use none): HTML and Markdown
  punctuation escaped, and the `:` / `@` of URLs and mail addresses too, so that nothing autolinks.
"""

from __future__ import annotations

import html
import re
import string
from typing import Any, Iterable


def html_text(value: Any) -> str:
    """`value` as HTML text, fit for an element's content or a quoted attribute (None: empty)."""
    return "" if value is None else html.escape(str(value), quote=True)


_SCHEME = re.compile(r"^\s*([a-z][a-z0-9+.-]*:|[/\\]{2})", re.IGNORECASE)


def local_href(value: Any) -> str | None:
    """`value` as an href attribute when it is a relative link (a file of the run folder), else None: a link that
    names a scheme (javascript:, data:, https:) or another host (//host) is shown as text, never followed."""
    if not value or _SCHEME.match(str(value)):
        return None
    return html_text(value)


_PLOTLY = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def plotly_text(value: Any) -> str:
    """`value` for a plotly title, label, tick or hover text: shown as written, never as plotly's HTML."""
    return "" if value is None else str(value).translate(_PLOTLY)


def plotly_labels(values: Iterable[Any]) -> list[str]:
    return [plotly_text(v) for v in values]


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
_MARKDOWN_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", ":": "&#58;", "@": "&#64;"}


def markdown_text(value: Any) -> str:
    """`value` as literal text inside Markdown: no HTML, no emphasis, link, list or heading, no autolink."""
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", "" if value is None else str(value))
    return "".join(_MARKDOWN_ENTITIES.get(c, c) for c in text).replace("\n", " ")


# --------------------------------------------------------------------------------------------------- Text


class _Escaping(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        return html_text(super().format_field("" if value is None else value, format_spec))


_BOLD = re.compile(r"\*\*(.+?)\*\*")
_EMPHASIS = re.compile(r"(?<![*\w])\*(?![\s*])([^*]+?)(?<!\s)\*(?![*\w])")
_CODE = re.compile(r"`([^`]+)`")
_BULLET = re.compile(r"^\s*[-*] (.*)$")
_NUMBERED = re.compile(r"^\s*\d+\. (.*)$")
_HEADING = re.compile(r"^(#{1,6}) (.*)$")


def _inline(escaped: str) -> str:
    return _CODE.sub(r"<code>\1</code>", _EMPHASIS.sub(r"<em>\1</em>", _BOLD.sub(r"<strong>\1</strong>", escaped)))


def _blocks(escaped: str) -> str:
    """The template's own markup as HTML (the template is escaped already; placeholders are still in it)."""
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    kind = ""

    def flush() -> None:
        nonlocal kind
        if paragraph:
            out.append("<p>" + "<br>".join(_inline(line) for line in paragraph) + "</p>")
            paragraph.clear()
        if items:
            out.append(f"<{kind}>" + "".join(f"<li>{_inline(item)}</li>" for item in items) + f"</{kind}>")
            items.clear()
        kind = ""

    for line in escaped.split("\n"):
        bullet, numbered, heading = _BULLET.match(line), _NUMBERED.match(line), _HEADING.match(line)
        if not line.strip():
            flush()
        elif heading:
            flush()
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif bullet or numbered:
            wanted = "ul" if bullet else "ol"
            if paragraph or (items and kind != wanted):
                flush()
            kind = wanted
            items.append((bullet or numbered).group(1))
        elif items:  # a continuation line of a list item
            items[-1] += " " + line.strip()
        else:
            paragraph.append(line)
    flush()
    return "".join(out)


class Text(str):
    """A sentence or short block for a notebook cell, shown as HTML: `template` is the code's own words (markup as
    in the module docstring), each `{name}` one of `values`, always shown as text. The template is escaped too:
    data inlined into it by mistake can fake at most bold or code, never an element or a link.

    As a str it is the template filled with the raw values (what logs and tests read)."""

    def __new__(cls, template: str = "", /, **values: Any) -> "Text":
        self = super().__new__(cls, template.format(**values) if values else template)
        self._html = _blocks(html.escape(template, quote=False))
        self._values = values
        return self

    def _repr_html_(self) -> str:
        body = _Escaping().format(self._html, **self._values) if self._values else self._html
        # tex2jax_ignore: where MathJax runs (JupyterLab), a value with $…$ is not typeset either.
        return f"<div class='idbridge-text tex2jax_ignore'>{body}</div>"


def items(name: str, values: Iterable[Any]) -> tuple[str, dict[str, Any]]:
    """A "- " list of values for a Text template: (the template lines, the values by placeholder name)."""
    values = list(values)
    fields = {f"{name}{i}": value for i, value in enumerate(values)}
    return "\n".join(f"- {{{field}}}" for field in fields), fields


def show(text: Text) -> None:
    """Display a Text from inside a function (outside Jupyter: nothing; the caller's exception says it all)."""
    try:
        from IPython.display import display
    except ImportError:
        return
    display(text)


# --------------------------------------------------------------------------------------------------- tables


_WORDS = {"id": "ID", "ids": "IDs", "upn": "UPN", "idc": "Identity Center", "aws": "AWS", "mfa": "MFA", "ip": "IP",
          "ou": "OU", "ous": "OUs", "scim": "SCIM", "saml": "SAML", "arn": "ARN", "url": "URL", "ca": "CA",
          "entra": "Entra", "cloudtrail": "CloudTrail", "(cloudtrail)": "(CloudTrail)", "cloudtrail)": "CloudTrail)"}
_NAMES = {"CloudTrail": "Cloudtrail"}  # product names the camelCase split would cut in two
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def readable(column: Any) -> str:
    """A column name as a reader's header: "check_id" and "accountId" become "Check ID" and "Account ID"."""
    text = str(column)
    for name, kept in _NAMES.items():
        text = text.replace(name, kept)
    words = _CAMEL.sub(" ", text).replace("_", " ").split()
    if not words:
        return str(column)
    shown = [_WORDS.get(w.lower(), w if i or not w[:1].islower() else w[:1].upper() + w[1:])
             if i == 0 else _WORDS.get(w.lower(), w.lower() if w[:1].isupper() and w[1:].islower() else w)
             for i, w in enumerate(words)]
    return " ".join(shown)


def cell_text(value: Any) -> str:
    """A value as a reader sees it: nothing for missing (never NaN, None or NaT), whole numbers without ".0",
    lists joined, yes/no for booleans."""
    try:
        import pandas as pd

        if value is None or (not isinstance(value, (list, tuple, dict, set)) and pd.isna(value)):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}" if abs(value) < 1e15 else str(value)
    if isinstance(value, (list, tuple, set)) or type(value).__name__ == "ndarray":
        return ", ".join(cell_text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {cell_text(v)}" for k, v in value.items())
    if hasattr(value, "isoformat") and type(value).__name__ == "Timestamp":
        return value.isoformat(sep=" ", timespec="minutes") if (value.hour or value.minute) else value.date().isoformat()
    return str(value)


_SEVERITY_RANK = {"critical": 5, "high": 4, "medium": 3, "low": 2, "info": 1}
_OUTCOMES = {"pass", "fail", "failed", "not checked", "not applicable", "check failed", "ok", "not_checked",
             "not_applicable", "success", "failure", "error"}


def _cell(column: str, value: Any) -> str:
    text = cell_text(value)
    key = column.lower()
    if key in ("severity", "risk", "highest severity") and text.lower() in _SEVERITY_RANK:
        return (f"<td data-order='{_SEVERITY_RANK[text.lower()]}'><span class='sev sev-{html_text(text.lower())}'>"
                f"{html_text(text)}</span></td>")
    if key in ("status", "outcome", "result") and text.lower() in _OUTCOMES:
        css = text.lower().replace(" ", "_")
        return f"<td><span class='outcome outcome-{html_text(css)}'>{html_text(text)}</span></td>"
    return f"<td>{html_text(text)}</td>"


def table_html(frame, *, index: bool = False) -> str:
    """The frame as one escaped HTML table for readers: readable headers, no row numbers (unless `index`),
    nothing truncated, nothing missing shown as NaN/None; severity and outcome cells as coloured words. In a
    report the table is made sortable, filterable, searchable and paged (kit.render)."""
    if index:
        frame = frame.reset_index()
    columns = [str(c) for c in frame.columns]
    head = "".join(f"<th>{html_text(readable(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_cell(readable(c), v) for c, v in zip(columns, row)) + "</tr>"
                   for row in frame.itertuples(index=False, name=None))
    if not len(frame):
        body = f"<tr><td colspan='{max(1, len(columns))}' class='muted'>none</td></tr>"
    return f"<table class='idbridge-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class DataTable:
    """A frame shown as a report table (table_html); `data` is the frame."""

    def __init__(self, frame, *, index: bool = False):
        self.data = frame
        self.index = index

    def to_html(self) -> str:
        return table_html(self.data, index=self.index)

    def _repr_html_(self) -> str:
        return self.to_html()


def table(frame, *, index: bool = False) -> DataTable:
    """The frame as a report table whose every cell and header is escaped HTML text (table_html)."""
    return DataTable(frame, index=index)
