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
    pd.set_option("display.max_rows", 200)
    pd.set_option("display.max_colwidth", 120)
    # Tenant names are text: never typeset as LaTeX where a viewer has MathJax (JupyterLab) — "$\\href{…}$".
    pd.set_option("display.html.use_mathjax", False)
    pd.set_option("styler.html.mathjax", False)
    return load_parameters(params_file)
