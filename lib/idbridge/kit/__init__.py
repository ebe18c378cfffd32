"""The kit package.

    execute.py           Run one notebook headless with papermill's Python API, keep it as the audit record, render it…
    index.py             index.html of a run: the verdict in words first, then the reports, the findings and what was…
    notebook.py          What every idbridge notebook calls first
    notebook_sources.py  The kit's notebooks as cell lists: `idbridge dev make-notebooks` writes them to notebooks/…
    preflight.py         Preflight: can idbridge reach both sides with these parameters, and what does it see there?
    registry.py          The one list of the kit's notebooks, in the order `idbridge run` runs them
    render.py            Render an executed notebook as a self-contained HTML report: no code, no network
    run.py               `idbridge run`: the kit's notebooks headless, in order, in one process, into one run folder
"""
