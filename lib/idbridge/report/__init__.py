"""Tables and figures for the notebooks: each function returns one DataFrame or one plotly figure."""
