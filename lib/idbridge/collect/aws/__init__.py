"""The AWS collectors (Identity Center, identity store, Organizations, CloudTrail) and their tables.

    collectors.py  AWS collectors: one plain function per AWS source of catalogue.SOURCES, run by the runner on worker…
    tables.py      AWS answers as the catalogue's tables: values and frames the AWS collectors share
    trail.py       CloudTrail LookupEvents for the events idbridge reads, and one table row per event
"""
