"""Findings where security teams look: a run's findings artifact as OCSF events (ocsf.py) and in AWS Security Hub
(securityhub.py). Both read a run folder's findings.json (checks/artifact.py), never a snapshot or a cloud for the
findings themselves, and both name a finding with the same stable id (findings.py)."""
