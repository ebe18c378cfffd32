"""report.safe, the one way tenant data reaches a report: escaped HTML text, inert Markdown, plotly labels that are
not plotly markup, Text blocks whose values are text, tables that escape every cell, links that stay in the run."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest

from idbridge.report import safe

PAYLOADS = ["<script>document.title='x'</script>", "<img src=x onerror=document.title='img'>",
            "\"><svg onload=document.title='svg'>", '<a href="https://evil.example">Click to approve</a><br><b>A</b>',
            "=cmd|' /C calc'!A0", '=HYPERLINK("http://x","y")', "+1+1", "@SUM(1)", "-2+3", "../../etc/x"]
# What a payload may never become in HTML: an element that runs or links (the test's own markup is checked apart).
ELEMENTS = re.compile(r"<\s*(script|img|svg|a|b|br|iframe)\b", re.IGNORECASE)


def inert(markup: str) -> bool:
    return not ELEMENTS.search(markup)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_html_text_escapes_markup_and_quotes(payload):
    escaped = safe.html_text(payload)
    assert inert(escaped) and '"' not in escaped and "'" not in escaped
    assert f"<td title='{escaped}'>{escaped}</td>".count("<") == 2, "neither content nor attribute breaks out"
    assert safe.html_text(None) == "" and safe.html_text(3) == "3"


def test_plotly_text_turns_plotly_markup_into_characters():
    label = '<a href="https://evil.example">Click to approve</a><br><b>AWS-Prod-Admins</b> & co'
    assert safe.plotly_text(label) == ('&lt;a href="https://evil.example"&gt;Click to approve&lt;/a&gt;&lt;br&gt;'
                                       '&lt;b&gt;AWS-Prod-Admins&lt;/b&gt; &amp; co')
    assert safe.plotly_text("&lt;b&gt;") == "&amp;lt;b&amp;gt;", "an entity in the data stays the text it was"
    assert safe.plotly_labels(["<b>x</b>", None, 3]) == ["&lt;b&gt;x&lt;/b&gt;", "", "3"]
    assert safe.plotly_text("AWS-Prod-Admins") == "AWS-Prod-Admins"


@pytest.mark.parametrize("payload", PAYLOADS + ["https://evil.example", "www.evil.example/x", "mallory@evil.example",
                                                "[a](javascript:alert(1))", "**bold** _it_ `code` # h", "- item",
                                                "1. item", "![i](x)", "&lt;b&gt; \\<b\\>"])
def test_markdown_text_renders_as_the_same_text_and_nothing_else(payload):
    from nbconvert.filters import markdown2html

    rendered = markdown2html("Name: " + safe.markdown_text(payload))
    assert rendered.startswith("<p>") and rendered.count("<") == 2, rendered  # one paragraph, no other element
    assert html.unescape(rendered.strip()[3:-4]) == "Name: " + payload


def test_text_escapes_every_value_and_keeps_the_template_markup():
    text = safe.Text("**{who}** holds `{what}` on {where}\n\n- {who}\n- plain", who=PAYLOADS[0], what=PAYLOADS[3],
                     where=PAYLOADS[2])
    shown = text._repr_html_()
    assert inert(shown.replace("<strong>", "").replace("<code>", ""))
    assert "<strong>&lt;script&gt;" in shown and "<code>&lt;a href=&quot;" in shown and "<ul><li>" in shown
    assert str(text) == f"**{PAYLOADS[0]}** holds `{PAYLOADS[3]}` on {PAYLOADS[2]}\n\n- {PAYLOADS[0]}\n- plain"
    assert not hasattr(text, "_repr_markdown_"), "no Markdown renderer ever sees a Text"


def test_text_escapes_its_template_too():
    """Data inlined into a template by mistake (an f-string) can fake bold at most, never an element."""
    shown = safe.Text(f"No access for {PAYLOADS[1]} {PAYLOADS[3]}")._repr_html_()
    assert inert(shown) and "&lt;img src=x" in shown


def test_text_values_with_braces_and_format_specs():
    assert safe.Text("{n:.1f} s for {name}", n=2.345, name="{not a field}")._repr_html_() == \
        "<div class='idbridge-text tex2jax_ignore'><p>2.3 s for {not a field}</p></div>"
    assert str(safe.Text("literal {braces} without values")) == "literal {braces} without values"


def test_items_make_a_list_of_escaped_values():
    lines, values = safe.items("p", PAYLOADS[:3])
    shown = safe.Text("Problems:\n" + lines, **values)._repr_html_()
    assert shown.count("<li>") == 3 and inert(shown)


def test_table_escapes_cells_headers_and_index():
    frame = pd.DataFrame({PAYLOADS[0]: [PAYLOADS[1], PAYLOADS[3]], "n": [1, None]}, index=[PAYLOADS[2], "b"])
    assert inert(safe.table(frame).to_html())
    assert inert(safe.table(frame, index=True).to_html())
    assert "&lt;img src=x" in safe.table(frame).to_html()


def test_a_dataframe_shown_by_itself_is_escaped_by_pandas():
    """The reports return plain DataFrames too: their HTML repr escapes (pandas' escape=True), columns included."""
    frame = pd.DataFrame({PAYLOADS[0]: [PAYLOADS[1], PAYLOADS[3]]}, index=[PAYLOADS[2], "b"])
    assert inert(frame._repr_html_()) and "&lt;script&gt;" in frame._repr_html_()


@pytest.mark.parametrize("href, kept", [("reports/20_access_review.html", True), ("../index.html", True),
                                        ("setup/index.html", True), ("javascript:alert(1)", False),
                                        (" JavaScript:alert(1)", False), ("data:text/html,x", False),
                                        ("https://evil.example", False), ("//evil.example/x", False),
                                        ("\\\\evil.example\\x", False), ("", False), (None, False)])
def test_local_href_keeps_only_links_into_the_run(href, kept):
    assert (safe.local_href(href) is not None) == kept
    assert safe.local_href("a'b.html") == "a&#x27;b.html"


def test_reports_reach_html_only_through_the_safe_module():
    """One escaping path: no other module of the library renders Markdown, escapes by hand or styles a table."""
    from idbridge.core.paths import REPO_ROOT

    library = REPO_ROOT / "lib" / "idbridge"
    forbidden = re.compile(r"\bMarkdown\(|_repr_markdown_|\bhtml\.escape\(|\.style\b")
    offenders = [f"{path.relative_to(library)}:{number}: {line.strip()}"
                 for path in sorted(library.rglob("*.py")) if "sandbox" not in path.parts and path.name != "safe.py"
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                 if forbidden.search(line) and not line.lstrip().startswith("#")]
    assert not offenders, "use idbridge.report.safe:\n" + "\n".join(offenders)
