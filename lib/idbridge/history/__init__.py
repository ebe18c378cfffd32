"""History of an engagement: its runs, and what changed between two of them.

    diff.py    What changed between two snapshots: access gained and lost, new administrators, assignments, findings…
    report.py  Tables and figures of notebooks/30_changes: what changed since the previous run, and findings over time
    runs.py    History of an engagement: its run folders, the previous run of a run, and findings over time
"""
