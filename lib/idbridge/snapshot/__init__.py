"""The snapshot: the contract between collection and analysis.

    schema.py  What a collection gathers: each source, the tables it writes, and their columns
    store.py   Snapshots: one folder per collection, one Parquet table per entity and a manifest
"""
