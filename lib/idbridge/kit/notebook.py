"""What every idbridge notebook calls first. Notebooks hold narrative and one call per cell; this is the call."""

from __future__ import annotations

from pathlib import Path

from idbridge.core.parameters import Parameters, load_parameters


def setup(params_file: str | Path) -> Parameters:
    """Validate the parameters and set up display so that rendered reports show tables and charts offline."""
    import pandas as pd
    import plotly.io as pio

    # Under papermill plotly's default renderer writes a mime bundle nbconvert's HTML drops; the 'notebook'
    # renderer embeds plotly.js in the output and shows with no network.
    pio.renderers.default = "notebook"
    # A small template of our own: plotly's default writes ~9 KB of it into every figure of a report.
    import plotly.graph_objects as go

    pio.templates["idbridge"] = go.layout.Template(layout=dict(
        font=dict(family="system-ui, sans-serif", size=12), paper_bgcolor="white", plot_bgcolor="white",
        colorway=["#1971c2", "#e8590c", "#2f9e44", "#c2255c", "#6741d9", "#868e96"],
        xaxis=dict(gridcolor="#e9ecef", zerolinecolor="#ced4da", automargin=True),
        yaxis=dict(gridcolor="#e9ecef", zerolinecolor="#ced4da", automargin=True)))
    pio.templates.default = "idbridge"
    # Nothing hidden or cut: every row and every character (the report's tables page and search instead).
    pd.set_option("display.max_rows", None)
    pd.set_option("display.max_colwidth", None)
    # Tenant names are text: never typeset as LaTeX where a viewer has MathJax (JupyterLab) — "$\\href{…}$".
    pd.set_option("display.html.use_mathjax", False)
    pd.set_option("styler.html.mathjax", False)
    _tables_for_readers()
    return load_parameters(params_file)


def _tables_for_readers() -> None:
    """Every DataFrame a cell shows becomes a report table (report.safe.table_html): readable headers, no
    index column, no NaN/None, escaped. Outside IPython there is nothing to set."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    import pandas as pd

    from idbridge.report.safe import table_html

    shell.display_formatter.formatters["text/html"].for_type(pd.DataFrame, lambda frame: table_html(frame))
